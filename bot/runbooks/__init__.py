"""The runbook catalog: `runbooks/*.md` matched to alerts, rendered for Slack and PagerDuty.

Public API (everything else in this package is internal):

    Catalog.load(directory=None, *, templates=None, matchers_mode=None, quiet=False) -> Catalog
        Every runbook of the directory ($ALERTBOT_RUNBOOKS or ./runbooks). A broken file is
        left out and reported (logged, and in `.problems` as Problem(path, line, message,
        fatal)); the rest works.
    Catalog: .runbooks, .problems, .get(name), .matching(labels), .best(labels),
        .by_reference(url_or_name), .hint(labels)

    resolve(catalog, labels, annotations=None) -> Resolution
        One alert: runbook_url/runbook annotation (templated) → most specific catalog
        match (ties: file name) → none.
    resolve_group(catalog, alerts) -> GroupRunbook
        alerts: anything with `.labels` and `.annotations` mappings (the engine's Alert,
        templates' AlertSnapshot). `.runbook` is the group's Resolution, `.alerts` each
        alert's own, `.differing` the indexes of alerts whose own runbook differs.
    Resolution(source: "annotation"|"catalog"|"none", runbook: Runbook|None, url, hint, problems)

    view(catalog, resolution, labels, annotations=None, *, steps=3) -> RunbookView
        What to show: .title .url .name .path .severity .owner .impact .first_steps
        .more_steps .queries (QueryView(index, name, expr rendered for the alert,
        datasource, error)) .hint ("no runbook yet: add ...") .found .problems
    pagerduty_links(view) -> list[{"href", "text"}]          Events API v2 `links`
    pagerduty_details(view) -> dict                          `custom_details.runbook`

    Runbook(name, path, title, matchers, matcher_texts, body, sections, queries, steps,
            severity, owner, url, datasource); Query(name, expr, line, section, datasource)

    find_checker(promtool=None) -> Checker; check_expressions(exprs, checker) -> [error|None]
        PromQL well-formedness by promtool (or bracket balance without it).

See docs/runbooks.md for the file format and the matching rules.
"""

from bot.runbooks.catalog import Catalog, file_name_for
from bot.runbooks.model import Problem, Query, Runbook, Section
from bot.runbooks.promql import Checker, check_expressions, find_checker
from bot.runbooks.render import QueryView, RunbookView, pagerduty_details, pagerduty_links, promql_escape, view
from bot.runbooks.resolve import GroupRunbook, Resolution, resolve, resolve_group

__all__ = [
    "Catalog", "Checker", "GroupRunbook", "Problem", "Query", "QueryView", "Resolution", "Runbook",
    "RunbookView", "Section", "check_expressions", "file_name_for", "find_checker", "pagerduty_details",
    "pagerduty_links", "promql_escape", "resolve", "resolve_group", "view",
]
