"""The data notification templates see: Alertmanager 0.25's `template.Data`, built the way Alertmanager builds it.

`.Receiver .Status .Alerts .GroupLabels .CommonLabels .CommonAnnotations .ExternalURL`,
each alert's `.Status .Labels .Annotations .StartsAt .EndsAt .GeneratorURL .Fingerprint`,
`.Alerts.Firing`/`.Alerts.Resolved`, and the KV helpers `.SortedPairs .Names .Values .Remove`.
Templates receive a pointer to the Data, as in Alertmanager (`*template.Data`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.routing.labels import common_pairs
from bot.templates.gotime import T_TIME, ZERO_TIME, GoTime, parse_rfc3339, UTC
from bot.templates.gotypes import (
    T_STRING,
    T_STRING_SLICE,
    GoFunc,
    GoType,
    Kind,
    Map,
    Ptr,
    Slice,
    Struct,
    map_of,
    named,
    pointer_to,
    slice_of,
)

T_KV = named("template.KV", map_of(T_STRING, T_STRING))
T_PAIR = GoType(Kind.STRUCT, "template.Pair", fields=(("Name", T_STRING), ("Value", T_STRING)))
T_PAIR.underlying = T_PAIR
T_PAIRS = named("template.Pairs", slice_of(T_PAIR))
T_ALERT = GoType(
    Kind.STRUCT,
    "template.Alert",
    fields=(
        ("Status", T_STRING),
        ("Labels", T_KV),
        ("Annotations", T_KV),
        ("StartsAt", T_TIME),
        ("EndsAt", T_TIME),
        ("GeneratorURL", T_STRING),
        ("Fingerprint", T_STRING),
    ),
    json_names=("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"),
)
T_ALERT.underlying = T_ALERT
T_ALERT_SLICE = slice_of(T_ALERT)
T_ALERTS = named("template.Alerts", T_ALERT_SLICE)
T_DATA = GoType(
    Kind.STRUCT,
    "template.Data",
    fields=(
        ("Receiver", T_STRING),
        ("Status", T_STRING),
        ("Alerts", T_ALERTS),
        ("GroupLabels", T_KV),
        ("CommonLabels", T_KV),
        ("CommonAnnotations", T_KV),
        ("ExternalURL", T_STRING),
    ),
    json_names=("receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations", "externalURL"),
)
T_DATA.underlying = T_DATA
T_DATA_PTR = pointer_to(T_DATA)

ALERT_NAME_LABEL = "alertname"


class KV(Map):
    """template.KV: a label or annotation set."""

    __slots__ = ()

    def __init__(self, items: Any = (), nil: bool = False) -> None:
        super().__init__(items, T_KV, nil)

    def sorted_pairs(self) -> Pairs:
        order = None if type(self) is KV else self._sort_key
        keys = sorted((k for k in self if k != ALERT_NAME_LABEL), key=order)
        if dict.__contains__(self, ALERT_NAME_LABEL):
            keys.insert(0, ALERT_NAME_LABEL)
        return Pairs(Pair(k, dict.__getitem__(self, k)) for k in keys)

    def remove(self, keys: Iterable[str]) -> KV:
        return self._without(set(keys))

    def _sort_key(self, key: str) -> str:
        return key

    def _without(self, drop: set[str]) -> KV:
        return KV((k, v) for k, v in self.items() if k not in drop)

    def names(self) -> Slice:
        return self.sorted_pairs().names()

    def values(self) -> Slice:  # type: ignore[override]
        return self.sorted_pairs().values()


class EscapedKV(KV):
    """A label or annotation set whose names and values went through `escape` (data for a
    template whose output is markup). It is still looked up by a label's own name
    (`.CommonLabels.pod_name`, `index .Labels "x"`, `.Remove`), and SortedPairs keeps the
    order of the names as the alert spelt them. (`range` over the map itself orders by the
    escaped names, as Go sorts the keys it is given.)"""

    __slots__ = ("_escape", "_raw", "_order")

    def __init__(self, raw: Mapping[str, str], escape: Callable[[str], str]) -> None:
        super().__init__((escape(k), escape(v)) for k, v in raw.items())
        self._escape = escape
        self._raw = dict(raw)
        self._order = {escape(k): k for k in raw}

    def _key(self, key: Any) -> Any:
        if dict.__contains__(self, key) or not isinstance(key, str):
            return key
        return self._escape(key)

    def get(self, key: Any, default: Any = None) -> Any:
        return dict.get(self, self._key(key), default)

    def __getitem__(self, key: Any) -> Any:
        return dict.__getitem__(self, self._key(key))

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, self._key(key))

    def _sort_key(self, key: str) -> str:
        return self._order.get(key, key)

    def _without(self, drop: set[str]) -> KV:
        gone = drop | {self._escape(k) for k in drop}
        return EscapedKV({k: v for k, v in self._raw.items() if k not in gone and self._escape(k) not in gone},
                         self._escape)


class Pair(Struct):
    __slots__ = ("Name", "Value")
    gotype = T_PAIR

    def __init__(self, name: str, value: str) -> None:
        self.Name = name
        self.Value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pair) and (self.Name, self.Value) == (other.Name, other.Value)

    def __hash__(self) -> int:
        return hash((self.Name, self.Value))


class Pairs(Slice):
    __slots__ = ()

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items, T_PAIRS)

    def names(self) -> Slice:
        return Slice((p.Name for p in self), T_STRING_SLICE)

    def values(self) -> Slice:
        return Slice((p.Value for p in self), T_STRING_SLICE)


class Alert(Struct):
    __slots__ = ("Status", "Labels", "Annotations", "StartsAt", "EndsAt", "GeneratorURL", "Fingerprint")
    gotype = T_ALERT

    def __init__(
        self,
        status: str,
        labels: KV,
        annotations: KV,
        starts_at: GoTime,
        ends_at: GoTime,
        generator_url: str,
        fingerprint: str,
    ) -> None:
        self.Status = status
        self.Labels = labels
        self.Annotations = annotations
        self.StartsAt = starts_at
        self.EndsAt = ends_at
        self.GeneratorURL = generator_url
        self.Fingerprint = fingerprint


class Alerts(Slice):
    __slots__ = ()

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items, T_ALERTS)

    def firing(self) -> Slice:
        return Slice((a for a in self if a.Status == "firing"), T_ALERT_SLICE)

    def resolved(self) -> Slice:
        return Slice((a for a in self if a.Status == "resolved"), T_ALERT_SLICE)


class Data(Struct):
    __slots__ = ("Receiver", "Status", "Alerts", "GroupLabels", "CommonLabels", "CommonAnnotations", "ExternalURL")
    gotype = T_DATA

    def __init__(
        self,
        receiver: str,
        status: str,
        alerts: Alerts,
        group_labels: KV,
        common_labels: KV,
        common_annotations: KV,
        external_url: str,
    ) -> None:
        self.Receiver = receiver
        self.Status = status
        self.Alerts = alerts
        self.GroupLabels = group_labels
        self.CommonLabels = common_labels
        self.CommonAnnotations = common_annotations
        self.ExternalURL = external_url


# Methods, as Go declares them (value receivers).
T_KV.methods["SortedPairs"] = GoFunc("SortedPairs", (), T_PAIRS, KV.sorted_pairs)
T_KV.methods["Remove"] = GoFunc("Remove", (T_STRING_SLICE,), T_KV, KV.remove)
T_KV.methods["Names"] = GoFunc("Names", (), T_STRING_SLICE, KV.names)
T_KV.methods["Values"] = GoFunc("Values", (), T_STRING_SLICE, KV.values)
T_PAIRS.methods["Names"] = GoFunc("Names", (), T_STRING_SLICE, Pairs.names)
T_PAIRS.methods["Values"] = GoFunc("Values", (), T_STRING_SLICE, Pairs.values)
T_ALERTS.methods["Firing"] = GoFunc("Firing", (), T_ALERT_SLICE, Alerts.firing)
T_ALERTS.methods["Resolved"] = GoFunc("Resolved", (), T_ALERT_SLICE, Alerts.resolved)


class TemplateData(Ptr):
    """The `*template.Data` a template executes on. Build it with `TemplateData.build` or `from_webhook`."""

    __slots__ = ()

    def __init__(self, data: Data) -> None:
        super().__init__(data, T_DATA_PTR)

    @property
    def data(self) -> Data:
        return self.elem

    @classmethod
    def build(
        cls,
        *,
        receiver: str,
        alerts: Sequence[AlertSnapshot],
        group_labels: Mapping[str, str],
        external_url: str,
        status: str | None = None,
    ) -> TemplateData:
        """Assemble the data as Alertmanager's `Template.Data` does.

        `receiver` is the receiver's name (quoted with Go's regexp.QuoteMeta, as Alertmanager
        does); `status` defaults to "firing" when any alert fires, else "resolved".
        """
        built = Alerts(a.to_alert() for a in alerts)
        if status is None:
            status = "firing" if any(a.Status == "firing" for a in built) else "resolved"
        common_labels, common_annotations = _common(alerts)
        return cls(
            Data(
                receiver=quote_meta(receiver),
                status=status,
                alerts=built,
                group_labels=KV(group_labels),
                common_labels=KV(common_labels),
                common_annotations=KV(common_annotations),
                external_url=external_url,
            )
        )

    def escaped(self, escape: Callable[[str], str]) -> TemplateData:
        """The same data with every piece of text an alert supplied passed through `escape`:
        label and annotation names and values (of each alert, and the group and common sets)
        and each alert's `GeneratorURL`, and the `ExternalURL` links are built on. What the
        configuration or alertbot supplied (the receiver, status, times, fingerprints) stays.
        The one place that lists them: a field added to the data must be added here."""
        d = self.data

        def kv(m: Mapping[str, str]) -> EscapedKV:
            raw = m._raw if isinstance(m, EscapedKV) else m
            return EscapedKV(raw, escape)

        alerts = Alerts(Alert(status=a.Status, labels=kv(a.Labels), annotations=kv(a.Annotations),
                              starts_at=a.StartsAt, ends_at=a.EndsAt, generator_url=escape(a.GeneratorURL),
                              fingerprint=a.Fingerprint) for a in d.Alerts)
        return TemplateData(Data(receiver=d.Receiver, status=d.Status, alerts=alerts,
                                 group_labels=kv(d.GroupLabels), common_labels=kv(d.CommonLabels),
                                 common_annotations=kv(d.CommonAnnotations), external_url=escape(d.ExternalURL)))

    @classmethod
    def from_webhook(cls, payload: Mapping[str, Any]) -> TemplateData:
        """The data behind a recorded Alertmanager webhook payload (version 4).

        The payload already carries the quoted receiver, the status and the common
        label/annotation sets, so they are taken as they are.
        """
        if not isinstance(payload, Mapping):
            raise ValueError("webhook payload must be a JSON object")
        alerts = Alerts()
        for i, raw in enumerate(_list(payload, "alerts")):
            if not isinstance(raw, Mapping):
                raise ValueError(f"alerts[{i}] must be a JSON object")
            alerts.append(
                Alert(
                    status=_str(raw, "status"),
                    labels=KV(_str_map(raw, "labels")),
                    annotations=KV(_str_map(raw, "annotations")),
                    starts_at=_time(raw, "startsAt"),
                    ends_at=_time(raw, "endsAt"),
                    generator_url=_str(raw, "generatorURL"),
                    fingerprint=_str(raw, "fingerprint"),
                )
            )
        return cls(
            Data(
                receiver=_str(payload, "receiver"),
                status=_str(payload, "status"),
                alerts=alerts,
                group_labels=KV(_str_map(payload, "groupLabels")),
                common_labels=KV(_str_map(payload, "commonLabels")),
                common_annotations=KV(_str_map(payload, "commonAnnotations")),
                external_url=_str(payload, "externalURL"),
            )
        )


@dataclass(frozen=True)
class AlertSnapshot:
    """One alert as the notifier hands it to templates (status already resolved against the flush time)."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    starts_at: _dt.datetime | GoTime | str | None = None
    ends_at: _dt.datetime | GoTime | str | None = None
    generator_url: str = ""
    fingerprint: str | None = None
    status: str = "firing"

    def to_alert(self) -> Alert:
        if self.fingerprint is None:
            from bot.routing.labels import fingerprint_hex

            fp = fingerprint_hex(self.labels)
        else:
            fp = self.fingerprint
        return Alert(
            status=self.status,
            labels=KV(self.labels),
            annotations=KV(self.annotations),
            starts_at=to_go_time(self.starts_at),
            # Alertmanager hides the end time of an alert that has not ended yet.
            ends_at=to_go_time(self.ends_at) if self.status != "firing" else ZERO_TIME,
            generator_url=self.generator_url,
            fingerprint=fp,
        )


def to_go_time(value: _dt.datetime | GoTime | str | None) -> GoTime:
    """A time for templates: a GoTime, an RFC 3339 string, an aware datetime (naive = UTC), or None (zero time)."""
    if value is None:
        return ZERO_TIME
    if isinstance(value, GoTime):
        return value
    if isinstance(value, str):
        return parse_rfc3339(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    offset = value.utcoffset() or _dt.timedelta(0)
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    t = GoTime(delta.days * 86400 + delta.seconds, delta.microseconds * 1000, UTC)
    if offset:
        from bot.templates.gotime import fixed_zone

        t = t.in_location(fixed_zone("", int(offset.total_seconds())))
    return t


def _common(alerts: Sequence[AlertSnapshot]) -> tuple[dict[str, str], dict[str, str]]:
    return common_pairs(a.labels for a in alerts), common_pairs(a.annotations for a in alerts)


_META = frozenset("\\.+*?()|[]{}^$")


def quote_meta(s: str) -> str:
    """Go's regexp.QuoteMeta."""
    if not any(c in _META for c in s):
        return s
    return "".join("\\" + c if c in _META else c for c in s)


def _list(obj: Mapping[str, Any], key: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a JSON array")
    return value


def _str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _str_map(obj: Mapping[str, Any], key: str) -> dict[str, str]:
    value = obj.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"{key} must be an object of strings")
    return dict(value)


def _time(obj: Mapping[str, Any], key: str) -> GoTime:
    value = obj.get(key)
    if value is None or value == "":
        return ZERO_TIME
    if not isinstance(value, str):
        raise ValueError(f"{key} must be an RFC 3339 string")
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None
