"""Parsing runbook files into the catalog, and what happens to the ones that cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from bot.runbooks import Catalog
from tests.runbooks.helpers import write_runbook


def test_a_runbook_parses_into_front_matter_sections_steps_and_queries(tmp_path: Path) -> None:
    write_runbook(tmp_path, "api-errors", ['alertname="APIHighErrorRate"', 'service=~"api|gateway"'],
                  title="API errors", extra="severity: critical\nowner: platform\nurl: https://wiki.example.com/api\n")
    catalog = Catalog.load(tmp_path, quiet=True)
    assert catalog.problems == ()
    rb = catalog.get("api-errors")
    assert rb is not None
    assert rb.title == "API errors"
    assert rb.matcher_texts == ('alertname="APIHighErrorRate"', 'service=~"api|gateway"')
    assert rb.specificity == 2
    assert (rb.severity, rb.owner, rb.url) == ("critical", "platform", "https://wiki.example.com/api")
    assert [(s.title, s.kind) for s in rb.sections] == [
        ("API errors", ""), ("Impact", "impact"), ("Investigation steps", "investigation"),
        ("Mitigation", "mitigation"), ("Resolution", "resolution")]
    # top-level items only, first paragraph each; nested bullets and code stay out
    assert rb.steps == ("**Look at the errors.** Which endpoints fail?", "**Check recent changes.**",
                        "Read the logs.", "Ask the owners.")
    assert [(q.name, q.section, q.line) for q in rb.queries] == [
        ("errors by endpoint", "Investigation steps", 20), ("query 2", "Investigation steps", 29)]
    assert rb.queries[0].expr == (
        'sum by (endpoint) (rate(http_requests_total{service="{{ .Labels.service }}", code=~"5.."}[5m]))')
    assert rb.queries[1].expr.startswith("changes(process_start_time_seconds")


def test_matchers_accept_one_string_and_comma_lists(tmp_path: Path) -> None:
    write_runbook(tmp_path, "a", "'{alertname=\"X\", team=\"ml\"}'")
    write_runbook(tmp_path, "b", ['alertname="X", severity!="info"', 'team="ml"'])
    catalog = Catalog.load(tmp_path, quiet=True)
    assert catalog.problems == ()
    assert catalog.get("a").specificity == 2  # type: ignore[union-attr]
    assert catalog.get("b").specificity == 3  # type: ignore[union-attr]


BROKEN = {
    # name: (file text, line, words in the reason)
    "bad-yaml": ("---\ntitle: x\nmatchers: [alertname=\"X\"\nowner: me\n---\nbody\n", 4, "not valid YAML"),
    "bad-matcher": ("---\ntitle: x\nmatchers:\n  - alertname=\"X\"\n  - 'service=~\"(api\"'\n---\n", 5,
                    "bad matcher"),
    "no-front-matter": ("# Just markdown\n\nNo front matter here.\n", 1, "no front matter"),
    "unclosed": ("---\ntitle: x\nmatchers: ['alertname=\"X\"']\n# forgot the closing line\n", 1, "not closed"),
    "no-title": ("---\nmatchers: ['alertname=\"X\"']\n---\n", 1, "needs a 'title'"),
    "no-matchers": ("---\ntitle: x\n---\n", 1, "needs 'matchers'"),
    "empty-matchers": ("---\ntitle: x\nmatchers: []\n---\n", 3, "is empty"),
    "list-front-matter": ("---\n- a\n- b\n---\n", 2, "keys and values"),
    "matchers-not-strings": ("---\ntitle: x\nmatchers: {alertname: X}\n---\n", 3, "list of matcher strings"),
}


def test_broken_files_are_reported_with_file_line_and_reason_and_the_rest_works(tmp_path: Path) -> None:
    write_runbook(tmp_path, "good", ['alertname="Good"'])
    for name, (text, _, _) in BROKEN.items():
        (tmp_path / f"{name}.md").write_text(text)
    (tmp_path / "latin1.md").write_bytes("---\ntitle: caf\xe9\n".encode("latin-1"))
    with structlog.testing.capture_logs() as logs:
        catalog = Catalog.load(tmp_path)
    assert [rb.name for rb in catalog] == ["good"]
    assert catalog.best({"alertname": "Good"}) is not None
    problems = {p.path.name: p for p in catalog.problems}
    assert set(problems) == {f"{n}.md" for n in BROKEN} | {"latin1.md"}
    for name, (_, line, words) in BROKEN.items():
        p = problems[f"{name}.md"]
        assert p.fatal and p.line == line and words in p.message, (name, str(p))
        assert str(p).startswith(f"{tmp_path}/{name}.md:{line}: ")
    assert "not UTF-8" in problems["latin1.md"].message
    # each problem is logged at load, with the file and the reason
    logged = [e for e in logs if e["event"] == "runbook_problem"]
    assert {Path(e["file"]).name for e in logged} == set(problems)
    assert all(e["log_level"] == "error" and e["consequence"] == "runbook not loaded" for e in logged)
    assert any(e["event"] == "runbooks_loaded" and e["runbooks"] == 1 for e in logs)


def test_a_bad_matcher_names_the_parsers_reason(tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text("---\ntitle: x\nmatchers:\n  - 'alertname=~\"(unclosed\"'\n---\n")
    (p,) = Catalog.load(tmp_path, quiet=True).problems
    assert p.line == 4
    assert "missing closing )" in p.message or "missing" in p.message, p.message


def test_broken_parts_are_dropped_and_reported_while_the_runbook_loads(tmp_path: Path) -> None:
    body = """\
## Investigation

1. Step one.

```promql
# fine
up
```

```promql
# empty one
```

```promql
# bad template
up{job="{{ .Labels.job "}
```

```promql
# never closed
up
"""
    write_runbook(tmp_path, "partly", ['alertname="X"'], extra="colour: red\nurl: not a url\n", body=body)
    catalog = Catalog.load(tmp_path, quiet=True)
    rb = catalog.get("partly")
    assert rb is not None and rb.url is None
    assert [q.name for q in rb.queries] == ["fine"]
    messages = sorted((p.line, p.message) for p in catalog.problems)
    assert all(not p.fatal for p in catalog.problems)
    assert [line for line, _ in messages] == [5, 6, 17, 21, 26]
    text = " | ".join(m for _, m in messages)
    for words in ("unknown front matter key 'colour'", "'url' must be an http(s) URL", "'empty one' is empty",
                  "'bad template': template:", "never closed"):
        assert words in text


def test_readme_is_not_a_runbook_and_a_missing_directory_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# How to write runbooks\n")
    write_runbook(tmp_path, "one", ['alertname="One"'])
    catalog = Catalog.load(tmp_path, quiet=True)
    assert [rb.name for rb in catalog] == ["one"] and catalog.problems == ()
    missing = Catalog.load(tmp_path / "nope", quiet=True)
    assert len(missing) == 0
    assert [p.message for p in missing.problems] == ["runbook directory does not exist"]


@pytest.mark.parametrize(("investigation", "steps"), [
    ("### Check the queue\ntext\n\n### Check the database\nmore\n", ("Check the queue", "Check the database")),
    ("Look at the dashboard first,\nthen at the logs.\n\nSecond paragraph.\n",
     ("Look at the dashboard first, then at the logs.",)),
    ("- one\n  continued\n- two\n\n  ```sh\n  - not a step\n  ```\n- three\n", ("one continued", "two", "three")),
])
def test_steps_come_from_list_items_else_subheadings_else_the_first_paragraph(
        tmp_path: Path, investigation: str, steps: tuple[str, ...]) -> None:
    write_runbook(tmp_path, "s", ['alertname="S"'], body=f"## Impact\n\nx\n\n## Investigation\n\n{investigation}"
                                                          "\n## Mitigation\n\n- not a step\n")
    rb = Catalog.load(tmp_path, quiet=True).get("s")
    assert rb is not None and rb.steps == steps


def test_query_datasource_from_the_fence_or_the_front_matter(tmp_path: Path) -> None:
    body = "## Investigation\n\n```promql\n# a\nup\n```\n\n```promql datasource=thanos\n# b\nup\n```\n"
    write_runbook(tmp_path, "d", ['alertname="D"'], extra="datasource: edge\n", body=body)
    rb = Catalog.load(tmp_path, quiet=True).get("d")
    assert rb is not None
    assert [(q.name, q.datasource) for q in rb.queries] == [("a", "edge"), ("b", "thanos")]


def test_matchers_follow_the_routing_parser_mode(tmp_path: Path) -> None:
    # UTF-8 label names need the UTF-8 parser; the classic one rejects them, as Alertmanager's does
    write_runbook(tmp_path, "u", ['"service.name"="api"'])
    assert Catalog.load(tmp_path, matchers_mode="utf8", quiet=True).problems == ()
    (p,) = Catalog.load(tmp_path, matchers_mode="classic", quiet=True).problems
    assert p.fatal and "bad matcher" in p.message
