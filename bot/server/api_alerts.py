"""`POST /api/v2/alerts`, `GET /api/v2/alerts` and `GET /api/v2/alerts/groups`, as
Alertmanager's API v2 answers them (status codes, messages, JSON shapes and order).

Validation errors of single alerts are joined with a newline, as today's Alertmanager does
(`errors.Join`); Alertmanager 0.25 joined them with "; ".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from aiohttp import web
from multidict import MultiMapping

from bot.engine.alert import Alert, label_set_before, sorted_alerts
from bot.engine.engine import Engine
from bot.engine.timestamp import Timestamp
from bot.routing import goregex
from bot.routing.matchers import Matcher, MatcherError, MatchType, parse_matcher
from bot.server import apijson
from bot.server.body import read_body
from bot.server.common import ready_engine, runtime
from bot.server.ingestion import store_alerts
from bot.server.openapi import ApiError, check_content_type, go_bool, postable_alerts
from bot.server.runtime import Runtime
from bot.store.base import StoreUnavailable

ERROR_SEPARATOR = "\n"  # today's Alertmanager (errors.Join); 0.25 used "; "
PARSE_IN_THREAD_BYTES = 256 * 1024


async def post_alerts(request: web.Request) -> web.Response:
    rt = runtime(request)
    engine = ready_engine(rt)
    body = await read_body(request, rt.settings.max_body_bytes)
    if body:
        check_content_type(request.headers.get("Content-Type"))
    config = rt.config
    args = (body, Timestamp.now(), config.resolve_timeout, config.matchers_mode)
    if len(body) > PARSE_IN_THREAD_BYTES:
        # Seconds of parsing for a body of tens of MiB: on a thread the loop (the engine's cycle,
        # other requests) still runs every few milliseconds; a small body is quicker in place.
        alerts, errors = await asyncio.to_thread(postable_alerts, *args)
    else:
        alerts, errors = postable_alerts(*args)
    # Valid alerts are stored even when others in the batch are not.
    await store_alerts(rt, engine, alerts, "api")
    if errors:
        rt.metrics.alerts_received.labels("api", "invalid").inc(len(errors))
        raise ApiError.payload(400, ERROR_SEPARATOR.join(errors))
    return web.Response(status=200)


# ------------------------------------------------------------------------------ queries

async def _applied_inbox(rt: Runtime) -> None:
    """Alerts a front process (of any replica) answered 200 for are shown: wait for the inbox."""
    if rt.inbox is not None:
        try:
            await rt.inbox.catch_up()
        except StoreUnavailable as exc:
            raise ApiError.payload(503, f"alerts not readable: {exc}") from None


class AlertQuery:
    """The filters `GET /api/v2/alerts` and `/alerts/groups` take."""

    def __init__(self, query: MultiMapping[str], mode: str) -> None:
        self.matchers: list[Matcher] = []
        for text in query.getall("filter", []):
            try:
                self.matchers.append(parse_matcher(text, mode))  # type: ignore[arg-type]
            except MatcherError as exc:
                raise ApiError.payload(400, str(exc)) from None
        self.receiver: goregex.GoRegexp | None = None
        if "receiver" in query:
            try:
                self.receiver = goregex.compile("^(?:" + query.getall("receiver")[-1] + ")$")
            except goregex.GoRegexError as exc:
                raise ApiError.payload(400, f"failed to parse receiver param: {exc}") from None
        self.active = _flag(query, "active")
        self.silenced = _flag(query, "silenced")
        self.inhibited = _flag(query, "inhibited")
        self.unprocessed = _flag(query, "unprocessed")

    def receiver_ok(self, receivers: list[str]) -> bool:
        return self.receiver is None or any(self.receiver.match_string(r) for r in receivers)

    def alert_filter(self, engine: Engine, now: Timestamp) -> Callable[[Alert], tuple[str, list[str], list[str]] | None]:
        """Alertmanager's alertFilter: the alert's (state, silencedBy, inhibitedBy) if it is shown."""
        def f(a: Alert) -> tuple[str, list[str], list[str]] | None:
            if not a.ends_at.is_zero and a.ends_at.ns < now.ns:
                return None
            state, silenced_by, inhibited_by = engine.status_of(a, now)
            if not self.active and state == "active":
                return None
            if not self.unprocessed and state == "unprocessed":
                return None
            if not self.silenced and silenced_by:
                return None
            if not self.inhibited and inhibited_by:
                return None
            if not matches_filter(self.matchers, a.labels):
                return None
            return state, silenced_by, inhibited_by
        return f


def _flag(query: MultiMapping[str], name: str) -> bool:
    values = query.getall(name, [])
    raw = values[-1] if values else ""
    return True if raw == "" else go_bool(raw)


def matches_filter(matchers: list[Matcher], labels: Mapping[str, str]) -> bool:
    """matchFilterLabels: an empty value matches a missing label (= / =~), and a present
    label is not excluded by `!=""` / `!~""`."""
    for m in matchers:
        present = m.name in labels
        value = labels.get(m.name, "")
        if m.type in (MatchType.NOT_EQUAL, MatchType.NOT_REGEXP):
            if m.value == "" and present:
                continue
        elif m.value == "" and not present:
            continue
        if not m.matches(value):
            return False
    return True


async def get_alerts(request: web.Request) -> web.Response:
    rt = runtime(request)
    engine = ready_engine(rt)
    await _applied_inbox(rt)
    q = AlertQuery(request.query, rt.config.matchers_mode)
    route = engine.route
    async with engine.reads.turn() as slicer:  # beside the engine, in slices (bot.engine.reads)
        shown = q.alert_filter(engine, Timestamp.now())
        # Each alert is written to JSON at once: its dicts die young, and a read of 50,000
        # alerts keeps 50,000 small strings instead of a million objects for the collector.
        parts = []
        # By fingerprint, as the API lists them (its hex form has a fixed width: the same order).
        for _, a in sorted(engine.alerts.items()):
            await slicer.pause()
            receivers = [r.receiver for r in route.match(a.labels)]
            if not q.receiver_ok(receivers):
                continue
            status = shown(a)
            if status is None:
                continue
            parts.append(apijson.dumps(apijson.gettable_alert(a, *status, receivers), html=True))
    return _json(b"[" + b",".join(parts) + b"]\n")


async def get_alert_groups(request: web.Request) -> web.Response:
    rt = runtime(request)
    engine = ready_engine(rt)
    await _applied_inbox(rt)
    q = AlertQuery(request.query, rt.config.matchers_mode)
    async with engine.reads.turn() as slicer:
        shown = q.alert_filter(engine, Timestamp.now())
        groups = []
        receivers: dict[int, list[str]] = {}
        statuses: dict[int, tuple[str, list[str], list[str]]] = {}
        for g in list(engine.groups.values()):
            receiver = g.route.receiver
            if q.receiver is not None and not q.receiver.match_string(receiver):
                continue
            alerts = []
            for a in list(g.alerts.values()):
                await slicer.pause()
                status = statuses.get(a.fingerprint) or shown(a)
                if status is None:
                    continue
                statuses[a.fingerprint] = status
                receivers.setdefault(a.fingerprint, []).append(receiver)
                alerts.append(a)
            if alerts:
                groups.append((g.labels, receiver, alerts))
        groups.sort(key=_GroupKey)
        # An alert group is a plain model holding allOf models: only its alerts are HTML-escaped.
        parts = []
        for labels, receiver, alerts in groups:
            await slicer.pause()
            items = [apijson.gettable_alert(a, *statuses[a.fingerprint], sorted(receivers[a.fingerprint]))
                     for a in sorted_alerts(alerts)]
            parts.append(b'{"alerts":' + apijson.dumps(items, html=True) + b',"labels":'
                         + apijson.dumps(apijson.label_set(labels)) + b',"receiver":'
                         + apijson.dumps({"name": receiver}) + b"}")
    return _json(b"[" + b",".join(parts) + b"]\n")


class _GroupKey:
    """AlertGroups.Less: by group labels (LabelSet.Before), then receiver."""

    __slots__ = ("labels", "receiver")

    def __init__(self, item: tuple) -> None:
        self.labels, self.receiver = item[0], item[1]

    def __lt__(self, other: _GroupKey) -> bool:
        if self.labels == other.labels:
            return self.receiver < other.receiver
        return label_set_before(self.labels, other.labels)


def _json(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")
