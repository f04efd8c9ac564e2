"""What the notifiers show of a runbook, as data: `view()` for Slack and chatops, and
`pagerduty_links()` / `pagerduty_details()` for a PagerDuty event.

Query templates get the alert with its label and annotation values escaped for PromQL
double-quoted strings, so `service="{{ .Labels.service }}"` stays one valid string whatever
the value holds. A label the alert lacks renders empty (`service=""` then selects series
without the label, as PromQL does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.runbooks.catalog import Catalog
from bot.runbooks.resolve import Resolution, Source
from bot.templates import AlertSnapshot, TemplateError

FIRST_STEPS = 3


@dataclass(frozen=True)
class QueryView:
    index: int
    """The query's position in its runbook: with the runbook's name, a stable id for a button."""
    name: str
    expr: str
    """Ready to run: rendered with the alert's labels (the raw template if rendering failed)."""
    datasource: str | None
    error: str | None = None
    missing: tuple[str, ...] = ()
    """Labels the query uses (`.Labels.x`, `$labels.x`) that the alert lacks: they rendered
    empty, so the query selects series without them (a "no data" answer says so)."""


def used_labels(expr: str) -> list[str]:
    """The alert labels a query template reads, in order of first use."""
    return list(dict.fromkeys(_USED.findall(expr)))


_USED = re.compile(r"(?:\.Labels|\$labels)\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class RunbookView:
    source: Source
    title: str
    url: str | None
    name: str | None
    """The catalog entry's name (file name without .md); None for an external link or none."""
    path: str | None
    severity: str | None
    owner: str | None
    impact: str
    """The Impact section's first paragraph (Markdown), or ""."""
    first_steps: tuple[str, ...]
    """The first investigation steps (Markdown), at most `steps` of them."""
    more_steps: int
    """How many further steps the runbook has."""
    queries: tuple[QueryView, ...]
    hint: str
    """For source "none": where to add a runbook."""
    problems: tuple[str, ...]

    @property
    def found(self) -> bool:
        return self.source != "none"


def view(catalog: Catalog, resolution: Resolution, labels: Mapping[str, str],
         annotations: Mapping[str, str] | None = None, *, steps: int = FIRST_STEPS) -> RunbookView:
    """The runbook as an alert with these labels shows it."""
    rb = resolution.runbook
    if rb is None:
        title = "No runbook yet" if resolution.source == "none" else _link_title(resolution.url or "")
        return RunbookView(resolution.source, title, resolution.url, None, None, None, None, "", (), 0, (),
                           resolution.hint, resolution.problems)
    alert = AlertSnapshot(labels={k: promql_escape(v) for k, v in labels.items()},
                          annotations={k: promql_escape(v) for k, v in (annotations or {}).items()},
                          fingerprint="").to_alert()
    queries = []
    for i, q in enumerate(rb.queries):
        text = ("{{ $labels := .Labels }}" + q.expr) if "$labels" in q.expr else q.expr
        try:
            missing = tuple(n for n in used_labels(q.expr) if n not in labels)
            queries.append(QueryView(i, q.name, catalog.templates.render(text, alert).strip(), q.datasource,
                                     missing=missing))
        except TemplateError as exc:
            queries.append(QueryView(i, q.name, q.expr, q.datasource, error=str(exc)))
    impact = rb.section("impact")
    return RunbookView(
        source=resolution.source,
        title=rb.title,
        url=resolution.url,
        name=rb.name,
        path=str(rb.path),
        severity=rb.severity,
        owner=rb.owner,
        impact=_first_paragraph(impact.text) if impact else "",
        first_steps=rb.steps[:steps],
        more_steps=max(0, len(rb.steps) - steps),
        queries=tuple(queries),
        hint="",
        problems=resolution.problems,
    )


def pagerduty_links(v: RunbookView) -> list[dict[str, str]]:
    """Events API v2 `links`: the runbook's URL, if it has one."""
    if not v.url:
        return []
    return [{"href": v.url, "text": f"Runbook: {v.title}"}]


def pagerduty_details(v: RunbookView) -> dict[str, object]:
    """`custom_details.runbook`: what a responder reads first in the PagerDuty app."""
    if not v.found:
        return {"title": v.title, "hint": v.hint}
    details: dict[str, object] = {"title": v.title}
    if v.url:
        details["url"] = v.url
    if v.owner:
        details["owner"] = v.owner
    if v.impact:
        details["impact"] = v.impact
    if v.first_steps:
        details["first_steps"] = list(v.first_steps)
    if v.queries:
        details["queries"] = {q.name: q.expr for q in v.queries}
    return details


def promql_escape(value: str) -> str:
    """A value safe inside a PromQL double-quoted string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _first_paragraph(text: str) -> str:
    out: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            if out:
                break
            continue
        if line.lstrip().startswith(("```", "~~~", "#")):
            break
        out.append(line.strip())
    return " ".join(out)


def _link_title(url: str) -> str:
    host = urlsplit(url).hostname
    return f"Runbook ({host})" if host else "Runbook"
