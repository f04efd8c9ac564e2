"""Which runbook an alert and a group get: annotation over catalog, specificity, ties,
annotations as data, mixed groups, and none."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.alert import Alert
from bot.runbooks import Catalog, resolve, resolve_group, view
from bot.templates import AlertSnapshot
from tests.runbooks.helpers import write_runbook

WIKI = "https://wiki.example.com/runbooks"


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    d = tmp_path / "runbooks"
    write_runbook(d, "drift", ['alertname="ModelFeatureDrift"'],
                  extra="url: https://git.example.com/alertbot/blob/main/runbooks/drift.md\n")
    write_runbook(d, "drift-fraud", ['alertname="ModelFeatureDrift"', 'model="fraud-detector"'])
    write_runbook(d, "api", ['alertname=~"API.*"'])
    write_runbook(d, "api-critical", ['alertname=~"API.*"', 'severity="critical"'])
    # b-api-team and a-api-team tie (2 matchers each): the file name that sorts first wins
    write_runbook(d, "b-api-team", ['alertname=~"API.*"', 'team="api"'])
    write_runbook(d, "a-api-team", ['alertname=~"API.*"', 'service="api"'])
    write_runbook(d, "not-staging", ['alertname="Disk"', 'env!="staging"'])
    catalog = Catalog.load(d, quiet=True)
    assert catalog.problems == ()
    return catalog


def name_of(catalog: Catalog, labels: dict[str, str], annotations: dict[str, str] | None = None) -> str | None:
    r = resolve(catalog, labels, annotations)
    return r.runbook.name if r.runbook else None


def test_the_most_specific_match_wins(catalog: Catalog) -> None:
    assert name_of(catalog, {"alertname": "ModelFeatureDrift", "model": "recommender"}) == "drift"
    assert name_of(catalog, {"alertname": "ModelFeatureDrift", "model": "fraud-detector"}) == "drift-fraud"
    assert name_of(catalog, {"alertname": "APIHighLatency", "severity": "warning"}) == "api"
    assert name_of(catalog, {"alertname": "APIHighErrorRate", "severity": "critical"}) == "api-critical"


def test_ties_go_to_the_file_name_that_sorts_first(catalog: Catalog) -> None:
    labels = {"alertname": "APIHighLatency", "team": "api", "service": "api"}
    assert [r.name for r in catalog.matching(labels)] == ["a-api-team", "b-api-team", "api"]
    assert name_of(catalog, labels) == "a-api-team"
    # severity=critical makes api-critical a third 2-matcher candidate: still by name
    assert name_of(catalog, {**labels, "severity": "critical"}) == "a-api-team"


def test_matcher_semantics_are_alertmanagers(catalog: Catalog) -> None:
    # a missing label is the empty string: env!="staging" matches an alert without env
    assert name_of(catalog, {"alertname": "Disk"}) == "not-staging"
    assert name_of(catalog, {"alertname": "Disk", "env": "staging"}) is None
    # regexes are anchored
    assert name_of(catalog, {"alertname": "MyAPIError"}) is None


def test_the_annotation_beats_a_more_specific_catalog_match(catalog: Catalog) -> None:
    labels = {"alertname": "ModelFeatureDrift", "model": "fraud-detector"}
    url = "https://git.example.com/alertbot/blob/main/runbooks/drift.md"
    r = resolve(catalog, labels, {"runbook_url": url})
    assert (r.source, r.runbook.name if r.runbook else None, r.url) == ("annotation", "drift", url)
    # any host: a URL ending in /runbooks/<file>.md names the catalog entry
    other = "https://mirror.example.org/ops/runbooks/drift.md#first-steps"
    r = resolve(catalog, labels, {"runbook_url": other})
    assert (r.source, r.runbook.name if r.runbook else None, r.url) == ("annotation", "drift", other)


def test_an_external_annotation_is_a_link_without_catalog_content(catalog: Catalog) -> None:
    labels = {"alertname": "ModelFeatureDrift", "model": "fraud-detector"}
    r = resolve(catalog, labels, {"runbook_url": f"{WIKI}/drift-handbook"})
    assert (r.source, r.runbook, r.url) == ("annotation", None, f"{WIKI}/drift-handbook")
    v = view(catalog, r, labels)
    assert (v.title, v.url, v.queries, v.first_steps) == ("Runbook (wiki.example.com)", f"{WIKI}/drift-handbook", (), ())
    # only a .md file under /runbooks/ names a catalog entry: a wiki page called "api" is not ours
    r = resolve(catalog, {"alertname": "APIHighLatency"}, {"runbook_url": f"{WIKI}/api"})
    assert (r.source, r.runbook) == ("annotation", None)


def test_runbook_url_comes_before_runbook_and_runbook_may_name_an_entry(catalog: Catalog) -> None:
    labels = {"alertname": "APIHighLatency"}
    both = {"runbook": "drift-fraud", "runbook_url": f"{WIKI}/latency"}
    assert resolve(catalog, labels, both).url == f"{WIKI}/latency"
    r = resolve(catalog, labels, {"runbook": "drift-fraud"})
    assert (r.source, r.runbook.name if r.runbook else None) == ("annotation", "drift-fraud")
    assert resolve(catalog, labels, {"runbook": "runbooks/drift-fraud.md"}).runbook.name == "drift-fraud"  # type: ignore[union-attr]


@pytest.mark.parametrize("template", [
    WIKI + "/{{ .Labels.service }}/{{ .Labels.alertname }}",
    WIKI + "/{{ $labels.service }}/{{ $labels.alertname }}",  # Prometheus's spelling, left unexpanded
    "drift-{{ .Labels.model }}",
])
def test_annotations_are_data_never_rendered(catalog: Catalog, template: str) -> None:
    # Prometheus expands a rule's templates before sending; what arrives is the alert's data.
    labels = {"alertname": "APIHighLatency", "service": "gateway", "model": "fraud"}
    r = resolve(catalog, labels, {"runbook_url": template})
    assert (r.source, r.runbook.name if r.runbook else None) == ("catalog", "api")
    assert len(r.problems) == 1 and "unexpanded template" in r.problems[0]


def test_a_template_bomb_in_an_annotation_costs_nothing(catalog: Catalog) -> None:
    labels = {f"l{i:02}": "x" * 20 for i in range(40)} | {"alertname": "APIHighLatency"}
    bomb = "{{ range .Labels }}{{ range $.Labels }}{{ range $.Labels }}{{ range $.Labels }}{{ end }}{{ end }}{{ end }}{{ end }}"
    # Rendered, this is 40^4 = 2.56 million iterations per alert; as data it is one string test.
    group = resolve_group(catalog, [Alert(labels, {"runbook_url": bomb, "runbook": bomb})] * 30)
    assert group.runbook.source == "catalog"
    assert all("unexpanded template" in p for r in group.alerts for p in r.problems)


def test_an_unusable_annotation_is_noted_and_the_catalog_decides(catalog: Catalog) -> None:
    labels = {"alertname": "APIHighLatency"}
    r = resolve(catalog, labels, {"runbook": "see the wiki"})
    assert r.source == "catalog" and "neither an http(s) URL nor a runbook" in r.problems[0]
    # an annotation that is only blanks is simply absent
    r = resolve(catalog, labels, {"runbook_url": "  "})
    assert r.source == "catalog" and r.problems == ()


def test_no_runbook_says_where_to_add_one(catalog: Catalog, tmp_path: Path) -> None:
    r = resolve(catalog, {"alertname": "SchedulerLeaderLost"})
    assert (r.source, r.runbook, r.url) == ("none", None, None)
    assert r.hint == (f"No runbook yet: add {tmp_path}/runbooks/scheduler-leader-lost.md with "
                      '`matchers: [alertname="SchedulerLeaderLost"]`.')
    v = view(catalog, r, {"alertname": "SchedulerLeaderLost"})
    assert (v.found, v.title, v.hint) == (False, "No runbook yet", r.hint)


def test_the_catalog_url_is_the_link_when_there_is_no_annotation(catalog: Catalog) -> None:
    r = resolve(catalog, {"alertname": "ModelFeatureDrift"})
    assert r.url == "https://git.example.com/alertbot/blob/main/runbooks/drift.md"
    assert resolve(catalog, {"alertname": "APIHighLatency"}).url is None


# -- groups ------------------------------------------------------------------------------------------
def snap(labels: dict[str, str], annotations: dict[str, str] | None = None) -> AlertSnapshot:
    return AlertSnapshot(labels=labels, annotations=annotations or {})


def test_a_mixed_group_gets_the_runbook_most_alerts_match_and_each_keeps_its_own(catalog: Catalog) -> None:
    alerts = [
        snap({"alertname": "ModelFeatureDrift", "model": "fraud-detector", "feature": "amount"}),
        snap({"alertname": "ModelFeatureDrift", "model": "recommender", "feature": "session"}),
        snap({"alertname": "ModelFeatureDrift", "model": "ranker", "feature": "clicks"}),
    ]
    group = resolve_group(catalog, alerts)
    # drift matches all three (drift-fraud is more specific but matches one)
    assert group.runbook.runbook is not None and group.runbook.runbook.name == "drift"
    assert [r.runbook.name for r in group.alerts if r.runbook] == ["drift-fraud", "drift", "drift"]
    assert group.differing == (0,)


def test_a_group_where_every_alert_matches_both_takes_the_more_specific(catalog: Catalog) -> None:
    alerts = [snap({"alertname": "ModelFeatureDrift", "model": "fraud-detector", "feature": f}) for f in "abc"]
    group = resolve_group(catalog, alerts)
    assert group.runbook.runbook.name == "drift-fraud"  # type: ignore[union-attr]
    assert group.differing == ()


def test_annotations_count_in_a_group(catalog: Catalog) -> None:
    ext = {"runbook_url": f"{WIKI}/api"}
    alerts = [snap({"alertname": "Disk", "env": "staging"}, ext), snap({"alertname": "Other"}, ext),
              snap({"alertname": "APIHighLatency"})]
    group = resolve_group(catalog, alerts)
    assert (group.runbook.source, group.runbook.url) == ("annotation", f"{WIKI}/api")
    assert group.differing == (2,)
    assert group.alerts[2].runbook.name == "api"  # type: ignore[union-attr]


def test_a_group_without_any_runbook_and_an_empty_group(catalog: Catalog) -> None:
    group = resolve_group(catalog, [snap({"alertname": "Nope"}), snap({"alertname": "Nope", "x": "y"})])
    assert group.runbook.source == "none" and "nope.md" in group.runbook.hint
    assert group.differing == ()
    # an alert without a runbook in a group that has one is listed as differing
    group = resolve_group(catalog, [snap({"alertname": "APIHighLatency"}), snap({"alertname": "Nope"})])
    assert group.runbook.runbook.name == "api" and group.differing == (1,)  # type: ignore[union-attr]
    assert resolve_group(catalog, []).runbook.source == "none"


def test_engine_alerts_resolve_too(catalog: Catalog) -> None:
    alerts = [Alert({"alertname": "APIHighErrorRate", "severity": "critical"}, {"summary": "x"}),
              Alert({"alertname": "APIHighErrorRate", "severity": "warning"})]
    group = resolve_group(catalog, alerts)
    # api matches both; api-critical only one
    assert group.runbook.runbook.name == "api"  # type: ignore[union-attr]
    assert [r.runbook.name for r in group.alerts if r.runbook] == ["api-critical", "api"]
    assert group.differing == (0,)
