"""The `route:` tree and `inhibit_rules:` as configured (before the runtime tree is built)."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, field_validator

from bot.config.types import Bool, Duration, MatcherLine, Strict, Text
from bot.routing.matchers import Matcher, MatchType


def legacy_regex_matcher(name: str, value: str) -> Matcher:
    """A `match_re:` entry: Alertmanager anchors the value at load time and then uses the
    anchored text as the matcher value, so it is wrapped twice and prints anchored."""
    anchored = "^(?:" + value + ")$"
    Matcher.new(MatchType.REGEXP, name, value)  # the load-time compile, for its error
    return Matcher.new(MatchType.REGEXP, name, anchored)


class EscalationModel(Strict):
    """alertbot's Slack-first escalation (not Alertmanager's schema: a file that uses it no
    longer passes `amtool check-config`). The route notifies its own receiver first; if nobody
    acknowledges the group within `page_after`, the bot triggers `receiver`'s PagerDuty
    integrations. `resolve_unacknowledged: false` leaves an incident nobody acknowledged open in
    PagerDuty when the group resolves. Applies to the route where it is set, not its children."""

    page_after: Duration
    receiver: Text
    resolve_unacknowledged: Bool = True

    @field_validator("page_after")
    @classmethod
    def _not_negative(cls, v: float) -> float:
        if v < 0:
            raise ValueError("page_after must not be negative")
        return v


class RouteModel(Strict):
    receiver: Text | None = None
    group_by_str: list[Text] | None = Field(None, alias="group_by")
    match: dict[str, Text] | None = None
    match_re: dict[str, Text | None] | None = None
    matchers: list[MatcherLine] | None = None
    mute_time_intervals: list[Text] = []
    active_time_intervals: list[Text] = []
    continue_: Bool = Field(False, alias="continue")
    routes: list[RouteModel] = []
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    escalation: EscalationModel | None = None  # alertbot's extension, see EscalationModel
    # alertbot's extension (bot.chatops): acknowledging a group of this route also silences it
    # while its alerts fire. Applies to the route where it is set, not its children.
    ack_silence: Bool = False

    @field_validator("routes", "mute_time_intervals", "active_time_intervals", mode="before")
    @classmethod
    def _null_is_empty(cls, v: object) -> object:
        return [] if v is None else v

    # -- the RouteConfig protocol read by bot.routing.route.Route

    @property
    def group_by(self) -> list[str] | None:
        if self.group_by_str is None or "..." in self.group_by_str:
            return None
        return list(self.group_by_str)

    @property
    def group_by_all(self) -> bool:
        return self.group_by_str is not None and "..." in self.group_by_str

    @property
    def child_routes(self) -> Sequence[RouteModel]:
        return self.routes

    def all_matchers(self) -> list[Matcher]:
        out: list[Matcher] = []
        for name, value in (self.match or {}).items():
            out.append(Matcher.new(MatchType.EQUAL, name, value))
        for name, value in (self.match_re or {}).items():
            out.append(legacy_regex_matcher(name, value))
        for line in self.matchers or []:
            out.extend(line)
        return out

    def has_matchers(self) -> bool:
        return bool(self.match) or bool(self.match_re) or bool(self.matchers and any(self.matchers))


class InhibitRuleModel(Strict):
    source_match: dict[str, Text] | None = None
    source_match_re: dict[str, Text | None] | None = None
    source_matchers: list[MatcherLine] | None = None
    target_match: dict[str, Text] | None = None
    target_match_re: dict[str, Text | None] | None = None
    target_matchers: list[MatcherLine] | None = None
    equal: list[Text] = []

    @field_validator("equal", mode="before")
    @classmethod
    def _null_is_empty(cls, v: object) -> object:
        return [] if v is None else v

    def source(self) -> list[Matcher]:
        return _side(self.source_match, self.source_match_re, self.source_matchers)

    def target(self) -> list[Matcher]:
        return _side(self.target_match, self.target_match_re, self.target_matchers)


def _side(match: dict[str, str] | None, match_re: dict[str, str] | None,
          matchers: list[tuple[Matcher, ...]] | None) -> list[Matcher]:
    out = [Matcher.new(MatchType.EQUAL, n, v) for n, v in (match or {}).items()]
    out += [legacy_regex_matcher(n, v) for n, v in (match_re or {}).items()]
    for line in matchers or []:
        out.extend(line)
    return out
