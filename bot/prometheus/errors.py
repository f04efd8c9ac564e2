"""The one error a Prometheus query raises, with a message short enough for a Slack reply."""

from __future__ import annotations

from typing import Literal

# Prometheus's own errorType values, then ours.
ErrorKind = Literal[
    "bad_data",          # Prometheus: the query or a parameter is wrong (parse errors land here)
    "execution",         # Prometheus: evaluation failed (e.g. many-to-many matching)
    "timeout",           # Prometheus gave up, or it did not answer before our deadline
    "canceled",          # Prometheus: the query was canceled
    "internal",          # Prometheus: its own bug
    "unavailable",       # Prometheus: not ready (starting up, shutting down)
    "not_found",         # Prometheus: no such endpoint (a wrong URL path prefix)
    "too_many_series",   # our cap on series
    "too_many_points",   # our cap on points
    "too_large",         # the answer is bigger than we read
    "bad_response",      # not a Prometheus API answer (a proxy's error page, garbage)
    "unreachable",       # connection refused, DNS failure, TLS failure
    "unknown_datasource",
]

MAX_MESSAGE = 300


class QueryError(Exception):
    """A query that did not produce a result. `str(e)` is one short line for people:
    `prometheus "default": bad_data: 1:14: parse error: unclosed left parenthesis`."""

    def __init__(self, kind: ErrorKind, message: str, datasource: str = "", *, status: int | None = None) -> None:
        message = " ".join(message.split())
        if len(message) > MAX_MESSAGE:
            # keep both ends: Prometheus often puts the reason after a long list of series
            tail = MAX_MESSAGE * 2 // 5
            message = message[: MAX_MESSAGE - tail - 3] + " … " + message[-tail:]
        self.kind: ErrorKind = kind
        self.message = message
        self.datasource = datasource
        self.status = status
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f'prometheus "{self.datasource}": ' if self.datasource else "prometheus: "
        return f"{where}{self.kind}: {self.message}"
