"""What Slack and PagerDuty get from a runbook: `view()` and the PagerDuty helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.runbooks import (
    Catalog,
    check_expressions,
    find_checker,
    pagerduty_details,
    pagerduty_links,
    resolve,
    view,
)
from tests.runbooks.helpers import write_runbook

pytestmark = [pytest.mark.peer]


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    write_runbook(tmp_path, "api", ['alertname="APIHighErrorRate"'], title="API errors",
                  extra="owner: platform\nseverity: critical\nurl: https://git.example.com/runbooks/api.md\n")
    return Catalog.load(tmp_path, quiet=True)


def test_view_renders_queries_with_the_alerts_labels(catalog: Catalog) -> None:
    labels = {"alertname": "APIHighErrorRate", "service": "gateway"}
    v = view(catalog, resolve(catalog, labels), labels)
    assert (v.source, v.title, v.name, v.owner, v.severity) == ("catalog", "API errors", "api", "platform", "critical")
    assert v.url == "https://git.example.com/runbooks/api.md"
    assert v.impact == "Something users notice."
    assert v.first_steps == ("**Look at the errors.** Which endpoints fail?", "**Check recent changes.**",
                             "Read the logs.")
    assert v.more_steps == 1
    assert [(q.index, q.name) for q in v.queries] == [(0, "errors by endpoint"), (1, "query 2")]
    assert v.queries[0].expr == 'sum by (endpoint) (rate(http_requests_total{service="gateway", code=~"5.."}[5m]))'
    assert v.queries[1].expr == 'changes(process_start_time_seconds{service="gateway"}[1h]) > 0'
    assert all(q.error is None for q in v.queries)
    assert view(catalog, resolve(catalog, labels), labels, steps=10).first_steps[-1] == "Ask the owners."


def test_label_values_cannot_break_out_of_the_promql_string(catalog: Catalog) -> None:
    nasty = 'a"} or vector(1) or {x="\\'
    labels = {"alertname": "APIHighErrorRate", "service": nasty}
    v = view(catalog, resolve(catalog, labels), labels)
    assert 'service="a\\"} or vector(1) or {x=\\"\\\\"' in v.queries[1].expr
    # Prometheus's own parser reads it as one string: the query still parses, with one selector
    assert check_expressions([q.expr for q in v.queries], find_checker()) == [None, None]
    # a missing label renders empty, as Alertmanager's templates do
    v = view(catalog, resolve(catalog, {"alertname": "APIHighErrorRate"}), {"alertname": "APIHighErrorRate"})
    assert 'service=""' in v.queries[1].expr


def test_a_query_that_fails_to_render_keeps_its_template_and_says_why(tmp_path: Path) -> None:
    body = '## Investigation\n\n```promql\n# bad\nup{job="{{ template "nope" }}"}\n```\n'
    write_runbook(tmp_path, "t", ['alertname="T"'], body=body)
    catalog = Catalog.load(tmp_path, quiet=True)
    assert catalog.problems == ()
    v = view(catalog, resolve(catalog, {"alertname": "T"}), {"alertname": "T"})
    (q,) = v.queries
    assert q.error is not None and "nope" in q.error
    assert q.expr == 'up{job="{{ template "nope" }}"}'


def test_pagerduty_links_and_details(catalog: Catalog) -> None:
    labels = {"alertname": "APIHighErrorRate", "service": "api"}
    v = view(catalog, resolve(catalog, labels), labels)
    assert pagerduty_links(v) == [{"href": "https://git.example.com/runbooks/api.md", "text": "Runbook: API errors"}]
    details = pagerduty_details(v)
    assert details == {
        "title": "API errors",
        "url": "https://git.example.com/runbooks/api.md",
        "owner": "platform",
        "impact": "Something users notice.",
        "first_steps": list(v.first_steps),
        "queries": {"errors by endpoint": v.queries[0].expr, "query 2": v.queries[1].expr},
    }
    none = view(catalog, resolve(catalog, {"alertname": "Other"}), {"alertname": "Other"})
    assert pagerduty_links(none) == []
    assert pagerduty_details(none) == {"title": "No runbook yet", "hint": none.hint}
    assert "other.md" in none.hint
