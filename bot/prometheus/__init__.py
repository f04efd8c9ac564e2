"""Prometheus queries for runbooks and chatops, and graphs of their results.

Public API (everything else in this package is internal):

    Datasources.from_env(env=None, *, session=None) -> Datasources
        PROMETHEUS_URL (the datasource "default"), PROMETHEUS_DATASOURCES=name=url,...,
        PROMETHEUS_TIMEOUT / _MAX_SERIES / _MAX_POINTS. Raises DatasourceError naming the
        variable. .get(name=None) -> PrometheusClient (None: the default), .describe(),
        await .close()

    PrometheusClient(url, *, name="default", limits=Limits(), session=None, headers=None)
        await .query(expr, at=None) -> Table | Matrix         instant query (Matrix only for
                                                               a range selector such as x[5m])
        await .query_range(expr, start, end, step=None) -> Matrix
        await .close(); async with PrometheusClient(...) as c: ...
        Every failure is a QueryError(kind, message, datasource): Prometheus's own errorType
        (bad_data, execution, timeout, canceled, ...) and message, or ours (unreachable,
        too_many_series, too_many_points, too_large, bad_response, unknown_datasource).
        str(e) is one short line.

    Limits(timeout=10.0, grace=2.0, max_series=500, max_points=250_000,
           default_points=300, max_bytes=16 MiB)

    Table(expr, time, result_type, rows: (Row(labels, value, timestamp), ...), columns, warnings,
          elapsed, string_value, datasource)
    Matrix(expr, start, end, step, series: (Series(labels, timestamps, values), ...), warnings,
           elapsed, datasource, points)

    alert_window(starts_at, ends_at=None, *, now=None) -> TimeWindow(start, end, firing, at, resolved)
        The default range of an alert's queries: from a little before it started to now (or
        a little after it resolved); `at` is when instant queries run. Times are Unix
        seconds, datetimes, RFC 3339 strings or the engine's Timestamp.

    render_graph(matrix, *, title=None, firing=None, max_series=20, width=1000, height=500,
                 unit="") -> bytes
        A PNG (run it with asyncio.to_thread: it takes CPU).
"""

from bot.prometheus.client import Limits, PrometheusClient
from bot.prometheus.datasources import Datasources, DatasourceError
from bot.prometheus.errors import QueryError
from bot.prometheus.results import Matrix, Row, Series, Table
from bot.prometheus.window import TimeWindow, alert_window

__all__ = [
    "DatasourceError", "Datasources", "Limits", "Matrix", "PrometheusClient", "QueryError", "Row", "Series",
    "Table", "TimeWindow", "alert_window", "render_graph",
]


def render_graph(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See `bot.prometheus.graph.render_graph` (imported on first use: matplotlib takes half a
    second to import, which the server's start-up should not pay)."""
    from bot.prometheus.graph import render_graph as render

    return render(*args, **kwargs)
