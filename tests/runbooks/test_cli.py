"""`alertbot runbooks check` and `alertbot runbooks show`, as a user runs them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.runbooks.helpers import write_runbook

pytestmark = [pytest.mark.peer]
ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "runbooks"
RULES = ROOT / "rules" / "mlops.rules.yml"
SUMMARY = re.compile(r"^checked (\d+) runbook\(s\) with (\d+) promql block\(s\), (.*?)(?: against (\d+) alert\(s\) "
                     r"in (\d+) rules file\(s\))?: (\d+) error\(s\), (\d+) warning\(s\)$")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(["runbooks", *argv])
    out, err = capsys.readouterr()
    return code, out.splitlines(), err


def test_the_shipped_catalog_passes_against_the_shipped_rules(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "check", "--dir", str(SHIPPED), "--rules", str(RULES))
    assert (code, err) == (0, "")
    m = SUMMARY.match(lines[-1])
    assert m is not None, lines
    assert m.group(1, 2, 4, 5, 6, 7) == ("8", "43", "8", "1", "0", "0")
    assert m.group(3).startswith("parsed by promtool 2.42")
    assert len(lines) == 1


def test_broken_files_are_errors_with_file_and_line_and_the_rest_is_checked(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "rb"
    shutil.copytree(SHIPPED, d)
    (d / "bad-yaml.md").write_text("---\ntitle: x\nmatchers: [alertname=\"X\"\n---\n")
    (d / "bad-matcher.md").write_text("---\ntitle: x\nmatchers:\n  - 'alertname=~\"(\"'\n---\n")
    code, lines, _ = run(capsys, "check", "--dir", str(d), "--rules", str(RULES))
    assert code == 1
    assert lines[0].startswith(f"{d}/bad-matcher.md:4: error: bad matcher 'alertname=~\"(\"'")
    assert lines[1].startswith(f"{d}/bad-yaml.md:3: error: front matter is not valid YAML: expected ',' or ']'")
    m = SUMMARY.match(lines[-1])
    assert m is not None and m.group(1, 2, 6) == ("8", "43", "2")


def test_coverage_against_rules_missing_unused_duplicate_and_dangling_links(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "rb"
    write_runbook(d, "covered", ['alertname="Covered"'])
    write_runbook(d, "orphan", ['alertname="NoSuchAlert"'])
    write_runbook(d, "dup-a", ['alertname="Dup"', 'team="a"'])
    write_runbook(d, "dup-b", ['alertname="Dup"', 'severity="page"'])
    # same label, different values: never both match one alert, so not duplicates
    write_runbook(d, "drift-a", ['alertname="Drift"', 'model="a"'])
    write_runbook(d, "drift-b", ['alertname="Drift"', 'model="b"'])
    rules = tmp_path / "rules.yml"
    rules.write_text("""\
groups:
  - name: g
    rules:
      - alert: Covered
        expr: up == 0
      - alert: Uncovered
        expr: up == 0
      - alert: Dup
        expr: up == 0
        labels: {severity: page}
      - alert: Drift
        expr: psi > 0.2
      - alert: Dangling
        expr: up == 0
        annotations:
          runbook_url: https://git.example.com/x/blob/main/runbooks/dangling.md
      - alert: Elsewhere
        expr: up == 0
        annotations:
          runbook_url: https://wiki.example.com/elsewhere
""")
    code, lines, _ = run(capsys, "check", "--dir", str(d), "--rules", str(rules))
    assert code == 1
    assert lines[:-1] == [
        f"{rules}:6: error: alert Uncovered has no runbook: add {d}/uncovered.md with "
        'matchers: [alertname="Uncovered"]',
        f"{rules}:8: error: alert Dup matches {d}/dup-a.md, {d}/dup-b.md equally (2 matchers each): the file "
        "name decides; make one more specific",
        f"{rules}:13: error: alert Dangling: runbook_url points at dangling.md, which is not in the catalog",
        f"{d}/orphan.md: warning: matches no alert in the rules files",
    ]
    m = SUMMARY.match(lines[-1])
    assert m is not None and m.group(4, 5, 6, 7) == ("6", "1", "3", "1")


def test_same_matchers_twice_is_an_error_even_without_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runbook(tmp_path, "one", ['alertname="X"', 'team="a"'])
    write_runbook(tmp_path, "two", ['team="a"', 'alertname="X"'])
    code, lines, _ = run(capsys, "check", "--dir", str(tmp_path))
    assert code == 1
    assert lines[0] == (f"{tmp_path}/two.md: error: has the same matchers as {tmp_path}/one.md: the file name "
                        "decides which one alerts get; merge them or make one more specific")


QUERIES = """\
## Investigation

```promql
# unclosed
sum(rate(x[5m])
```

```promql
# two selectors in a row
foo bar
```

```promql
# fine
sum by (job) (rate(x{job="{{ .Labels.job }}"}[5m]))
```
"""


def test_promql_blocks_are_parsed_by_promtool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_runbook(tmp_path, "q", ['alertname="Q"'], body=QUERIES)
    code, lines, _ = run(capsys, "check", "--dir", str(tmp_path))
    assert code == 1
    assert lines[0] == f"{path}:8: error: promql block 'unclosed': unclosed '(' opened at character 4"
    # promtool's own words for what only a PromQL parser can see
    assert lines[1] == f"{path}:13: error: promql block 'two selectors in a row': 1:5: parse error: " \
                       'unexpected identifier "bar"'
    assert "parsed by promtool" in lines[-1] and "2 error(s)" in lines[-1]


def test_without_promtool_queries_are_checked_for_balance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_runbook(tmp_path, "q", ['alertname="Q"'], body=QUERIES)
    code, lines, _ = run(capsys, "check", "--dir", str(tmp_path), "--no-promtool")
    assert code == 1
    assert lines[0] == f"{path}:8: error: promql block 'unclosed': unclosed '(' opened at character 4"
    assert "checked for balance only (--no-promtool)" in lines[-1] and "1 error(s)" in lines[-1]


def test_check_fails_cleanly_on_a_missing_directory_or_promtool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["runbooks", "check", "--dir", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["runbooks", "check", "--dir", str(SHIPPED), "--promtool", str(tmp_path / "promtool")]) == 1
    assert "is not an executable promtool" in capsys.readouterr().err
    code, lines, _ = run(capsys, "check", "--dir", str(SHIPPED), "--rules", str(tmp_path / "missing.yml"))
    assert code == 1 and lines[0] == f"{tmp_path}/missing.yml: error: cannot read rules file: No such file or directory"


def test_show_prints_the_runbook_an_alert_gets(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "show", "--dir", str(SHIPPED), "ModelFeatureDrift", "model=fraud-detector",
                           "feature=transaction_amount")
    assert (code, err) == (0, "")
    assert lines[0] == "Model feature drift (PSI above 0.2)"
    assert lines[1] == f"  file:     {SHIPPED}/model-feature-drift.md (chosen by matchers alertname=\"ModelFeatureDrift\")"
    assert lines[2] == "  link:     https://git.example.com/mlops/alertbot/blob/main/runbooks/model-feature-drift.md"
    assert "First steps:" in lines and "  ... 1 more (--full)" in lines
    assert '    mlops_feature_psi{model="fraud-detector", feature="transaction_amount"}' in lines


def test_show_with_an_annotation_and_for_an_alert_without_a_runbook(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, "show", "--dir", str(SHIPPED), "APIHighErrorRate",
                         "--annotation", "runbook_url=https://wiki.example.com/api-errors")
    assert code == 0
    assert lines == ["Runbook (wiki.example.com)", "  link:     https://wiki.example.com/api-errors",
                     "  (an external runbook: alertbot shows the link only)"]
    code, lines, _ = run(capsys, "show", "--dir", str(SHIPPED), "DiskFull", "severity=warning")
    assert code == 1
    assert lines == [f'No runbook yet: add {SHIPPED}/disk-full.md with `matchers: [alertname="DiskFull"]`.']
    assert main(["runbooks", "show", "--dir", str(SHIPPED), "X", "novalue"]) == 1
    assert "label 'novalue' is not NAME=VALUE" in capsys.readouterr().err


def test_rules_files_are_checked_by_promtool_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_runbook(tmp_path / "rb", "broken", ['alertname="Broken"'])
    rules = tmp_path / "rules.yml"
    rules.write_text("groups:\n  - name: g\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m])\n")
    code, lines, _ = run(capsys, "check", "--dir", str(tmp_path / "rb"), "--rules", str(rules))
    assert code == 1
    assert lines[0] == (f'{rules}:5: error: promtool: group "g", rule 1, "Broken": could not parse expression: '
                        "1:16: parse error: unclosed left parenthesis")
    assert "1 error(s), 0 warning(s)" in lines[-1]
