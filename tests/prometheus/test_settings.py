"""Datasources from the environment, and the time window an alert's queries use."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.engine.timestamp import Timestamp
from bot.prometheus import Datasources, DatasourceError, QueryError, alert_window
from bot.prometheus.client import nice_step

NOW = 1767225600.0  # 2026-01-01T00:00:00Z


# -- datasources ---------------------------------------------------------------------------------
def test_prometheus_url_is_the_default_and_more_come_by_name() -> None:
    ds = Datasources.from_env({
        "PROMETHEUS_URL": "http://prometheus:9090/",
        "PROMETHEUS_DATASOURCES": " thanos=https://thanos.example.com/prefix , edge=http://ops:pa%40ss@edge:9090",
        "PROMETHEUS_TIMEOUT": "2.5", "PROMETHEUS_MAX_SERIES": "50", "PROMETHEUS_MAX_POINTS": "1000",
    })
    assert list(ds) == ["default", "thanos", "edge"]
    assert ds.describe() == {"default": "http://prometheus:9090", "thanos": "https://thanos.example.com/prefix",
                             "edge": "http://edge:9090"}
    assert ds.get().name == "default" and ds.get(None) is ds.get("default")
    assert ds.get("thanos").base_url == "https://thanos.example.com/prefix"
    assert (ds.limits.timeout, ds.limits.max_series, ds.limits.max_points) == (2.5, 50, 1000)
    assert ds.get("edge").limits is ds.limits
    with pytest.raises(QueryError) as info:
        ds.get("mimir")
    assert str(info.value) == "prometheus: unknown_datasource: no datasource named 'mimir' (configured: default, edge, thanos)"


def test_without_prometheus_url_the_first_named_one_is_the_default() -> None:
    ds = Datasources.from_env({"PROMETHEUS_DATASOURCES": "a=http://a:9090,b=http://b:9090"})
    assert ds.default == "a" and ds.get().base_url == "http://a:9090"


def test_nothing_configured_says_what_to_set() -> None:
    ds = Datasources.from_env({})
    assert len(ds) == 0
    with pytest.raises(QueryError) as info:
        ds.get()
    assert info.value.kind == "unknown_datasource"
    assert "set PROMETHEUS_URL (or PROMETHEUS_DATASOURCES)" in str(info.value)


@pytest.mark.parametrize(("env", "message"), [
    ({"PROMETHEUS_URL": "prometheus:9090"}, "PROMETHEUS_URL: 'prometheus:9090' is not an http(s) URL with a host"),
    ({"PROMETHEUS_URL": "http://p:99999"}, "PROMETHEUS_URL: 'http://p:99999' has an invalid port"),
    ({"PROMETHEUS_URL": "http://p:9090/?x=1"}, "PROMETHEUS_URL: 'http://p:9090/?x=1' must not have a query or fragment"),
    ({"PROMETHEUS_DATASOURCES": "http://a:9090"}, "PROMETHEUS_DATASOURCES: 'http://a:9090' is not name=url"),
    ({"PROMETHEUS_DATASOURCES": "a b=http://a:9090"}, "PROMETHEUS_DATASOURCES: 'a b=http://a:9090' is not name=url"),
    ({"PROMETHEUS_URL": "http://p:9090", "PROMETHEUS_DATASOURCES": "default=http://q:9090"},
     "datasource 'default' is defined twice (PROMETHEUS_URL is the one named 'default')"),
    ({"PROMETHEUS_DATASOURCES": "a=http://a:1,a=http://b:1"}, "datasource 'a' is defined twice"),
    ({"PROMETHEUS_DATASOURCES": "a=ftp://user:secret@a"},
     "PROMETHEUS_DATASOURCES (a): 'ftp://a' is not an http(s) URL with a host"),
    ({"PROMETHEUS_TIMEOUT": "soon"}, "PROMETHEUS_TIMEOUT: 'soon' is not a number"),
    ({"PROMETHEUS_MAX_SERIES": "0"}, "PROMETHEUS_MAX_SERIES: must be positive, not '0'"),
])
def test_bad_settings_name_the_variable_and_hide_passwords(env: dict[str, str], message: str) -> None:
    with pytest.raises(DatasourceError) as info:
        Datasources.from_env(env)
    assert message in str(info.value)
    assert "secret" not in str(info.value)


# -- the alert's window ---------------------------------------------------------------------------
def test_a_firing_alert_runs_from_a_little_before_it_started_to_now() -> None:
    started = NOW - 20 * 60
    # Alertmanager gives firing alerts an endsAt in the future
    w = alert_window(started, NOW + 4 * 60, now=NOW)
    assert (w.start, w.end, w.firing, w.at, w.resolved) == (started - 15 * 60, NOW, (started, NOW), NOW, False)
    assert alert_window(started, None, now=NOW) == w
    assert w.step() == 10.0  # 35 minutes at about 300 points


def test_a_resolved_alert_ends_a_little_after_it_resolved() -> None:
    started, ended = NOW - 5 * 3600, NOW - 3 * 3600
    w = alert_window(started, ended, now=NOW)
    # lead: a quarter of its 2 hours; tail: 15 minutes to see the recovery
    assert (w.start, w.end, w.firing, w.at, w.resolved) == (started - 1800, ended + 900, (started, ended), ended, True)
    # resolved a minute ago: the tail stops at now
    assert alert_window(NOW - 600, NOW - 60, now=NOW).end == NOW


def test_long_alerts_lead_at_most_six_hours_and_unknown_starts_show_the_last_hour() -> None:
    w = alert_window(NOW - 3 * 86400, None, now=NOW)
    assert w.start == NOW - 3 * 86400 - 6 * 3600 and w.step() == 1800  # 78h over 300 points
    assert alert_window(None, None, now=NOW).start == NOW - 3600
    # Go's zero time (Alertmanager's "not set") counts as unknown
    assert alert_window("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", now=NOW).start == NOW - 3600


def test_times_come_as_datetimes_strings_or_engine_timestamps() -> None:
    as_float = alert_window(NOW - 600, NOW - 60, now=NOW)
    as_datetime = alert_window(dt.datetime(2025, 12, 31, 23, 50, tzinfo=dt.timezone.utc),
                               dt.datetime(2025, 12, 31, 23, 59), now=dt.datetime(2026, 1, 1))
    as_text = alert_window("2025-12-31T23:50:00Z", "2026-01-01T00:59:00+01:00", now="2026-01-01T00:00:00.000000000Z")
    as_engine = alert_window(Timestamp.from_seconds(NOW - 600), Timestamp.from_seconds(NOW - 60),
                             now=Timestamp.from_seconds(NOW))
    assert as_float == as_datetime == as_text == as_engine


@pytest.mark.parametrize(("span", "points", "step"), [
    (3600, 300, 15), (86400, 300, 300), (86400, 1441, 60), (60, 300, 1), (90 * 86400, 300, 43200),
    (400 * 86400, 300, 172800),
])
def test_steps_are_round(span: float, points: int, step: float) -> None:
    assert nice_step(span, points) == step
