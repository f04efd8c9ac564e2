"""Request binding as Alertmanager's generated go-openapi server does it.

The order is go-openapi's: the Content-Type (only when there is a body), then the body is
decoded (`parsing alerts body from "" failed, because …`, 400), then the schema is validated
(`0.labels in body is required`, 422 with go-openapi's codes 601/602/612). Only the first
problem is reported, as go-openapi flattens its composite errors to the first one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from bot.engine.alert import Alert
from bot.engine.ingest import InvalidAlert, Postable, to_alert
from bot.engine.codec import entries_to_bytes, validated_entry
from bot.engine.timestamp import ZERO, ZERO_NS, Timestamp
from bot.routing.labels import fingerprint, go_quote
from bot.server import apijson
from bot.server.gocompat import godecode as gd
from bot.server.gocompat.gojson import EmptyBody, GoSyntaxError, decode_first
from bot.server.gocompat.gomime import MimeError, parse_media_type
from bot.server.gocompat.gotime import GoTimeError, parse_datetime
from bot.server.gocompat.gourl import is_request_uri

REQUIRED_CODE = 602
INVALID_TYPE_CODE = 601
TOO_FEW_ITEMS_CODE = 612
JSON = "application/json"


class ApiError(Exception):
    """A response Alertmanager's API would give instead of running the handler."""

    def __init__(self, status: int, body: bytes, content_type: str | None = JSON, headers: dict | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}

    @classmethod
    def coded(cls, code: int, message: str) -> ApiError:
        """go-openapi's `{"code":…,"message":…}`; codes of 600 and more answer 422."""
        return cls(422 if code >= 600 else code, apijson.error_body(code, message))

    @classmethod
    def payload(cls, status: int, message: str) -> ApiError:
        """A handler's string payload: a JSON string and a newline."""
        return cls(status, apijson.body(message))

    def with_headers(self, headers: dict[str, str]) -> ApiError:
        self.headers.update(headers)
        return self


def parse_error(name: str, where: str, value: str, reason: str) -> ApiError:
    return ApiError.coded(400, f"parsing {name} {where} from {go_quote(value)} failed, because {reason}")


def check_content_type(header: str | None) -> None:
    """go-openapi's Content-Type check for a request that has a body."""
    ct = header if header else "application/octet-stream"
    try:
        mediatype, _ = parse_media_type(ct)
    except MimeError as exc:
        raise parse_error("Content-Type", "header", header or "", str(exc)) from None
    if mediatype.lower() != JSON:
        raise ApiError.coded(415, f"unsupported media type {go_quote(mediatype)}, only [{JSON}] are allowed")


def _decode(body: bytes, name: str, target: gd.GoType) -> Any:
    if not body:
        raise ApiError.coded(REQUIRED_CODE, f"{name} in body is required")
    try:
        value = decode_first(body)
    except EmptyBody:
        raise ApiError.coded(REQUIRED_CODE, f"{name} in body is required") from None
    except GoSyntaxError as exc:
        raise parse_error(name, "body", "", str(exc)) from None
    try:
        return gd.unmarshal(value, target)
    except gd.GoDecodeError as exc:
        raise parse_error(name, "body", "", str(exc)) from None


# ------------------------------------------------------------------------------ types

def _datetime(v: Any) -> Any:
    """strfmt.DateTime.UnmarshalJSON: null leaves the zero time; "" is the Unix epoch."""
    if v is None:
        return gd.KEEP
    text = gd.inner_string(v)
    try:
        ts = parse_datetime(text)
    except GoTimeError as exc:
        raise gd.Hard(str(exc)) from None
    return Timestamp(0) if ts is None else ts


def _uri(v: Any) -> Any:
    return gd.inner_string(v)


DATETIME = gd.Custom("strfmt.DateTime", _datetime)
URI = gd.Custom("strfmt.URI", _uri)
LABEL_SET = gd.Map("models.LabelSet", gd.String())

_ALERT_AO0 = gd.Struct(
    'struct { Annotations models.LabelSet "json:\\"annotations,omitempty\\""; '
    'EndsAt strfmt.DateTime "json:\\"endsAt,omitempty\\""; '
    'StartsAt strfmt.DateTime "json:\\"startsAt,omitempty\\"" }',
    [("annotations", LABEL_SET), ("endsAt", DATETIME), ("startsAt", DATETIME)], short_name="")
_ALERT = gd.Struct("models.Alert", [("generatorURL", URI), ("labels", LABEL_SET)])


def _all_of(parts: tuple[gd.Struct, ...]) -> gd.Custom:
    """A go-swagger allOf model: its UnmarshalJSON decodes the raw value once per part."""
    def fn(v: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in parts:
            try:
                out.update(gd.unmarshal(v, part))
            except gd.GoDecodeError as exc:
                raise gd.Hard(str(exc)) from None
        return out
    return gd.Custom("allOf", fn)


POSTABLE_ALERTS = gd.Slice("models.PostableAlerts", gd.Ptr(_all_of((_ALERT_AO0, _ALERT))))

_MATCHER = gd.Struct("models.Matcher", [("isEqual", gd.Ptr(gd.Bool())), ("isRegex", gd.Ptr(gd.Bool())),
                                        ("name", gd.Ptr(gd.String())), ("value", gd.Ptr(gd.String()))])
_SILENCE_AO0 = gd.Struct('struct { ID string "json:\\"id,omitempty\\"" }', [("id", gd.String())], short_name="")
_SILENCE = gd.Struct("models.Silence", [
    ("comment", gd.Ptr(gd.String())), ("createdBy", gd.Ptr(gd.String())), ("endsAt", gd.Ptr(DATETIME)),
    ("matchers", gd.Slice("models.Matchers", gd.Ptr(_MATCHER))), ("startsAt", gd.Ptr(DATETIME))])
POSTABLE_SILENCE = _all_of((_SILENCE_AO0, _SILENCE))


# ------------------------------------------------------------------------------ bodies

def _fast_alerts(value: Any) -> list[Postable] | None:
    """The common case (what Prometheus sends) without the Go emulation; None when the
    batch has anything unusual, so that the exact path decides."""
    if type(value) is not list:
        return None
    out = []
    for item in value:
        p = _fast_postable(item)
        if p is None:
            return None
        out.append(p)
    return out


def _fast_postable(item: Any) -> Postable | None:
    if type(item) is not dict:
        return None
    for k in item:
        if k not in _ALERT_KEYS:
            return None
    labels = item.get("labels")
    annotations = item.get("annotations", _EMPTY)
    if type(labels) is not dict or type(annotations) is not dict:
        return None
    for v in labels.values():
        if type(v) is not str:
            return None
    for v in annotations.values():
        if type(v) is not str:
            return None
    starts = _fast_time(item.get("startsAt"))
    ends = _fast_time(item.get("endsAt"))
    url = item.get("generatorURL", "")
    if starts is None or ends is None or type(url) is not str or (url and not is_request_uri(url)):
        return None
    return Postable(labels, annotations if annotations is not _EMPTY else {}, starts, ends, url)


_ALERT_KEYS = frozenset(("labels", "annotations", "startsAt", "endsAt", "generatorURL"))
_EMPTY: dict[str, str] = {}


def _fast_time(v: Any) -> Timestamp | None:
    if v is None:
        return ZERO
    if type(v) is not str or not v:
        return None
    try:
        return parse_datetime(v)
    except GoTimeError:
        return None


def bind_postable_alerts(body: bytes) -> list[Postable]:
    """The alerts of a `POST /api/v2/alerts` body, or the ApiError go-openapi would answer."""
    if body:
        try:
            fast = _fast_alerts(orjson.loads(body))
        except orjson.JSONDecodeError:
            fast = None
        if fast is not None:
            return fast
    alerts = _decode(body, "alerts", POSTABLE_ALERTS) or []
    for i, a in enumerate(alerts):
        if a is None:
            # Alertmanager skips a null alert here and then crashes on it (the connection is
            # dropped without an answer); the bot refuses it as an alert without labels.
            raise ApiError.coded(REQUIRED_CODE, f"{i}.labels in body is required")
        url = a.get("generatorURL", "")
        if url and not is_request_uri(url):
            raise ApiError.coded(INVALID_TYPE_CODE, f"{i}.generatorURL in body must be of type uri: {go_quote(url)}")
        if a.get("labels") is None:
            raise ApiError.coded(REQUIRED_CODE, f"{i}.labels in body is required")
    out: list[Postable] = []
    for a in alerts:
        out.append(Postable(a["labels"], a.get("annotations") or {}, a.get("startsAt") or ZERO,
                            a.get("endsAt") or ZERO, a.get("generatorURL", "")))
    return out


def postable_alerts(body: bytes, now: Timestamp, resolve_timeout: float,
                    mode: str = "fallback") -> tuple[list[Alert], list[str]]:
    """The valid alerts of a `POST /api/v2/alerts` body, defaulted at `now`, and the messages of
    the invalid ones (an ApiError when the body itself is refused). The server's handler, a
    front process and the engine applying the inbox all take alerts through this."""
    alerts: list[Alert] = []
    errors: list[str] = []
    for p in bind_postable_alerts(body):
        try:
            alerts.append(to_alert(p, now, resolve_timeout, mode))  # type: ignore[arg-type]
        except InvalidAlert as exc:
            errors.append(str(exc))
    return alerts, errors


def validated_postable_alerts(body: bytes, now: Timestamp, resolve_timeout: float,
                              mode: str = "fallback") -> tuple[bytes, int] | None:
    """What a front stores for a `POST /api/v2/alerts` body (codec.validated_to_bytes of
    `postable_alerts`), and how many alerts, in one pass over the common case: every alert
    valid, no empty label value. None when anything is otherwise, and `postable_alerts`
    decides (a test checks that both agree wherever this one answers)."""
    if not body or mode == "classic":
        return None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(value) is not list:
        return None
    default_end_ns = now.add(resolve_timeout).ns
    out = []
    for item in value:
        p = _fast_postable(item)
        if p is None:
            return None
        # to_alert's checks outside the classic mode: at least one label, every name not
        # empty, every text valid UTF-8 (orjson decodes nothing else: it refuses a lone
        # surrogate); and no empty label value for it to drop.
        labels, annotations = p.labels, p.annotations
        if not labels or "" in labels or "" in labels.values() or "" in annotations:
            return None
        starts, ends = p.starts_at, p.ends_at
        if ends.ns == ZERO_NS:
            if starts.ns == ZERO_NS:
                starts = now
            if default_end_ns < starts.ns:
                return None
            out.append(validated_entry(labels, annotations, starts, None, p.generator_url, fingerprint(labels)))
        else:
            if starts.ns == ZERO_NS:
                starts = ends
            if ends.ns < starts.ns:
                return None
            out.append(validated_entry(labels, annotations, starts, ends, p.generator_url, fingerprint(labels)))
    if not out:
        return None
    return entries_to_bytes(out), len(out)


@dataclass(slots=True)
class PostableSilence:
    id: str
    matchers: list[tuple[str, str, bool, bool]]  # name, value, isRegex, isEqual
    starts_at: Timestamp
    ends_at: Timestamp
    created_by: str
    comment: str


def bind_postable_silence(body: bytes) -> PostableSilence:
    s = _decode(body, "silence", POSTABLE_SILENCE)
    for field in ("comment", "createdBy", "endsAt"):
        if s.get(field) is None:
            raise ApiError.coded(REQUIRED_CODE, f"{field} in body is required")
    matchers = s.get("matchers")
    if matchers is None:
        raise ApiError.coded(REQUIRED_CODE, "matchers in body is required")
    if not matchers:
        raise ApiError.coded(TOO_FEW_ITEMS_CODE, "matchers in body should have at least 1 items")
    for i, m in enumerate(matchers):
        if m is None:
            # Alertmanager skips it here and then crashes; the bot refuses it.
            raise ApiError.coded(REQUIRED_CODE, f"matchers.{i} in body is required")
        for field in ("isRegex", "name", "value"):
            if m.get(field) is None:
                raise ApiError.coded(REQUIRED_CODE, f"matchers.{i}.{field} in body is required")
    if s.get("startsAt") is None:
        raise ApiError.coded(REQUIRED_CODE, "startsAt in body is required")
    items = [(m["name"], m["value"], m["isRegex"], True if m.get("isEqual") is None else m["isEqual"])
             for m in matchers]
    return PostableSilence(s.get("id", ""), items, s["startsAt"], s["endsAt"], s["createdBy"], s["comment"])


_UUID = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")


def is_uuid(s: str) -> bool:
    """strfmt's uuid format (case-insensitive, dashes optional)."""
    return _UUID.fullmatch(s) is not None


def check_silence_id(sid: str) -> None:
    if not is_uuid(sid):
        raise ApiError.coded(INVALID_TYPE_CODE, f"silenceID in path must be of type uuid: {go_quote(sid)}")


def go_bool(raw: str) -> bool:
    """swag.ConvertBool: a few spellings of true; anything else is false."""
    return raw.lower() in ("true", "1", "yes", "ok", "y", "on", "selected", "checked", "t", "enabled")
