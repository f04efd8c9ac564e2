"""The Prometheus client against a real Prometheus 2.42: results as data, and the guardrails —
a query that times out, one that returns 50,000 series, a syntax error, Prometheus down —
each a short clear QueryError, never a hang or a traceback."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from bot.prometheus import Limits, Matrix, PrometheusClient, QueryError, Table
from tests.fixtures.prometheus import (
    DAY_START,
    GUARD_AT,
    GUARD_SERIES,
    INCIDENT_AT,
    LAST_SAMPLE,
    Prometheus,
)
from tests.peers import free_port

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("prometheus")]


async def fails(call: Awaitable[object], within: float = 10) -> QueryError:
    """The QueryError `call` raises, within `within` seconds (a guard against hangs, generous for
    a loaded machine, not a speed test); its message one short line."""
    started = time.monotonic()
    with pytest.raises(QueryError) as info:
        await asyncio.wait_for(call, within + 5)  # a hang fails here rather than stalling the suite
    elapsed = time.monotonic() - started
    assert elapsed < within, f"took {elapsed:.2f}s"
    message = str(info.value)
    assert "\n" not in message and len(message) <= 340, message
    return info.value


# -- results --------------------------------------------------------------------------------------
async def test_an_instant_vector_is_a_table(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url, name="main") as prom:
        table = await prom.query('sort(mlops_feature_psi{model="fraud-detector"})', INCIDENT_AT)
    assert isinstance(table, Table)
    assert (table.result_type, table.time, table.datasource) == ("vector", INCIDENT_AT, "main")
    assert table.columns == ("__name__", "feature", "instance", "model", "service")
    assert [(r.labels["feature"], r.value, r.timestamp) for r in table.rows] == [
        ("account_age_days", 0.03, INCIDENT_AT), ("merchant_category", 0.14, INCIDENT_AT),
        ("transaction_amount", 0.34, INCIDENT_AT)]
    assert table.warnings == () and table.elapsed > 0


async def test_scalars_strings_nan_and_empty_results(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        scalar = await prom.query("scalar(max(mlops_db_connections_max)) * 2", INCIDENT_AT)
        nan = await prom.query("0/0", INCIDENT_AT)
        text = await prom.query('"hello"', INCIDENT_AT)
        empty = await prom.query('mlops_feature_psi{model="nope"}', INCIDENT_AT)
    assert isinstance(scalar, Table) and scalar.result_type == "scalar" and scalar.rows[0].value == 100
    assert isinstance(nan, Table) and math.isnan(nan.rows[0].value)
    assert isinstance(text, Table) and (text.result_type, text.string_value) == ("string", "hello")
    assert isinstance(empty, Table) and (len(empty), empty.columns) == (0, ())


async def test_range_queries_are_series(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        day = await prom.query_range("sum by (status) (rate(mlops_api_requests_total[5m]))", DAY_START + 600,
                                     LAST_SAMPLE)
        fixed = await prom.query_range('mlops_db_connections_max{instance="tracking-server-0"}',
                                       INCIDENT_AT - 600, INCIDENT_AT, 60)
        selector = await prom.query('mlops_db_connections_max{instance="tracking-server-0"}[5m]', INCIDENT_AT)
    # no step: a round one giving about 300 points (5 minutes over these 23h49m: 286 points)
    assert isinstance(day, Matrix) and day.step == 300
    assert sorted(s.labels["status"] for s in day.series) == ["200", "404", "429", "500", "503"]
    assert [len(s.values) for s in day.series] == [286] * 5 and day.points == 5 * 286
    assert isinstance(fixed, Matrix)
    (s,) = fixed.series
    assert s.timestamps == tuple(float(t) for t in range(INCIDENT_AT - 600, INCIDENT_AT + 1, 60))
    assert set(s.values) == {50.0}
    assert isinstance(selector, Matrix) and len(selector.series[0].values) == 6  # 2.42's closed range


# -- guardrails -------------------------------------------------------------------------------------
async def test_a_syntax_error_is_prometheus_bad_data(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        e = await fails(prom.query("sum(rate(mlops_api_requests_total[5m])", INCIDENT_AT), )
    assert (e.kind, e.status) == ("bad_data", 400)
    assert str(e) == ('prometheus "default": bad_data: invalid parameter "query": 1:39: parse error: '
                      "unclosed left parenthesis")


async def test_an_evaluation_error_is_prometheus_execution(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        e = await fails(prom.query("mlops_feature_psi * on() group_left() mlops_feature_psi", INCIDENT_AT), )
    assert (e.kind, e.status) == ("execution", 422)
    assert e.message.startswith("found duplicate series for the match group {} on the right hand-side")
    assert e.message.endswith("many-to-many matching not allowed: matching labels must be unique on one side")


async def test_50000_series_are_refused_with_a_count_and_advice(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url) as prom:
        e = await fails(prom.query("alertbot_guard_series", GUARD_AT), )
        assert e.kind == "too_many_series"
        assert str(e) == ('prometheus "default": too_many_series: the query returned 50,000 series, more than the '
                          "limit of 500: aggregate it (sum by (...)) or add label matchers")
        # aggregated, the same data is one row
        count = await prom.query("count(alertbot_guard_series)", GUARD_AT)
    assert isinstance(count, Table) and count.rows[0].value == GUARD_SERIES


async def test_a_huge_answer_is_cut_off_before_it_is_read_whole(prometheus_mlops: Prometheus) -> None:
    limits = Limits(max_series=100_000, max_bytes=1024 * 1024)
    async with PrometheusClient(prometheus_mlops.url, limits=limits) as prom:
        e = await fails(prom.query("alertbot_guard_series", GUARD_AT), )
    assert e.kind == "too_large" and "larger than 1 MiB" in e.message


async def test_a_slow_query_gets_prometheus_own_timeout(prometheus_mlops: Prometheus) -> None:
    # ~0.8s of work on 20,000 series; Prometheus stops it at our 0.1s timeout (it checks between
    # steps, so its answer comes a little later: the grace gives it room on a busy machine)
    async with PrometheusClient(prometheus_mlops.url, limits=Limits(timeout=0.1, grace=10)) as prom:
        e = await fails(prom.query_range('count(alertbot_guard_series{i=~"[0-1].*"} > 0)', DAY_START, LAST_SAMPLE, 60),
                        within=10.1)
        assert e.kind == "timeout"
        # which of its checks stops the query depends on how busy the machine is
        assert (e.status, e.message) in [
            (503, "query timed out in expression evaluation"),
            (503, "query timed out in query execution"),
            (422, "expanding series: context deadline exceeded"),
        ]
    # with time enough, the same query answers (on a busy machine it may need more than the default)
    async with PrometheusClient(prometheus_mlops.url, limits=Limits(timeout=120, grace=10)) as prom:
        ok = await prom.query_range('count(alertbot_guard_series{i=~"[0-1].*"} > 0)', DAY_START, LAST_SAMPLE, 60)
    assert ok.series[0].values[-1] == 20_000


async def test_points_are_capped_before_and_after_asking(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url, limits=Limits(max_points=1000)) as prom:
        e = await fails(prom.query_range("up", DAY_START, LAST_SAMPLE, 1), )
        assert e.kind == "too_many_points"
        assert e.message == ("86,341 points per series over this range at a 1s step; Prometheus allows 11,000: "
                             "use a step of at least 8s")
        e = await fails(prom.query_range("up", DAY_START, LAST_SAMPLE, 60), )
        assert e.kind == "too_many_points" and "more than the limit of 1,000" in e.message


async def test_a_wrong_path_prefix_is_not_found(prometheus_mlops: Prometheus) -> None:
    async with PrometheusClient(prometheus_mlops.url + "/prometheus") as prom:
        e = await fails(prom.query("up", INCIDENT_AT), )
    assert e.kind == "not_found" and e.status == 404
    assert "/prometheus/api/v1/" in e.message


async def test_prometheus_down_is_unreachable_and_credentials_stay_secret() -> None:
    port = free_port()
    async with PrometheusClient(f"http://alertbot:s3cret@127.0.0.1:{port}", name="edge") as prom:
        e = await fails(prom.query("up"), )
    assert e.kind == "unreachable" and e.datasource == "edge"
    assert str(e).startswith(f'prometheus "edge": unreachable: cannot connect to http://127.0.0.1:{port}: ')
    assert "s3cret" not in str(e)


async def test_credentials_in_the_url_are_sent_as_basic_auth(fake_server: FakeServer) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.json_response({"status": "success", "data": {"resultType": "vector", "result": []}})

    url = await fake_server(handler)
    async with PrometheusClient(url.replace("http://", "http://alertbot:s3cret@")) as prom:
        assert prom.base_url == url
        await prom.query("up", 0)
    assert seen == ["Basic YWxlcnRib3Q6czNjcmV0"]


# -- fakes for what a real Prometheus will not do --------------------------------------------------
FakeServer = Callable[[Callable[[web.Request], Awaitable[web.StreamResponse]]], Awaitable[str]]


@pytest.fixture
async def fake_server() -> AsyncIterator[FakeServer]:
    runners: list[web.AppRunner] = []

    async def start(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_a_server_that_never_answers_hits_our_deadline(fake_server: FakeServer) -> None:
    release = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="too late")

    url = await fake_server(silent)
    try:
        async with PrometheusClient(url, limits=Limits(timeout=0.3, grace=0.2)) as prom:
            e = await fails(prom.query("up"), within=3)
    finally:
        release.set()
    assert e.kind == "timeout"
    assert e.message == "no answer within 0.5s (the query timeout is 0.3s)"


async def test_a_proxy_error_page_is_a_bad_response(fake_server: FakeServer) -> None:
    async def proxy(request: web.Request) -> web.Response:
        return web.Response(status=502, text="<html><body><h1>502 Bad Gateway</h1>" + "x" * 5000 + "</body></html>",
                            content_type="text/html")

    url = await fake_server(proxy)
    async with PrometheusClient(url) as prom:
        e = await fails(prom.query("up"), )
    assert (e.kind, e.status) == ("bad_response", 502)
    assert e.message.startswith("HTTP 502 Bad Gateway, not a Prometheus answer: <html><body><h1>502 Bad Gateway</h1>")


async def test_unknown_error_types_and_malformed_results_are_errors_not_crashes(fake_server: FakeServer) -> None:
    answers = iter([
        web.json_response({"status": "error", "errorType": "quota", "error": "tenant over quota"}, status=429),
        web.json_response({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}),
        web.json_response({"status": "success", "data": {"resultType": "vector",
                                                         "result": [{"metric": {}, "value": [1, "abc"]}]}}),
        web.json_response({"status": "success", "data": {"resultType": "histogram", "result": []}}),
        web.json_response({"status": "success"}),
    ])

    async def handler(request: web.Request) -> web.Response:
        return next(answers)

    url = await fake_server(handler)
    async with PrometheusClient(url) as prom:
        kinds = [(e.kind, e.message) for e in [await fails(prom.query("up"), ) for _ in range(5)]]
    assert kinds == [
        ("internal", "quota: tenant over quota"),
        ("bad_response", "a sample is not [time, value]"),
        ("bad_response", "a sample value 'abc' is not a number"),
        ("bad_response", "unknown resultType 'histogram'"),
        ("bad_response", "the answer has no data"),
    ]
