"""Who may do what: the `access` section applied to one Slack user and one request.

Identity is the Slack user id of the signed request — never a name it carries. A rule names
a user by id (`U…`), by `@name` (the Slack username that `users.info` gives for that id, read
from Slack and cached, never taken from the request) or through a Slack user group
(`usergroups.list` / `usergroups.users.list`, cached). A group or name that cannot be read
counts as not naming the user, and the refusal says so.

For each action, the grants that apply are those of the rules that name the user and allow
it — or, when no such rule exists, `everyone` (if it allows it). A rule thus replaces
`everyone` for what it allows: its `silence` policy is what its members may do, whatever
`everyone` allows. Then:

- `ack`, `query`, `page`: allowed when such a grant exists.
- `silence` (creating one, from the command, the menu, the modal or an `ack_silence` route):
  allowed when one grant's policy covers it — the silence contains each `required_matchers`
  entry as written; when the policy's `scope` is `group`, it contains the labels of one open
  alert group as equality matchers (what the Silence buttons on its message make; any further
  matcher only narrows it, so it silences nothing that silence would not); and it lasts at
  most `max_duration`.
- `expire`: allowed for a silence one grant's policy covers as above, whatever its length —
  a user may expire what their grant could have created (ending a silence early hides nothing,
  so `max_duration` does not apply).

A refusal says why, grant by grant, so that the person knows what would be allowed.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from bot.chatops.settings import AccessModel, Grant, Rule, SilencePolicy
from bot.config.durations import format_duration
from bot.notify.slack.mrkdwn import code
from bot.routing.matchers import Matcher

GROUP_CACHE_S = 300.0
NAME_CACHE_S = 300.0

# A silence's matchers as a set, for comparing with a group's labels and required matchers.
MatcherSet = frozenset[tuple[int, str, str]]


def matcher_set(matchers: Iterable[Matcher]) -> MatcherSet:
    return frozenset((int(m.type), m.name, m.value) for m in matchers)


class Refused(Exception):
    """An action this user may not do, or a request that is not acceptable; `str()` says why."""

    def __init__(self, action: str, reason: str) -> None:
        super().__init__(reason)
        self.action = action
        self.reason = reason


@dataclass(frozen=True)
class User:
    """A Slack user: `id` from the signed request is the identity. `name` is the name the
    request carried, for display only (who created a silence, audit rows): access never
    reads it."""

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


class UserNames:
    """The Slack username of a user id, as Slack's API says (users.info, scope users:read),
    cached like the user groups. The reader returns "" for a user that has no name to match
    (a deactivated account) and raises with a short reason when it cannot read."""

    def __init__(self, read_name: Callable[[str], Awaitable[str]]) -> None:
        self._read_name = read_name
        self._names: dict[str, tuple[float, str]] = {}

    async def name_of(self, user_id: str) -> str:
        now = time.monotonic()
        cached = self._names.get(user_id)
        if cached is None or now - cached[0] > NAME_CACHE_S:
            cached = (now, (await self._read_name(user_id)).strip().lower())
            self._names[user_id] = cached
        return cached[1]


class Access:
    def __init__(self, model: Callable[[], AccessModel], groups: GroupMembers | None,
                 names: UserNames | None = None) -> None:
        self._model = model
        self._groups = groups
        # Set by whoever holds a Slack client (bot.chatops.handlers); without it an @name rule
        # names nobody, and the refusal says so.
        self.names = names

    async def grants(self, user: User) -> tuple[list[tuple[str, Grant]], list[str]]:
        """[(who the grant is for, grant)] — `everyone` first, then every rule that names the
        user — and notes on user groups and names that could not be read."""
        model = self._model()
        out: list[tuple[str, Grant]] = [("everyone", model.everyone)]
        notes: list[str] = []
        name: list[str | None] = []  # read once, when a rule names someone by @name
        for i, rule in enumerate(model.rules):
            label = f"rule {rule.name!r}" if rule.name else f"rule #{i + 1}"
            if await self._applies(rule, user, notes, name):
                out.append((label, rule))
        return out, notes

    async def grants_for(self, user: User, action: str) -> tuple[list[tuple[str, Grant]], list[str]]:
        """The grants that decide `action` for this user: the rules naming them that allow it,
        else `everyone` if it allows it."""
        grants, notes = await self.grants(user)
        rules = [(who, g) for who, g in grants[1:] if action in g.allow]
        if rules:
            return rules, notes
        everyone = grants[0]
        return ([everyone] if action in everyone[1].allow else []), notes

    async def _applies(self, rule: Rule, user: User, notes: list[str], name: list[str | None]) -> bool:
        for u in rule.users:
            if u == user.id:
                return True
        for u in rule.users:
            if u.startswith("@") and await self._name_of(user, notes, name) == u[1:].lower():
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

    async def _name_of(self, user: User, notes: list[str], name: list[str | None]) -> str | None:
        if not name:
            if self.names is None:
                notes.append("@names not checked: no Slack client to read them with")
                name.append(None)
            else:
                try:
                    name.append(await self.names.name_of(user.id) or None)
                except Exception as exc:  # a name we cannot read does not grant anything
                    notes.append(f"your Slack username could not be read ({_short(exc)})")
                    name.append(None)
        return name[0]

    async def check(self, user: User, action: str) -> None:
        """Raises Refused unless a grant allows `action` (for ack, query, page)."""
        if action in self._model().everyone.allow:
            return  # a rule could only allow it too: no need to read user groups
        grants, notes = await self.grants_for(user, action)
        if grants:
            return
        raise Refused(action, _not_allowed(action, notes))

    async def check_silence(self, user: User, matchers: Iterable[Matcher], duration_s: float,
                            action: str = "silence", *, group_scopes: Collection[MatcherSet] = ()) -> str:
        """Raises Refused unless a grant allows creating this silence; returns which grant
        did. `group_scopes`: the open alert groups' labels as matchers (for `scope: group`)."""
        return await self._covered(user, action, matcher_set(matchers), duration_s, group_scopes)

    async def check_expire(self, user: User, matchers: Iterable[Matcher], *,
                           group_scopes: Collection[MatcherSet] = ()) -> str:
        """Raises Refused unless a grant allowing `expire` could have created a silence with
        these matchers (of any length); returns which grant."""
        return await self._covered(user, "expire", matcher_set(matchers), None, group_scopes)

    async def _covered(self, user: User, action: str, have: MatcherSet, duration_s: float | None,
                       group_scopes: Collection[MatcherSet]) -> str:
        grants, notes = await self.grants_for(user, action)
        if not grants:
            raise Refused(action, _not_allowed(action, notes))
        why = []
        for who, g in grants:
            problems = _policy_problems(g.silence, have, duration_s, group_scopes)
            if not problems:
                return who
            why.append(f"{who}: " + " and ".join(problems))
        what = "this silence is not allowed" if action == "silence" else \
            "you may expire only silences your access rules would let you create"
        reason = f"{what} — " + "; ".join(why)
        if any(who != "everyone" for who, _ in grants):
            reason += " (a rule that names you replaces `everyone`)"
        if notes:
            reason += " (" + "; ".join(notes) + ")"
        raise Refused(action, reason)


def _policy_problems(policy: SilencePolicy, have: MatcherSet, duration_s: float | None,
                     group_scopes: Collection[MatcherSet]) -> list[str]:
    problems = []
    missing = [m for line in policy.required_matchers for m in line if (int(m.type), m.name, m.value) not in have]
    if missing:
        problems.append("the silence must contain " + ", ".join(code(str(m), 200) for m in missing))
    if policy.scope == "group" and not any(scope <= have for scope in group_scopes):
        problems.append("only a silence of one open alert group's labels (what the Silence buttons on its "
                        "message make; more matchers may narrow it), not broader matchers")
    if duration_s is not None and policy.max_duration is not None and duration_s > policy.max_duration + 1e-9:
        problems.append(f"at most {format_duration(policy.max_duration)} "
                        f"(asked for {format_duration(duration_s)})")
    return problems


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
