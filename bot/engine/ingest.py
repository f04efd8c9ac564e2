"""From what clients send to stored alerts: Alertmanager's defaulting and validation.

Two ways in: postable alerts (what Prometheus sends to `POST /api/v2/alerts`) and the
Alertmanager webhook payload (version 4). Both become `Alert`s with `updatedAt = now`; each
alert is validated on its own so that one bad alert never costs the good ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.engine.alert import Alert
from bot.engine.timestamp import ZERO, Timestamp
from bot.routing.labels import is_classic_label_name, is_utf8_label_name
from bot.routing.matchers import MatchersMode


class InvalidAlert(ValueError):
    """One alert Alertmanager would refuse; the message is Alertmanager's."""


@dataclass(slots=True)
class Postable:
    """A postable alert after JSON/schema checks (done by the HTTP layer)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: Timestamp = ZERO
    ends_at: Timestamp = ZERO
    generator_url: str = ""


def _valid_name(name: str, mode: MatchersMode) -> bool:
    return is_classic_label_name(name) if mode == "classic" else is_utf8_label_name(name)


def _valid_value(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _validate_pairs(pairs: Mapping[str, str], mode: MatchersMode) -> str | None:
    # The usual case checked in C: ASCII text is valid UTF-8, and outside the classic mode
    # any non-empty name is a valid one.
    if mode != "classic" and "" not in pairs and "".join(pairs).isascii() and "".join(pairs.values()).isascii():
        return None
    for name, value in pairs.items():
        if not _valid_name(name, mode):
            return f'invalid name "{name}"'
        if not _valid_value(value):
            return f'invalid value "{value}"'
    return None


def to_alert(p: Postable, now: Timestamp, resolve_timeout: float, mode: MatchersMode = "fallback") -> Alert:
    """Defaults and validates one postable alert (`api/v2/api.go` postAlertsHandler)."""
    starts, ends, timeout = p.starts_at, p.ends_at, False
    if starts.is_zero:
        starts = now if ends.is_zero else ends
    if ends.is_zero:
        timeout = True
        ends = now.add(resolve_timeout)
    labels = p.labels
    if "" in labels.values():
        labels = {k: v for k, v in labels.items() if v != ""}  # empty values are removed
    if ends.ns < starts.ns:
        raise InvalidAlert("start time must be before end time")
    problem = _validate_pairs(labels, mode)
    if problem:
        raise InvalidAlert(f"invalid label set: {problem}")
    if not labels:
        raise InvalidAlert("at least one label pair required")
    problem = _validate_pairs(p.annotations, mode)
    if problem:
        raise InvalidAlert(f"invalid annotations: {problem}")
    return Alert(labels, dict(p.annotations), starts, ends, p.generator_url, now, timeout)


def webhook_alerts(payload: Any, now: Timestamp, resolve_timeout: float,
                   mode: MatchersMode = "fallback") -> tuple[list[Alert], list[str]]:
    """The alerts of an Alertmanager webhook payload (version 4), and the errors of those
    that could not be taken. A firing alert (zero `endsAt`) is kept alive by re-sends as an
    alert without `endsAt` would be; a resolved one ends at its `endsAt`."""
    if not isinstance(payload, dict):
        raise InvalidAlert("webhook payload must be a JSON object")
    version = payload.get("version")
    if version != "4":
        raise InvalidAlert(f'unsupported webhook payload version {version!r} (expected "4")')
    items = payload.get("alerts")
    if not isinstance(items, list):
        raise InvalidAlert("webhook payload has no alerts list")
    out: list[Alert] = []
    errors: list[str] = []
    for i, item in enumerate(items):
        try:
            p = _postable_from_webhook(item)
            if item.get("status") != "resolved" or p.ends_at.is_zero:
                p.ends_at = ZERO
            out.append(to_alert(p, now, resolve_timeout, mode))
        except InvalidAlert as exc:
            errors.append(f"alerts[{i}]: {exc}")
    return out, errors


def _postable_from_webhook(item: Any) -> Postable:
    if not isinstance(item, dict):
        raise InvalidAlert("alert must be a JSON object")
    labels = _str_map(item.get("labels"), "labels")
    annotations = _str_map(item.get("annotations") or {}, "annotations")
    starts = _time(item.get("startsAt"), "startsAt")
    ends = _time(item.get("endsAt"), "endsAt")
    url = item.get("generatorURL") or ""
    if not isinstance(url, str):
        raise InvalidAlert("generatorURL must be a string")
    return Postable(labels, annotations, starts, ends, url)


def _str_map(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidAlert(f"{what} must be an object of strings")
    return dict(value)


def _time(value: Any, what: str) -> Timestamp:
    if value in (None, ""):
        return ZERO
    if not isinstance(value, str):
        raise InvalidAlert(f"{what} must be an RFC 3339 time")
    try:
        return Timestamp.parse(value)
    except ValueError as exc:
        raise InvalidAlert(f"{what}: {exc}") from None
