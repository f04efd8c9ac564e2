"""Routing conformance: `alertbot` against what the real amtool 0.25 printed for the same input.

The expected outputs in data/ were recorded by gen/generate.py from /usr/bin/amtool (Debian
prometheus-alertmanager 0.25.0); see README.md. Comparison rules:
  * `routes test` / `routes show` on a valid config, `check-config` SUCCESS: stdout byte for byte and
    the exit code. stderr is compared only where amtool failed: its error message (without the
    `amtool: error: ` prefix) must appear in ours.
  * `check-config` FAILED: exit code 1 and amtool's error message contained in our output (ours may
    add file:line:path context around it).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
VALID_DIR = DATA / "valid"
INVALID_DIR = DATA / "invalid"

# Where today's Alertmanager deliberately differs from 0.25 we follow today's (README, "Alertmanager
# compatibility"). Each such difference is still checked, never skipped:
#  - parser differences (PARSER_KEYS): the case is run again with `--matchers-mode=classic`, Alertmanager
#    0.25's parser, and must then agree with amtool 0.25 byte for byte;
#  - wording differences (HEAD_WORDING): our output must carry today's wording instead of 0.25's;
#  - group_by_empty_override has no visible effect on receivers or trees (it changes group keys).
FOLLOW_HEAD: dict[str, str] = {
    "label_arg_braces": "today's amtool refuses label arguments that start with { or end with }",
    "utf8_label_names": "today's fallback parser accepts UTF-8 label names in matchers",
    "utf8_group_by": "today's Alertmanager accepts UTF-8 label names in group_by",
    "wildcard_group_by_message": "today's wording, without 0.25's 'other other' typo",
    "labels_message": "today's amtool wording for a non-equality label argument",
    "group_by_empty_override": "group_by: [] overrides the parent's (>= 0.31)",
}
PARSER_KEYS = {"label_arg_braces", "utf8_label_names", "utf8_group_by"}
HEAD_WORDING = {
    "cannot have wildcard group_by (`...`) and other other labels at the same time":
        "cannot have wildcard group_by (`...`) and other labels at the same time",
    "Failed to parse labels: labels must be specified as key=value pairs":
        "Labels must be specified as key=value pairs",
}

# Deliberate differences from Alertmanager itself, each with what we assert instead (README):
# invalid configs that we refuse as amtool does, but in our own words (go-yaml's type and syntax
# messages): exit code, FAILED, and a line number within one of go-yaml's;
OWN_WORDING = {
    "i081-matchers-string", "i082-continue-not-bool", "i086-routes-mapping", "i087-receivers-string",
    "i088-group-by-string", "i089-match-list", "i090-yaml-bad-indent", "i092-yaml-tab",
    "i093-yaml-unclosed-flow", "i094-yaml-unknown-anchor", "i096-yaml-scalar",
}
# configs Alertmanager refuses that we accept on purpose: exit 0, and a warning where we ignore something.
ACCEPTED = {
    "i102-slack-no-api-url": "Slack receivers post with the bot token; no api_url is needed",
    "i113-upstream-slack-no-api-url": "Slack receivers post with the bot token; no api_url is needed",
    "i115-upstream-victorops-no-apikey": "unsupported integrations are accepted and reported, not validated",
    "i116-upstream-sns-invalid": "unsupported integrations are accepted and reported, not validated",
}
WARNED = {"i115-upstream-victorops-no-apikey": "victorops_configs is not supported",
          "i116-upstream-sns-invalid": "sns_configs is not supported"}


def _load_valid() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(VALID_DIR.glob("c*.json"))]


VALID = _load_valid()
INVALID: list[dict[str, Any]] = json.loads((INVALID_DIR / "expected.json").read_text(encoding="utf-8"))
MULTI: list[dict[str, Any]] = json.loads((DATA / "multi" / "expected.json").read_text(encoding="utf-8"))
MANIFEST: dict[str, Any] = json.loads((DATA / "manifest.json").read_text(encoding="utf-8"))


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0]


def _marks(notes: list[dict[str, str]], stem: str = "") -> list[Any]:
    return []


def _case_notes(record: dict[str, Any], case: dict[str, Any] | None = None) -> list[dict[str, str]]:
    notes = list(record.get("differs_in_head") or [])
    if case is not None:
        notes.extend(case.get("differs_in_head") or [])
    return notes


ROUTE_TEST_PARAMS = [
    pytest.param(rec, case, id=f"{_stem(rec['config'])}/{case['id']}",
                 marks=_marks(_case_notes(rec, case), f"{_stem(rec['config'])}/{case['id']}"))
    for rec in VALID
    for case in rec["cases"]
]
CONFIG_PARAMS = [pytest.param(rec, id=_stem(rec["config"]), marks=_marks(_case_notes(rec), _stem(rec["config"])))
                 for rec in VALID]
INVALID_PARAMS = [pytest.param(e, id=_stem(e["config"]), marks=_marks(e.get("differs_in_head") or [])) for e in INVALID]


# --------------------------------------------------------------------------------------------
# Running our CLI
# --------------------------------------------------------------------------------------------


def run_ours(argv: list[str], cwd: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """Our CLI in-process, as `alertbot <argv>` run from cwd: (exit code, stdout, stderr)."""
    from bot.cli.main import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse and friends
        rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return int(rc or 0), out, err


def followed(notes: list[dict[str, str]]) -> set[str]:
    return {n["key"] for n in notes if n["key"] in FOLLOW_HEAD}


def head_expected(expected: dict[str, Any]) -> dict[str, Any]:
    """amtool 0.25's recorded output with 0.25's wording replaced by today's."""
    out = dict(expected)
    for old, new in HEAD_WORDING.items():
        out["stdout"] = out["stdout"].replace(old, new)
        out["stderr"] = out["stderr"].replace(old, new)
        if out.get("error"):
            out["error"] = out["error"].replace(old, new)
    return out


def run_checked(argv: list[str], cwd: Path, expected: dict[str, Any], notes: list[dict[str, str]],
                capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], dict[str, Any]]:
    """Runs our CLI the way the case's deliberate differences say (see FOLLOW_HEAD) and returns the
    argv used and the expectation to compare with."""
    keys = followed(notes)
    if keys & PARSER_KEYS:
        argv = [*argv, "--matchers-mode=classic"]
    return argv, head_expected(expected)


def amtool_error(stderr: str) -> str | None:
    """amtool's error message: what follows `amtool: error: `, without trailing blank lines."""
    i = stderr.find("amtool: error: ")
    if i < 0:
        return None
    return stderr[i + len("amtool: error: ") :].rstrip("\n")


def _show(name: str, text: str) -> str:
    lines = text.split("\n")
    return f"--- {name} ({len(text)} chars) ---\n" + "\n".join(f"  |{line}" for line in lines) + f"\n  repr: {text!r}\n"


def _fail(what: str, argv: list[str], problems: list[str], notes: list[dict[str, str]]) -> None:
    msg = [f"{what}: alertbot {' '.join(argv)!r}"] + problems
    for n in notes:
        msg.append(f"NOTE differs_in_head [{n['key']}]: {n['reason']}")
    pytest.fail("\n".join(msg), pytrace=False)


def compare_exact(expected: dict[str, Any], rc: int, out: str, err: str) -> list[str]:
    problems = []
    if rc != expected["exit"]:
        problems.append(f"exit code: amtool {expected['exit']}, alertbot {rc}")
    if out != expected["stdout"]:
        problems.append("stdout differs:\n" + _show("amtool", expected["stdout"]) + _show("alertbot", out))
    msg = amtool_error(expected["stderr"])
    if msg is not None and msg not in err:
        problems.append(f"amtool's error message is not in our stderr:\n  amtool: {msg!r}\n  ours:   {err!r}")
    if "Traceback" in err:
        problems.append("a traceback reached the user:\n" + err)
    return problems


_YAML_LINE_ERRORS = re.compile(r"yaml: unmarshal errors:\n((?:  line \d+: .*(?:\n|\Z))+)\Z|yaml: (line \d+: .*)\Z", re.S)


def message_found(message: str, ours: str) -> bool:
    """amtool's message is in our output. go-yaml's line-numbered errors (`yaml: unmarshal errors:`
    followed by `  line N: <what>` entries, or `yaml: line N: <what>`) count as found when every
    <what> is in our output together with its line number N: ours says `file:N path: <what>`."""
    if message in ours:
        return True
    m = _YAML_LINE_ERRORS.fullmatch(message)
    if not m:
        return False
    entries = re.findall(r"line (\d+): (.*)", m.group(1) or m.group(2))
    return bool(entries) and all(what in ours and re.search(rf"(?<!\d){n}(?!\d)", ours) for n, what in entries)


def compare_failure(message: str | None, expected_exit: int, rc: int, out: str, err: str) -> list[str]:
    problems = []
    if rc != expected_exit:
        problems.append(f"exit code: amtool {expected_exit}, alertbot {rc}")
    if message is not None and not message_found(message, out + err):
        problems.append(f"amtool's error message is not in our output:\n  amtool: {message!r}\n  our stdout: {out!r}\n  our stderr: {err!r}")
    if "Traceback" in out + err:
        problems.append("a traceback reached the user")
    return problems


# --------------------------------------------------------------------------------------------
# Valid configs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("record", "case"), ROUTE_TEST_PARAMS)
def test_routes_test(record: dict[str, Any], case: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv, expected = run_checked(["routes", "test", "--config", record["config"], *case["args"]], VALID_DIR, case,
                                 _case_notes(record, case), capsys, monkeypatch)
    rc, out, err = run_ours(argv, VALID_DIR, capsys, monkeypatch)
    problems = compare_exact(expected, rc, out, err)
    if problems:
        _fail(f"routes test on {record['config']} ({record['description']})", argv, problems, _case_notes(record, case))


@pytest.mark.parametrize("record", CONFIG_PARAMS)
def test_routes_show(record: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv, expected = run_checked(["routes", "show", "--config", record["config"]], VALID_DIR, record["routes_show"],
                                 _case_notes(record), capsys, monkeypatch)
    rc, out, err = run_ours(argv, VALID_DIR, capsys, monkeypatch)
    problems = compare_exact(expected, rc, out, err)
    if problems:
        _fail(f"routes show ({record['description']})", argv, problems, _case_notes(record))


@pytest.mark.parametrize("record", CONFIG_PARAMS)
def test_check_config_valid(record: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv, expected = run_checked(["check-config", *record["check_config"]["args"]], VALID_DIR, record["check_config"],
                                 _case_notes(record), capsys, monkeypatch)
    rc, out, err = run_ours(argv, VALID_DIR, capsys, monkeypatch)
    problems = compare_exact(expected, rc, out, err)
    if problems:
        _fail(f"check-config ({record['description']})", argv, problems, _case_notes(record))


# --------------------------------------------------------------------------------------------
# Invalid configs
# --------------------------------------------------------------------------------------------


def _compare_invalid(entry: dict[str, Any], expected: dict[str, Any], message: str | None, rc: int, out: str, err: str) -> list[str]:
    stem = _stem(entry["config"])
    if stem in ACCEPTED:
        problems = [] if rc == 0 else [f"we should accept this config ({ACCEPTED[stem]}); exit {rc}: {out + err!r}"]
        if stem in WARNED and out.startswith("Checking") and WARNED[stem] not in err:
            problems.append(f"no warning {WARNED[stem]!r} on stderr: {err!r}")
        return problems
    if expected["exit"] == 0:
        return compare_exact(expected, rc, out, err)
    if entry["kind"] != "file":
        # amtool's wording here is its flag parser's (kingpin: "path 'x' does not exist", "'x' is a
        # directory"), not Alertmanager's: require the failure, the path and no traceback.
        problems = compare_failure(None, expected["exit"], rc, out, err)
        if entry["config"] not in out + err:
            problems.append(f"our error does not name the path {entry['config']!r} (amtool: {message!r}); ours: {(out + err)!r}")
        return problems
    if stem in OWN_WORDING:
        problems = compare_failure(None, expected["exit"], rc, out, err)
        lines = [int(n) for n in re.findall(r"line (\d+)", message or "")]
        ours = [int(n) for n in re.findall(rf"{re.escape(entry['config'])}:(\d+)", out + err)]
        if lines and not any(abs(a - b) <= 1 for a in lines for b in ours):
            problems.append(f"our error is not near go-yaml's line {lines} (ours: {ours}): {(out + err)!r}")
        return problems
    return compare_failure(message, expected["exit"], rc, out, err)


def _invalid_run(entry: dict[str, Any], argv: list[str], expected: dict[str, Any], message: str | None,
                 capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    notes = entry.get("differs_in_head") or []
    argv, expected = run_checked(argv, INVALID_DIR, expected, notes, capsys, monkeypatch)
    if message is not None:
        for old, new in HEAD_WORDING.items():
            message = message.replace(old, new)
    rc, out, err = run_ours(argv, INVALID_DIR, capsys, monkeypatch)
    return argv, _compare_invalid(entry, expected, message, rc, out, err)


@pytest.mark.parametrize("entry", INVALID_PARAMS)
def test_check_config_invalid(entry: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = entry["check_config"]
    message = entry["error"] if entry["error"] is not None else amtool_error(expected["stderr"])
    argv, problems = _invalid_run(entry, ["check-config", *expected["args"]], expected, message, capsys, monkeypatch)
    if problems:
        _fail(f"check-config on {entry['covers']}", argv, problems, entry.get("differs_in_head") or [])


@pytest.mark.parametrize("entry", INVALID_PARAMS)
def test_routes_show_invalid(entry: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = entry["routes_show"]
    argv, problems = _invalid_run(entry, ["routes", "show", "--config", entry["config"], *expected["args"]], expected,
                                  expected["error"], capsys, monkeypatch)
    if problems:
        _fail(f"routes show on {entry['covers']}", argv, problems, entry.get("differs_in_head") or [])


@pytest.mark.parametrize("entry", INVALID_PARAMS)
def test_routes_test_invalid(entry: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = entry["routes_test"]
    argv, problems = _invalid_run(entry, ["routes", "test", "--config", entry["config"], *expected["args"]], expected,
                                  expected["error"], capsys, monkeypatch)
    if problems:
        _fail(f"routes test on {entry['covers']}", argv, problems, entry.get("differs_in_head") or [])


@pytest.mark.parametrize("multi", [pytest.param(m, id=f"multi{i}") for i, m in enumerate(MULTI)])
def test_check_config_several_files(multi: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["check-config", *multi["args"]]
    rc, out, err = run_ours(argv, DATA, capsys, monkeypatch)
    if multi["exit"] == 0:
        problems = compare_exact(multi, rc, out, err)
    else:
        problems = compare_failure(amtool_error(multi["stderr"]), multi["exit"], rc, out, err)
        for path in multi["args"]:
            block = re.search(rf"Checking '{re.escape(path)}'.*?\n\n", multi["stdout"], re.S)
            assert block, f"recorded amtool output lacks the block for {path}"
            text = block.group(0)
            if "  FAILED: " in text:
                msg = text.split("  FAILED: ", 1)[1].rstrip("\n")
                if not message_found(msg, out + err):
                    problems.append(f"{path}: amtool's error {msg!r} is not in our output")
            elif text not in out:
                problems.append(f"{path}: amtool's SUCCESS block is not in our stdout:\n" + _show("amtool", text) + _show("alertbot", out))
    if problems:
        _fail("check-config with several files", argv, problems, [])


# --------------------------------------------------------------------------------------------
# The installed console script, for a handful of cases
# --------------------------------------------------------------------------------------------


def _installed_alertbot() -> str:
    exe = Path(sys.executable).parent / "alertbot"
    if not exe.exists():
        pytest.fail(f"the console script {exe} is not installed: run scripts/setup.sh (pip install -e .)", pytrace=False)
    return str(exe)


def _subprocess_samples() -> list[Any]:
    """A handful of cases: documented outputs, --tree, a verify mismatch, a label parse error, a
    newline inside a label argument, unicode."""
    wanted = {"c004-reference": {"L02-tree", "L02-verify-mismatch", "L06"}, "c003-reference": {"L01"}}
    by_theme_first: dict[str, Any] = {}
    picks: list[Any] = []
    for rec in VALID:
        ids = set(wanted.get(_stem(rec["config"]), set()))
        if rec["theme"] == "label_args":
            ids.add(next(c["id"] for c in rec["cases"] if c["exit"] != 0))
            ids.add(next(c["id"] for c in rec["cases"] if "\n" in "".join(c["args"])))
        if rec["theme"] == "unicode" and "unicode" not in by_theme_first:
            by_theme_first["unicode"] = rec
            ids.add(next(c["id"] for c in rec["cases"] if "--tree" in c["args"]))
        picks += [pytest.param(rec, c, id=f"{_stem(rec['config'])}/{c['id']}") for c in rec["cases"] if c["id"] in ids]
    return picks


@pytest.mark.parametrize(("record", "case"), _subprocess_samples())
def test_installed_console_script_routes_test(record: dict[str, Any], case: dict[str, Any]) -> None:
    argv = ["routes", "test", "--config", record["config"], *case["args"]]
    p = subprocess.run([_installed_alertbot(), *argv], cwd=VALID_DIR, capture_output=True, timeout=60)
    out, err = p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode("utf-8", "surrogateescape")
    problems = compare_exact(case, p.returncode, out, err)
    if problems:
        _fail("installed alertbot, routes test", argv, problems, _case_notes(record, case))


@pytest.mark.parametrize("which", ["show-valid", "check-valid", "check-invalid"])
def test_installed_console_script_config(which: str) -> None:
    rec = next(r for r in VALID if _stem(r["config"]) == "c004-reference")
    bad = next(e for e in INVALID if "undefined-receiver-deep" in e["config"])
    argv, cwd, expected, message = {
        "show-valid": (["routes", "show", "--config", rec["config"]], VALID_DIR, rec["routes_show"], None),
        "check-valid": (["check-config", rec["config"]], VALID_DIR, rec["check_config"], None),
        "check-invalid": (["check-config", bad["config"]], INVALID_DIR, bad["check_config"], bad["error"]),
    }[which]
    p = subprocess.run([_installed_alertbot(), *argv], cwd=cwd, capture_output=True, timeout=60)
    out, err = p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode("utf-8", "surrogateescape")
    if expected["exit"] == 0:
        problems = compare_exact(expected, p.returncode, out, err)
    else:
        problems = compare_failure(message, expected["exit"], p.returncode, out, err)
    if problems:
        _fail(f"installed alertbot, {which}", argv, problems, [])


# --------------------------------------------------------------------------------------------
# The data itself
# --------------------------------------------------------------------------------------------


def test_data_is_complete() -> None:
    cases = sum(len(r["cases"]) for r in VALID)
    assert len(VALID) >= 150, len(VALID)
    assert cases >= 2000, cases
    assert len(INVALID) >= 60, len(INVALID)
    assert MANIFEST["counts"] == {
        "valid_configs": len(VALID),
        "routes_test_cases": cases,
        "invalid_configs": len(INVALID),
        "multi_file_check_config": len(MULTI),
    }
    assert "version 0.25." in MANIFEST["amtool_version"], MANIFEST["amtool_version"]
    for rec in VALID:
        assert rec["check_config"]["exit"] == 0, rec["config"]
        assert rec["routes_show"]["stdout"].startswith("Routing tree:\n"), rec["config"]
    for entry in INVALID:
        if entry["expect_failure"]:
            assert entry["check_config"]["exit"] == 1, entry["config"]
    # every operator, both trees and verify, both outcomes of verify
    args = [a for r in VALID for c in r["cases"] for a in c["args"]]
    assert "--tree" in args
    assert any(c["stdout"].endswith("WARNING: Expected receivers did not match resolved receivers.\n") for r in VALID for c in r["cases"])
    shows = "".join(r["routes_show"]["stdout"] for r in VALID)
    for op in ('="', '!="', '=~"', '!~"'):
        assert op in shows, op


def test_configs_are_the_ones_recorded() -> None:
    """A config edited by hand without re-running the generator would make its expectations lie."""
    for rec in VALID:
        got = hashlib.sha256((VALID_DIR / rec["config"]).read_bytes()).hexdigest()
        assert got == rec["sha256"], f"{rec['config']} changed since amtool's outputs were recorded: run gen/generate.py"
    for entry in INVALID:
        if entry["kind"] == "file":
            got = hashlib.sha256((INVALID_DIR / entry["config"]).read_bytes()).hexdigest()
            assert got == entry["sha256"], f"{entry['config']} changed since amtool's outputs were recorded: run gen/generate.py"


def _amtool_samples() -> list[Any]:
    picks = []
    for i, rec in enumerate(VALID):
        if i % 10 == 0:
            picks.append(pytest.param(rec, rec["cases"][i % len(rec["cases"])], id=f"{_stem(rec['config'])}"))
    return picks


@pytest.mark.peer
@pytest.mark.parametrize(("record", "case"), _amtool_samples())
def test_recorded_outputs_are_amtools(record: dict[str, Any], case: dict[str, Any], tmp_path: Path) -> None:
    """Re-runs the real amtool on a sample: the committed data is what amtool prints here and now."""
    from tests.peers import peer

    amtool = peer("amtool")
    # HOME is empty so that no personal ~/.config/prometheus/amtool.yml changes amtool's flags.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    p = subprocess.run([amtool, "config", "routes", "test", f"--config.file={record['config']}", *case["args"]],
                       cwd=VALID_DIR, env=env, capture_output=True, timeout=60)
    assert (p.returncode, p.stdout.decode(), p.stderr.decode()) == (case["exit"], case["stdout"], case["stderr"])
    p = subprocess.run([amtool, "check-config", record["config"]], cwd=VALID_DIR, env=env, capture_output=True, timeout=60)
    assert (p.returncode, p.stdout.decode(), p.stderr.decode()) == (0, record["check_config"]["stdout"], record["check_config"]["stderr"])
