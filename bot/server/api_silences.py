"""`GET/POST /api/v2/silences`, `GET/DELETE /api/v2/silence/{id}` with Alertmanager's checks,
messages and JSON. Deleting an unknown silence answers 404, as today's Alertmanager does
(0.25 answered 500 with "silence not found")."""

from __future__ import annotations

from aiohttp import web

from bot.engine.silences import Silence, SilenceError, SilenceNotFound, build_matchers
from bot.engine.timestamp import Timestamp
from bot.routing.matchers import Matcher, MatcherError, parse_matcher
from bot.server import apijson
from bot.server.body import read_body
from bot.server.common import ready_engine, runtime
from bot.server.openapi import ApiError, bind_postable_silence, check_content_type, check_silence_id

_STATE_ORDER = {"active": 1, "pending": 2, "expired": 3}


def _sort_key(s: Silence, now: Timestamp) -> tuple[int, int]:
    """SortSilences: active by soonest end, pending by soonest start, expired most recent first."""
    state = apijson.silence_state(s, now)
    if state == "active":
        return 1, s.ends_at.ns
    if state == "pending":
        return 2, s.starts_at.ns
    return 3, -s.ends_at.ns


def _filter_matches(s: Silence, matchers: list[Matcher]) -> bool:
    """CheckSilenceMatchesFilterLabels: every filter matcher appears in the silence as it is."""
    for f in matchers:
        if not any(m.name == f.name and m.type == f.type and m.value == f.value for m in s.matchers):
            return False
    return True


async def get_silences(request: web.Request) -> web.Response:
    rt = runtime(request)
    engine = ready_engine(rt)
    matchers = []
    for text in request.query.getall("filter", []):
        try:
            matchers.append(parse_matcher(text, rt.config.matchers_mode))
        except MatcherError as exc:
            raise ApiError.payload(400, str(exc)) from None
    async with engine.reads.turn() as slicer:  # thousands of silences, beside the engine (bot.engine.reads)
        now = Timestamp.now()
        silences = []
        for s in engine.silences.all():  # a copy
            await slicer.pause()
            if _filter_matches(s, matchers):
                silences.append(s)
        silences.sort(key=lambda s: _sort_key(s, now))
        out = []
        for s in silences:
            await slicer.pause()
            out.append(apijson.gettable_silence(s, now))
    return _json(out, html=True)


async def get_silence(request: web.Request) -> web.Response:
    rt = runtime(request)
    sid = request.match_info["id"]
    check_silence_id(sid)
    engine = ready_engine(rt)
    try:
        s = engine.silences.get(sid)
    except SilenceNotFound:
        return web.Response(status=404)
    return _json(apijson.gettable_silence(s, Timestamp.now()), html=True)


async def delete_silence(request: web.Request) -> web.Response:
    rt = runtime(request)
    sid = request.match_info["id"]
    check_silence_id(sid)
    engine = ready_engine(rt)
    try:
        await engine.expire_silence(sid)
    except SilenceNotFound:
        return web.Response(status=404)
    return web.Response(status=200)


async def post_silences(request: web.Request) -> web.Response:
    rt = runtime(request)
    engine = ready_engine(rt)
    body = await read_body(request, rt.settings.max_body_bytes)
    if body:
        check_content_type(request.headers.get("Content-Type"))
    p = bind_postable_silence(body)
    now = Timestamp.now()
    if p.starts_at.ns >= p.ends_at.ns:
        raise ApiError.payload(400, "Failed to create silence: start time must be before end time")
    if p.ends_at.ns < now.ns:
        raise ApiError.payload(400, "Failed to create silence: end time can't be in the past")
    if p.id and p.id not in engine.silences.by_id:
        raise ApiError.payload(404, str(SilenceNotFound()))
    try:
        matchers = build_matchers(p.matchers, rt.config.matchers_mode)
        silence = Silence(p.id, matchers, p.starts_at, p.ends_at, now, p.created_by, p.comment)
        sid = await engine.set_silence(silence)
    except SilenceNotFound as exc:
        raise ApiError.payload(404, str(exc)) from None
    except SilenceError as exc:
        raise ApiError.payload(400, str(exc)) from None
    return _json({"silenceID": sid})


def _json(value: object, html: bool = False) -> web.Response:
    """`html`: gettable silences marshal themselves with json.Marshal (HTML-escaped)."""
    return web.Response(body=apijson.body(value, html), content_type="application/json")
