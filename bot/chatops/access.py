"""Who may do what: the `access` section applied to one Slack user and one request.

A user holds the `everyone` grant and the grant of every rule that names them (by user id,
by @name, or through a Slack user group). An action is allowed when one of those grants
allows it; a silence must also satisfy that grant's `silence` policy — contain each required
matcher as written, and last no longer than `max_duration`. A refusal says why, grant by
grant, so that the person knows what would be allowed.

User groups are read with `usergroups.list` / `usergroups.users.list` (scope usergroups:read)
and cached for a few minutes; a group that cannot be read counts as not containing the user,
and the refusal says so.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.chatops.settings import AccessModel, Grant, Rule
from bot.config.durations import format_duration
from bot.notify.slack.mrkdwn import code
from bot.routing.matchers import Matcher

GROUP_CACHE_S = 300.0


class Refused(Exception):
    """An action this user may not do, or a request that is not acceptable; `str()` says why."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


# (user group id or handle) -> member ids; raises with a short reason when it cannot be read
GroupReader = Callable[[str], Awaitable[frozenset[str]]]


class GroupMembers:
    """Slack user group membership, cached."""

    def __init__(self, read_handles: Callable[[], Awaitable[dict[str, str]]],
                 read_members: Callable[[str], Awaitable[Sequence[str]]]) -> None:
        self._read_handles = read_handles  # handle -> id
        self._read_members = read_members  # id -> user ids
        self._handles: tuple[float, dict[str, str]] | None = None
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    async def members(self, group: str) -> frozenset[str]:
        gid = group.lstrip("@")
        if not (gid.startswith("S") and gid.isalnum() and gid.isupper()):
            now = time.monotonic()
            if self._handles is None or now - self._handles[0] > GROUP_CACHE_S:
                self._handles = (now, await self._read_handles())
            found = self._handles[1].get(gid.lower())
            if found is None:
                raise LookupError(f"no Slack user group @{gid}")
            gid = found
        now = time.monotonic()
        cached = self._members.get(gid)
        if cached is None or now - cached[0] > GROUP_CACHE_S:
            cached = (now, frozenset(await self._read_members(gid)))
            self._members[gid] = cached
        return cached[1]


class Access:
    def __init__(self, model: Callable[[], AccessModel], groups: GroupMembers | None) -> None:
        self._model = model
        self._groups = groups

    async def grants(self, user: User) -> tuple[list[tuple[str, Grant]], list[str]]:
        """[(who the grant is for, grant)], and notes on user groups that could not be read."""
        model = self._model()
        out: list[tuple[str, Grant]] = [("everyone", model.everyone)]
        notes: list[str] = []
        for i, rule in enumerate(model.rules):
            label = f"rule {rule.name!r}" if rule.name else f"rule #{i + 1}"
            if await self._applies(rule, user, notes):
                out.append((label, rule))
        return out, notes

    async def _applies(self, rule: Rule, user: User, notes: list[str]) -> bool:
        for u in rule.users:
            if u == user.id or (u.startswith("@") and user.name and u[1:].lower() == user.name.lower()):
                return True
        for g in rule.groups:
            if self._groups is None:
                notes.append(f"user group {g} not checked: no Slack token")
                continue
            try:
                if user.id in await self._groups.members(g):
                    return True
            except Exception as exc:  # a group we cannot read does not grant anything
                notes.append(f"user group {g} could not be read ({_short(exc)})")
        return False

    async def check(self, user: User, action: str) -> None:
        """Raises Refused unless one of the user's grants allows `action`."""
        if action in self._model().everyone.allow:
            return  # no need to read user groups
        grants, notes = await self.grants(user)
        if any(action in g.allow for _, g in grants):
            return
        raise Refused(action, _not_allowed(action, notes))

    async def check_silence(self, user: User, matchers: Iterable[Matcher], duration_s: float,
                            action: str = "silence") -> str:
        """Raises Refused unless a grant allows this silence; returns which grant did."""
        everyone = self._model().everyone
        if action in everyone.allow and _silence_ok(everyone, matchers, duration_s):
            return "everyone"
        grants, notes = await self.grants(user)
        allowing = [(who, g) for who, g in grants if action in g.allow]
        if not allowing:
            raise Refused(action, _not_allowed(action, notes))
        have = {(m.type, m.name, m.value) for m in matchers}
        why = []
        for who, g in allowing:
            policy = g.silence
            missing = [m for line in policy.required_matchers for m in line
                       if (m.type, m.name, m.value) not in have]
            too_long = policy.max_duration is not None and duration_s > policy.max_duration + 1e-9
            if not missing and not too_long:
                return who
            parts = []
            if missing:
                parts.append("the silence must contain " + ", ".join(code(str(m), 200) for m in missing))
            if too_long:
                assert policy.max_duration is not None
                parts.append(f"at most {format_duration(policy.max_duration)} "
                             f"(asked for {format_duration(duration_s)})")
            why.append(f"{who}: " + " and ".join(parts))
        reason = "this silence is not allowed — " + "; ".join(why)
        if notes:
            reason += " (" + "; ".join(notes) + ")"
        raise Refused(action, reason)


def _silence_ok(g: Grant, matchers: Iterable[Matcher], duration_s: float) -> bool:
    have = {(m.type, m.name, m.value) for m in matchers}
    if any((m.type, m.name, m.value) not in have for line in g.silence.required_matchers for m in line):
        return False
    return g.silence.max_duration is None or duration_s <= g.silence.max_duration + 1e-9


def _not_allowed(action: str, notes: list[str]) -> str:
    what = {"ack": "acknowledge alerts", "silence": "create silences", "expire": "expire silences",
            "page": "page PagerDuty by hand", "query": "run Prometheus queries"}.get(action, action)
    text = (f"you may not {what}: no access rule allows `{action}` for you "
            f"(ask an admin to add you to a rule in the bot's settings, section `access`)")
    if notes:
        text += " (" + "; ".join(notes) + ")"
    return text


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "…"
