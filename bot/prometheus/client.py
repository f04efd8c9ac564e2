"""An aiohttp client for Prometheus's HTTP query API (`/api/v1/query`, `/api/v1/query_range`).

Every query is bounded: Prometheus gets our timeout as its `timeout` parameter, and we stop
waiting `grace` seconds after it; answers larger than `max_bytes`, with more than
`max_series` series or more than `max_points` points become a QueryError instead of a
result. Prometheus's own errors (`bad_data`, `execution`, `timeout`, ...) pass through with
its message. Nothing here raises anything but QueryError for a failed query.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import aiohttp
import orjson

from bot.prometheus.errors import QueryError
from bot.prometheus.results import Matrix, Row, Series, Table, columns_of

TimeLike = float | int | dt.datetime | str
"""Unix seconds, an aware datetime (naive = UTC), an RFC 3339 string, or anything with `ns`
(nanoseconds since the epoch, as the engine's Timestamp)."""

_KNOWN_ERRORS = frozenset({"bad_data", "execution", "timeout", "canceled", "internal", "unavailable", "not_found"})
PROMETHEUS_MAX_POINTS_PER_SERIES = 11_000


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0
    """Seconds Prometheus may spend on a query (sent as its `timeout` parameter)."""
    grace: float = 2.0
    """Seconds we wait beyond `timeout` for Prometheus's own timeout answer before giving up."""
    max_series: int = 500
    max_points: int = 250_000
    """Points over all series of a range result."""
    default_points: int = 300
    """Points per series a range query asks for when no step is given (about a graph's width)."""
    max_bytes: int = 16 * 1024 * 1024

    @property
    def deadline(self) -> float:
        return self.timeout + self.grace


def to_unix(t: TimeLike) -> float:
    ns = getattr(t, "ns", None)
    if isinstance(ns, int):
        return ns / 1e9
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t)
    if isinstance(t, dt.datetime):
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.timezone.utc)
        return t.timestamp()
    return float(t)


def split_credentials(url: str) -> tuple[str, str | None]:
    """`http://user:pass@host/p` → (`http://host/p`, an Authorization header value for basic
    auth); the password is never shown again."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    user_pass = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    return clean, "Basic " + base64.b64encode(user_pass.encode()).decode()


def nice_step(span: float, points: int) -> float:
    """The smallest 'round' step (1s, 2s, 5s, 10s, 15s, 30s, 1m, ...) giving at most `points` points over `span`."""
    raw = max(span / max(points - 1, 1), 1.0)
    for candidate in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
        if candidate >= raw:
            return float(candidate)
    return float(math.ceil(raw / 86400) * 86400)


class PrometheusClient:
    """Queries one Prometheus (or anything speaking its API: Thanos, Mimir, VictoriaMetrics).

        async with PrometheusClient("http://prometheus:9090", name="default") as prom:
            table = await prom.query('sum by (status) (rate(x[5m]))', at=1767225600)
            matrix = await prom.query_range('rate(x[5m])', start=..., end=..., step=60)

    `session` lets the bot share its one aiohttp session; without it the client opens its
    own and `close()` closes it. Credentials in the URL (`http://user:pass@host`) become
    basic auth and never appear in messages.
    """

    def __init__(self, url: str, *, name: str = "default", limits: Limits | None = None,
                 session: aiohttp.ClientSession | None = None, headers: Mapping[str, str] | None = None) -> None:
        base, auth = split_credentials(url.rstrip("/"))
        self.base_url = base
        self.name = name
        self.limits = limits or Limits()
        self._headers = dict(headers or {})
        if auth is not None:
            self._headers.setdefault("Authorization", auth)
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> PrometheusClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
            self._own_session = True
        return self._session

    # -- queries ---------------------------------------------------------------------------
    async def query(self, expr: str, at: TimeLike | None = None) -> Table | Matrix:
        """An instant query at `at` (default: now). A vector, scalar or string comes back as a
        Table; a range selector (`x[5m]`) as a Matrix."""
        t = to_unix(at) if at is not None else time.time()
        started = time.monotonic()
        data, warnings = await self._call("query", {"query": expr, "time": _fmt_time(t)})
        elapsed = time.monotonic() - started
        kind = data.get("resultType")
        result = data.get("result")
        if kind == "vector":
            return self._table(expr, t, result, warnings, elapsed)
        if kind in ("scalar", "string"):
            ts, value = _pair(result, self.name)
            row = Row({}, _float(value, self.name) if kind == "scalar" else math.nan, ts)
            return Table(expr, t, kind, (row,), (), warnings, elapsed,
                         string_value=str(value) if kind == "string" else None, datasource=self.name)
        if kind == "matrix":
            return self._matrix(expr, t, t, 0.0, result, warnings, elapsed)
        raise QueryError("bad_response", f"unknown resultType {kind!r}", self.name)

    async def query_range(self, expr: str, start: TimeLike, end: TimeLike, step: float | None = None) -> Matrix:
        """A range query from `start` to `end`; without `step`, one that gives about
        `limits.default_points` points per series."""
        s, e = to_unix(start), to_unix(end)
        if e < s:
            raise QueryError("bad_data", "the range ends before it starts", self.name)
        if step is None:
            step = nice_step(e - s, self.limits.default_points)
        if step <= 0:
            raise QueryError("bad_data", "the step must be positive", self.name)
        per_series = int((e - s) // step) + 1
        if per_series > PROMETHEUS_MAX_POINTS_PER_SERIES:
            raise QueryError(
                "too_many_points",
                f"{per_series:,} points per series over this range at a {step:g}s step; Prometheus allows "
                f"{PROMETHEUS_MAX_POINTS_PER_SERIES:,}: use a step of at least {math.ceil((e - s) / 10_999)}s",
                self.name,
            )
        started = time.monotonic()
        data, warnings = await self._call(
            "query_range", {"query": expr, "start": _fmt_time(s), "end": _fmt_time(e), "step": f"{step:g}"})
        elapsed = time.monotonic() - started
        if data.get("resultType") != "matrix":
            raise QueryError("bad_response", f"a range query answered {data.get('resultType')!r}", self.name)
        return self._matrix(expr, s, e, step, data.get("result"), warnings, elapsed)

    # -- transport -------------------------------------------------------------------------
    async def _call(self, endpoint: str, params: dict[str, str]) -> tuple[dict[str, Any], tuple[str, ...]]:
        limits = self.limits
        form = {**params, "timeout": f"{limits.timeout:g}"}
        url = f"{self.base_url}/api/v1/{endpoint}"
        session = self._session_or_new()
        try:
            async with asyncio.timeout(limits.deadline):
                async with session.post(url, data=form, headers=self._headers, allow_redirects=False) as resp:
                    body = await self._read(resp)
                    status, reason = resp.status, resp.reason or ""
        except TimeoutError:
            raise QueryError(
                "timeout",
                f"no answer within {limits.deadline:g}s (the query timeout is {limits.timeout:g}s)",
                self.name,
            ) from None
        except aiohttp.ClientConnectorError as exc:
            why = exc.os_error.strerror if exc.os_error is not None and exc.os_error.strerror else str(exc.os_error)
            raise QueryError("unreachable", f"cannot connect to {self.base_url}: {why}", self.name) from None
        except aiohttp.InvalidURL:
            raise QueryError("unreachable", f"invalid URL {self.base_url!r}", self.name) from None
        except aiohttp.ClientError as exc:
            raise QueryError("unreachable", f"{self.base_url}: {type(exc).__name__}: {exc}", self.name) from None
        return self._decode(body, status, reason)

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self.limits.max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            raise self._too_large()
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(256 * 1024):
            size += len(chunk)
            if size > cap:
                raise self._too_large()
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> QueryError:
        return QueryError(
            "too_large",
            f"the answer is larger than {self.limits.max_bytes // (1024 * 1024)} MiB: aggregate the query "
            f"(sum by (...)) or select fewer series",
            self.name,
        )

    def _decode(self, body: bytes, status: int, reason: str) -> tuple[dict[str, Any], tuple[str, ...]]:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            doc = None
        if not isinstance(doc, dict) or doc.get("status") not in ("success", "error"):
            snippet = " ".join(body[:200].decode("utf-8", "replace").split())
            if status == 404:
                raise QueryError("not_found", f"HTTP 404 from {self.base_url}/api/v1/: is the URL (and its path "
                                 "prefix) that of a Prometheus?", self.name, status=status)
            raise QueryError("bad_response", f"HTTP {status} {reason}, not a Prometheus answer: {snippet}",
                             self.name, status=status)
        if doc["status"] == "error":
            error_type = str(doc.get("errorType") or "")
            message = str(doc.get("error") or "no error message")
            if error_type == "execution" and "context deadline exceeded" in message:
                # the timeout struck while Prometheus was still selecting series: it is a timeout
                error_type = "timeout"
            if error_type in _KNOWN_ERRORS:
                raise QueryError(error_type, message, self.name, status=status)  # type: ignore[arg-type]
            raise QueryError("internal", f"{error_type or 'error'}: {message}", self.name, status=status)
        data = doc.get("data")
        if not isinstance(data, dict):
            raise QueryError("bad_response", "the answer has no data", self.name, status=status)
        warnings = tuple(str(w) for w in doc.get("warnings") or ())
        return data, warnings

    # -- results ---------------------------------------------------------------------------
    def _check_series(self, n: int) -> None:
        if n > self.limits.max_series:
            raise QueryError(
                "too_many_series",
                f"the query returned {n:,} series, more than the limit of {self.limits.max_series:,}: "
                f"aggregate it (sum by (...)) or add label matchers",
                self.name,
            )

    def _table(self, expr: str, t: float, result: Any, warnings: tuple[str, ...], elapsed: float) -> Table:
        if not isinstance(result, list):
            raise QueryError("bad_response", "a vector result is not a list", self.name)
        self._check_series(len(result))
        rows = []
        for item in result:
            labels = _labels(item, self.name)
            ts, value = _pair(item.get("value"), self.name)
            rows.append(Row(labels, _float(value, self.name), ts))
        return Table(expr, t, "vector", tuple(rows), columns_of([r.labels for r in rows]), warnings, elapsed,
                     datasource=self.name)

    def _matrix(self, expr: str, start: float, end: float, step: float, result: Any,
                warnings: tuple[str, ...], elapsed: float) -> Matrix:
        if not isinstance(result, list):
            raise QueryError("bad_response", "a matrix result is not a list", self.name)
        self._check_series(len(result))
        total = sum(len(item.get("values") or ()) for item in result if isinstance(item, dict))
        if total > self.limits.max_points:
            raise QueryError(
                "too_many_points",
                f"the query returned {total:,} points, more than the limit of {self.limits.max_points:,}: "
                f"use a larger step, a shorter range or fewer series",
                self.name,
            )
        series = []
        for item in result:
            labels = _labels(item, self.name)
            stamps, values = [], []
            for pair in item.get("values") or ():
                ts, value = _pair(pair, self.name)
                stamps.append(ts)
                values.append(_float(value, self.name))
            series.append(Series(labels, tuple(stamps), tuple(values)))
        return Matrix(expr, start, end, step, tuple(series), warnings, elapsed, self.name, total)


def _fmt_time(t: float) -> str:
    return f"{t:.3f}"


def _labels(item: Any, name: str) -> dict[str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("metric", {}), dict):
        raise QueryError("bad_response", "a series without labels", name)
    return {str(k): str(v) for k, v in item.get("metric", {}).items()}


def _pair(pair: Any, name: str) -> tuple[float, Any]:
    if not isinstance(pair, list) or len(pair) != 2:
        raise QueryError("bad_response", "a sample is not [time, value]", name)
    try:
        return float(pair[0]), pair[1]
    except (TypeError, ValueError):
        raise QueryError("bad_response", f"a sample time {pair[0]!r} is not a number", name) from None


def _float(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise QueryError("bad_response", f"a sample value {value!r} is not a number", name) from None
