"""Silences with Alertmanager's validation, update and expiry rules (`silence/silence.go`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.engine.timestamp import Timestamp
from bot.routing import goregex
from bot.routing.labels import go_quote, is_classic_label_name, is_utf8_label_name
from bot.routing.matchers import Matcher, MatcherError, Matchers, MatchersMode, MatchType
from bot.store.rows import SilenceRow

PENDING, ACTIVE, EXPIRED = "pending", "active", "expired"


class SilenceError(ValueError):
    """A silence that cannot be stored; the message is Alertmanager's."""


class SilenceNotFound(LookupError):
    def __str__(self) -> str:
        return "silence not found"


@dataclass(slots=True)
class Silence:
    id: str
    matchers: Matchers
    starts_at: Timestamp
    ends_at: Timestamp
    updated_at: Timestamp
    created_by: str
    comment: str
    _matchers_key: tuple = field(default=(), repr=False)

    def state(self, now: Timestamp) -> str:
        if now.ns < self.starts_at.ns:
            return PENDING
        if now.ns > self.ends_at.ns:
            return EXPIRED
        return ACTIVE

    def matches(self, labels: Mapping[str, str]) -> bool:
        return self.matchers.matches(labels)

    def to_row(self) -> SilenceRow:
        return SilenceRow(
            id=self.id,
            matchers=json.dumps([{"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal}
                                 for m in self.matchers]),
            starts_at_ns=self.starts_at.ns, ends_at_ns=self.ends_at.ns, updated_at_ns=self.updated_at.ns,
            created_by=self.created_by, comment=self.comment)

    @classmethod
    def from_row(cls, row: SilenceRow) -> Silence:
        ms = Matchers(Matcher.new(MatchType.from_api(m["isRegex"], m.get("isEqual", True)), m["name"], m["value"])
                      for m in json.loads(row.matchers))
        return cls(row.id, ms, Timestamp(row.starts_at_ns), Timestamp(row.ends_at_ns), Timestamp(row.updated_at_ns),
                   row.created_by, row.comment)


def _key(matchers: Iterable[Matcher]) -> tuple:
    return tuple((m.type, m.name, m.value) for m in matchers)


def _matches_empty(m: Matcher) -> bool:
    # Alertmanager tests the *unanchored* pattern here, and counts only = and =~.
    if m.type is MatchType.EQUAL:
        return m.value == ""
    if m.type is MatchType.REGEXP:
        try:
            return goregex.compile(m.value).match_string("")
        except goregex.GoRegexError:
            return False
    return False


def build_matchers(items: Iterable[tuple[str, str, bool, bool]], mode: MatchersMode) -> Matchers:
    """From (name, value, isRegex, isEqual) tuples, validated as Alertmanager does."""
    out = []
    for i, (name, value, is_regex, is_equal) in enumerate(items):
        valid = is_classic_label_name(name) if mode == "classic" else is_utf8_label_name(name)
        if not valid:
            raise SilenceError(f"silence invalid: invalid label matcher {i}: invalid label name {go_quote(name)}")
        if is_regex:
            # Alertmanager's ValidateMatcher compiles the pattern as given (not anchored).
            try:
                goregex.compile(value)
            except goregex.GoRegexError as exc:
                raise SilenceError(f"silence invalid: invalid label matcher {i}: invalid regular expression "
                                   f"{go_quote(value)}: {exc}") from None
        try:
            out.append(Matcher.new(MatchType.from_api(is_regex, is_equal), name, value))
        except MatcherError as exc:
            raise SilenceError(f"silence invalid: invalid label matcher {i}: {exc}") from None
    return Matchers(out)


class Silences:
    """The silence store in memory; every change returns the rows to persist."""

    def __init__(self) -> None:
        self.by_id: dict[str, Silence] = {}
        self.version = 0

    def load(self, rows: Iterable[SilenceRow]) -> None:
        for row in rows:
            s = Silence.from_row(row)
            self.by_id[s.id] = s
        self.version += 1

    def get(self, sid: str) -> Silence:
        try:
            return self.by_id[sid]
        except KeyError:
            raise SilenceNotFound from None

    def validate(self, s: Silence) -> None:
        if not s.matchers:
            raise SilenceError("silence invalid: at least one matcher required")
        if all(_matches_empty(m) for m in s.matchers):
            raise SilenceError("silence invalid: at least one matcher must not match the empty string")
        if s.ends_at.ns < s.starts_at.ns:
            raise SilenceError("silence invalid: end time must not be before start time")

    def set(self, incoming: Silence, now: Timestamp) -> tuple[str, list[SilenceRow]]:
        """Creates or updates; returns the silence id and the rows that changed.

        An update keeps the id only when the matchers are unchanged and the change is
        allowed for the silence's state; otherwise the old silence is expired and a new one
        (new id) is created — Alertmanager's rule, so clients must use the returned id.
        """
        rows: list[SilenceRow] = []
        if incoming.id:
            prev = self.by_id.get(incoming.id)
            if prev is None:
                raise SilenceNotFound
            if self._can_update(prev, incoming, now):
                incoming.updated_at = now
                self.validate(incoming)
                self._put(incoming)
                return incoming.id, [incoming.to_row()]
            if prev.state(now) != EXPIRED:
                rows += self._expire(prev, now)
        incoming = Silence(str(uuid.uuid4()), incoming.matchers, incoming.starts_at, incoming.ends_at, now,
                           incoming.created_by, incoming.comment)
        if incoming.starts_at.ns < now.ns:
            incoming.starts_at = Timestamp(now.ns, incoming.starts_at.offset)
        self.validate(incoming)
        self._put(incoming)
        rows.append(incoming.to_row())
        return incoming.id, rows

    @staticmethod
    def _can_update(a: Silence, b: Silence, now: Timestamp) -> bool:
        if _key(a.matchers) != _key(b.matchers):
            return False
        state = a.state(now)
        if state == ACTIVE:
            return b.starts_at.ns // 1_000_000_000 == a.starts_at.ns // 1_000_000_000 and not b.ends_at.ns < now.ns
        if state == PENDING:
            return not b.starts_at.ns < now.ns
        return False

    def expire(self, sid: str, now: Timestamp) -> list[SilenceRow]:
        return self._expire(self.get(sid), now)

    def _expire(self, s: Silence, now: Timestamp) -> list[SilenceRow]:
        state = s.state(now)
        if state == EXPIRED:
            return []
        copy = Silence(s.id, s.matchers, s.starts_at, s.ends_at, now, s.created_by, s.comment)
        if state == ACTIVE:
            copy.ends_at = now
        else:
            copy.starts_at = now
            copy.ends_at = now
        self._put(copy)
        return [copy.to_row()]

    def _put(self, s: Silence) -> None:
        self.by_id[s.id] = s
        self.version += 1

    def mutes(self, labels: Mapping[str, str], now: Timestamp) -> list[str]:
        """Ids of the active silences matching the labels (sorted)."""
        return sorted(s.id for s in self.by_id.values() if s.state(now) == ACTIVE and s.matches(labels))

    def pending_for(self, labels: Mapping[str, str], now: Timestamp) -> list[str]:
        return sorted(s.id for s in self.by_id.values() if s.state(now) == PENDING and s.matches(labels))

    def all(self) -> list[Silence]:
        return list(self.by_id.values())
