"""What people can do from Slack, independent of how the request arrived (slash command,
button, modal; HTTP or Socket Mode). Each operation checks access, changes state through the
engine (one committed cycle: the state, its audit row, the Slack redraw and thread line, the
PagerDuty event land together), then talks to the outside (the upstream Alertmanager,
Prometheus, Slack uploads) and returns a `Reply`.

Errors people can act on are exceptions with a message for them: `Refused` (access, policy,
unsafe input), `InputError` (cannot be understood), `NotFound`, `Unavailable` (a peer or the
bot itself is not ready). The caller shows them and logs them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.chatops import parse
from bot.chatops.access import Access, MatcherSet, Refused, User, matcher_set
from bot.chatops.acks import NS_ACK, NS_SILENCE, AckExtension, GroupGone, NotAllowedHere, group_matchers
from bot.chatops.errors import NotFound, Unavailable
from bot.chatops.info import InfoOps
from bot.chatops.parse import InputError
from bot.chatops.queries import QueryOps
from bot.chatops.render import (
    Reply,
    affected_lines,
    answer,
    esc,
    fmt_age,
    fmt_duration,
    matchers_text,
    silence_preview_blocks,
    simple,
    who_mention,
)
from bot.chatops.upstream import Upstream, UpstreamError
from bot.engine.engine import Engine, Txn
from bot.engine.groups import AggrGroup
from bot.engine.silences import ACTIVE, PENDING, Silence, SilenceError, Silences, build_matchers
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.notify.slack.message import date
from bot.notify.slack.mrkdwn import code
from bot.notify.slack.view import short_id
from bot.routing.matchers import Matcher, MatcherError, Matchers, parse_matchers

if TYPE_CHECKING:
    from bot.chatops.app import Chatops

log = get_logger("alertbot.chatops")

NS = 1_000_000_000
MAX_LIST = 25
MAX_GROUPS = 20  # acknowledged at once by matchers


@dataclass


class SilenceRequest:
    matchers: list[Matcher]
    duration_s: float
    comment: str

    def to_json(self, user: User) -> dict[str, Any]:
        return {"m": [str(m) for m in self.matchers], "d": self.duration_s, "c": self.comment, "u": user.id}

    @classmethod
    def from_json(cls, doc: dict[str, Any], mode: Any) -> SilenceRequest:
        ms: list[Matcher] = []
        for text in doc.get("m", []):
            ms.extend(parse_matchers(str(text), mode))
        return cls(ms, float(doc["d"]), str(doc.get("c", "")))


class Operations(QueryOps, InfoOps):
    def __init__(self, chatops: Chatops) -> None:
        self.c = chatops

    # ------------------------------------------------------------------ shared helpers
    @property
    def engine(self) -> Engine:
        rt = self.c.runtime
        if rt.engine is None or not rt.ready:
            why = rt.boot_error or "loading its state from the database"
            raise Unavailable(f"alertbot is not ready ({why}); try again in a moment")
        return rt.engine

    @property
    def acks(self) -> AckExtension:
        return self.c.acks

    @property
    def access(self) -> Access:
        return self.c.access

    @property
    def upstream(self) -> Upstream | None:
        return self.c.upstream

    @property
    def mode(self) -> Any:
        return self.c.runtime.config.matchers_mode

    def now(self) -> Timestamp:
        return Timestamp.now()

    def live_groups(self) -> list[AggrGroup]:
        return sorted(self.engine.groups.values(), key=lambda g: g.created_ns)

    def find_groups(self, text: str) -> tuple[list[AggrGroup], str]:
        """The groups named at the start of `text` (a short id, a group id, or matchers) and
        the rest of the text."""
        toks = parse.tokens(text)
        if not toks:
            raise InputError("which alert group? Give the id shown on its message (e.g. `3fa9c2d1`) or matchers "
                             "(e.g. `alertname=\"DiskFull\"`); `/oncall alerts` lists them")
        first = toks[0].text
        engine = self.engine
        if parse.SHORT_ID.match(first.lower()) or first in engine.groups:
            wanted = first.lower()
            groups = [g for g in engine.groups.values() if g.id == first or short_id(g.id) == wanted]
            if not groups:
                raise NotFound(f"no open alert group {code(first, 80)}: it has resolved, or the id is mistyped "
                               "(`/oncall alerts` lists the open ones)")
            return groups, _strip_dashes(text[toks[0].end:])
        matchers, rest = parse.leading_matchers(text, self.mode)
        if not matchers:
            raise InputError(f"{code(first, 80)} is neither a group id (8 characters, e.g. `3fa9c2d1`) nor a "
                             "matcher (e.g. `alertname=\"DiskFull\"`)")
        ms = Matchers(matchers)
        now = self.now()
        groups = [g for g in self.live_groups()
                  if any(not a.resolved_at(now) and ms.matches(a.labels) for a in g.alerts.values())]
        if not groups:
            raise NotFound(f"no open alert group has firing alerts matching {matchers_text(matchers)}")
        return groups, rest

    def group_by_ref(self, ref: dict[str, Any]) -> AggrGroup:
        """A button's group reference: {"g": group id} or {"s": short id}."""
        engine = self.engine
        if "g" in ref and ref["g"] in engine.groups:
            return engine.groups[ref["g"]]
        wanted = str(ref.get("s") or (short_id(str(ref["g"])) if "g" in ref else ""))
        for g in engine.groups.values():
            if short_id(g.id) == wanted:
                return g
        raise NotFound("this alert group has resolved since the message was drawn: nothing to do")

    def describe_group(self, g: AggrGroup) -> str:
        now = self.now()
        firing = [a for a in g.alerts.values() if not a.resolved_at(now)]
        names = sorted({a.name for a in g.alerts.values() if a.name})
        name = names[0] if len(names) == 1 else f"{len(names)} alert names"
        return f"{code(short_id(g.id), 20)} *{esc(name)}* ({len(firing)} firing)"

    async def _transact(self, fn: Callable[[Txn], Any]) -> Any:
        return await self.engine.transact(fn)

    # ------------------------------------------------------------------ access to silences
    def group_scopes(self) -> set[MatcherSet]:
        """The matchers of a silence of exactly one open group (what its Silence buttons make)."""
        now = self.now()
        return {matcher_set(ms) for g in self.engine.groups.values() if (ms := group_matchers(g, now)) is not None}

    async def check_silence(self, user: User, matchers: Sequence[Matcher], duration_s: float) -> str:
        return await self.access.check_silence(user, matchers, duration_s, group_scopes=self.group_scopes())

    async def check_expire(self, user: User, matchers: Sequence[Matcher]) -> str:
        return await self.access.check_expire(user, matchers, group_scopes=self.group_scopes())

    # ------------------------------------------------------------------ ack / unack
    def _few(self, groups: Sequence[AggrGroup]) -> None:
        if len(groups) > MAX_GROUPS:
            raise InputError(f"these matchers select {len(groups)} alert groups; at most {MAX_GROUPS} at once — "
                             "narrow them (`/oncall alerts <matchers>` shows what they select)")

    async def ack(self, user: User, groups: Sequence[AggrGroup], comment: str) -> Reply:
        self._few(groups)
        await self.access.check(user, "ack")
        comment = parse.comment(comment)
        gids = [g.id for g in groups]
        # An `ack_silence` route's acknowledgement also creates a silence: only for someone who
        # may create that silence (else the acknowledgement alone, and the answer says why).
        no_silence: dict[str, str] = {}
        now = self.now()
        for g in groups:
            ms = group_matchers(g, now) if getattr(g.route.config, "ack_silence", False) else None
            if ms is not None and self.acks.current(g.id) is None:
                try:
                    await self.check_silence(user, list(ms), self.acks.ack_silence_s)
                except Refused as exc:
                    no_silence[g.id] = exc.reason

        def fn(txn: Txn) -> list[tuple[str, Any]]:
            out: list[tuple[str, Any]] = []
            for gid in gids:
                try:
                    out.append((gid, self.acks.acknowledge(txn, gid, user, comment,
                                                           ack_silence=gid not in no_silence)))
                except GroupGone:
                    out.append((gid, None))
            return out

        results = await self._transact(fn)
        lines = []
        new_silences = []
        for gid, change in results:
            g = self.engine.groups.get(gid)
            label = self.describe_group(g) if g is not None else code(short_id(gid), 20)
            if change is None:
                lines.append(f"✅ {label} resolved meanwhile: nothing to acknowledge.")
            elif not change.changed:
                lines.append(f"👀 {label} was already acknowledged by {who_mention(change.by, change.name)}.")
            else:
                extra = []
                if change.pagerduty:
                    extra.append("PagerDuty told")
                if change.escalation_cancelled:
                    extra.append("escalation off")
                if change.silence_id:
                    extra.append(f"ack silence {code(change.silence_id[:8], 20)} while it fires")
                    new_silences.append(change.silence_id)
                if change.note:
                    extra.append(esc(change.note))
                if gid in no_silence:
                    extra.append(f"no ack silence: {no_silence[gid]}")
                lines.append(f"👀 Acknowledged {label}" + (f" — {'; '.join(extra)}" if extra else "") + ".")
        if new_silences:
            notes = await self.c.upkeep.sync_upstream(new_silences)
            lines.extend(notes)
        return answer(lines)

    async def unack(self, user: User, groups: Sequence[AggrGroup]) -> Reply:
        self._few(groups)
        await self.access.check(user, "ack")
        gids = [g.id for g in groups]

        def fn(txn: Txn) -> list[tuple[str, Any]]:
            out: list[tuple[str, Any]] = []
            for gid in gids:
                try:
                    out.append((gid, self.acks.unacknowledge(txn, gid, user)))
                except GroupGone:
                    out.append((gid, None))
                except NotAllowedHere as exc:
                    out.append((gid, exc))
            return out

        results = await self._transact(fn)
        lines, expired = [], []
        for gid, change in results:
            g = self.engine.groups.get(gid)
            label = self.describe_group(g) if g is not None else code(short_id(gid), 20)
            if change is None:
                lines.append(f"✅ {label} resolved meanwhile.")
            elif isinstance(change, NotAllowedHere):
                lines.append(f"🚫 {label}: {change}")
            elif not change.changed:
                lines.append(f"{label} was not acknowledged.")
            else:
                lines.append(f"🔔 Unacknowledged {label}: repeats and escalation apply again"
                             + (f"; ack silence {code(change.silence_id[:8], 20)} expired" if change.silence_id else "")
                             + ".")
                if change.silence_id:
                    expired.append(change.silence_id)
        if expired:
            lines.extend(await self.c.upkeep.sync_upstream(expired))
        return answer(lines)

    # ------------------------------------------------------------------ silences
    def parse_silence(self, text: str) -> SilenceRequest:
        toks = parse.tokens(text)
        if not toks:
            raise InputError("usage: `silence <duration> <matchers> [-- comment]`, e.g. "
                             "`silence 2h alertname=\"DiskFull\" instance=\"db-1\" -- replacing the disk`")
        seconds = parse.duration(toks[0].text)
        head, after = parse.split_comment(text[toks[0].end:])
        if after:
            matchers = parse.strict_matchers(head, self.mode)
            comment = after
        else:
            matchers, comment = parse.leading_matchers(head, self.mode)
        if not matchers:
            raise InputError("which alerts? Give matchers after the duration, e.g. `alertname=\"DiskFull\"`")
        return SilenceRequest(matchers, seconds, parse.comment(comment))

    def validate_silence(self, req: SilenceRequest, user: User) -> Silence:
        """The silence as it would be stored (Alertmanager's validation; InputError if refused)."""
        now = self.now()
        try:
            ms = build_matchers(((m.name, m.value, m.is_regex, m.is_equal) for m in req.matchers), self.mode)
            # Alertmanager requires a comment; one is made up when none was given.
            comment = req.comment or f"created from Slack by {user.name or user.id}"
            s = Silence("", ms, now, now.add(req.duration_s), now, user.name or user.id, comment)
            Silences().validate(s)
        except SilenceError as exc:
            raise Refused("silence", f"Alertmanager would refuse this silence: {exc}") from None
        return s

    async def affected_here(self, matchers: Sequence[Matcher]) -> dict[int, tuple[str, dict[str, str]]]:
        """Firing alerts in alertbot that the matchers select: fingerprint -> (group, labels).
        Every alert is read: in slices, beside the engine (bot.engine.reads)."""
        ms = Matchers(matchers)
        engine = self.engine
        async with engine.reads.turn() as slicer:
            now = self.now()
            where: dict[int, str] = {}
            for g in list(engine.groups.values()):
                await slicer.pause()
                for fp in list(g.alerts):
                    where.setdefault(fp, f"group {short_id(g.id)}")
            found = {}
            for a in list(engine.alerts.values()):
                await slicer.pause()
                if not a.resolved_at(now) and ms.matches(a.labels):
                    found[a.fingerprint] = (where.get(a.fingerprint, ""), a.labels)
        return found

    async def affected(self, matchers: Sequence[Matcher]) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
        """Firing alerts the matchers select here and in the upstream Alertmanager, and notes."""
        found = await self.affected_here(matchers)
        notes: list[str] = []
        if self.upstream is not None:
            try:
                for a in await self.upstream.alerts(matchers):
                    try:
                        fp = int(str(a.get("fingerprint", "")), 16)
                    except ValueError:
                        continue
                    labels = a.get("labels") if isinstance(a.get("labels"), dict) else {}
                    if Matchers(matchers).matches(labels):
                        found.setdefault(fp, ("Alertmanager only", labels))
            except UpstreamError as exc:
                notes.append(f"⚠️ {esc(str(exc))}: the count covers alertbot's alerts only")
        items = sorted(found.values(), key=lambda x: (x[1].get("alertname", ""), sorted(x[1].items())))
        return items, notes

    async def silence_preview(self, user: User, text: str) -> Reply:
        req = self.parse_silence(text)
        self.validate_silence(req, user)
        await self.check_silence(user, req.matchers, req.duration_s)
        items, notes = await self.affected(req.matchers)
        return silence_preview_blocks(req.matchers, req.duration_s, req.comment, affected_lines(items),
                                      len(items), req.to_json(user), notes)

    async def create_silence(self, user: User, req: SilenceRequest, *, group_id: str = "",
                             how: str = "command") -> Reply:
        silence = self.validate_silence(req, user)
        await self.check_silence(user, req.matchers, req.duration_s)
        upstream = self.upstream is not None
        matchers = silence.matchers

        def fn(txn: Txn) -> tuple[str, list[str], int]:
            now = txn.now
            s = Silence("", matchers, now, now.add(req.duration_s), now, silence.created_by, silence.comment)
            sid, rows = txn.engine.silences.set(s, now)
            txn.changes.silences_upsert.extend(rows)
            txn.put_kv(NS_SILENCE, sid, {"kind": "manual", "group": group_id, "by": user.id, "name": user.name,
                                         "upstream": "", "pending": "create" if upstream else "",
                                         "at_ns": now.ns})
            covered, partly, count = [], [], 0
            for g in sorted(txn.engine.groups.values(), key=lambda g: g.created_ns):
                firing = [a for a in g.alerts.values() if not a.resolved_at(now)]
                hit = [a for a in firing if matchers.matches(a.labels)]
                count += len(hit)
                if firing and len(hit) == len(firing):
                    covered.append(g.id)
                elif hit:
                    partly.append((g.id, len(hit), len(firing)))
            details = {"silence_id": sid, "matchers": str(matchers), "duration": fmt_duration(req.duration_s),
                       "comment": req.comment, "firing_alerts": count, "via": how, "name": user.name}
            audited = [gid for gid in covered] + [gid for gid, _, _ in partly]
            if group_id and group_id not in audited:
                audited.insert(0, group_id)
            for gid in audited or [""]:
                txn.audit(user.id, "silence", gid, **details)
            until = s.ends_at.ns
            slack = txn.engine.extension("slack")
            story = (f"🔕 <@{user.id}> silenced {matchers_text(matchers)} for {fmt_duration(req.duration_s)}"
                     f" (silence {code(sid[:8], 20)})" + (f": {esc(req.comment)}" if req.comment else "."))
            for gid in covered:
                if callable(getattr(slack, "refresh", None)):
                    slack.refresh(gid, txn, silenced_by=user.id, silenced_until_ns=until, silence_ids=[sid],
                                  story=story, story_kind="silence")
            for gid, hit, total in partly:
                if callable(getattr(slack, "thread_note", None)):
                    slack.thread_note(gid, story + f" That is {hit} of the {total} firing alerts of this group.",
                                      txn, kind="silence")
            return sid, covered, count

        try:
            sid, covered, count = await self._transact(fn)
        except SilenceError as exc:
            raise Refused("silence", f"Alertmanager would refuse this silence: {exc}") from None
        lines = [f"🔕 Silence {code(sid, 40)} created: {matchers_text(matchers)} for "
                 f"*{fmt_duration(req.duration_s)}* (until {date(silence.ends_at.ns)}), "
                 f"{count} firing alert{'s' if count != 1 else ''} muted now"
                 + (f", {len(covered)} alert group{'s' if len(covered) != 1 else ''} marked silenced" if covered
                    else "") + "."]
        if req.comment:
            lines.append(f"Comment: {esc(req.comment)}")
        if upstream:
            lines.extend(await self.c.upkeep.sync_upstream([sid], verbose=True))
        return answer(lines)

    def find_silence(self, ident: str) -> Silence | None:
        ident = ident.strip().lower()
        if not ident:
            return None
        by_id = self.engine.silences.by_id
        if ident in by_id:
            return by_id[ident]
        for (ns, sid), meta in self.engine.kv.items():
            if ns == NS_SILENCE and isinstance(meta, dict) and str(meta.get("upstream", "")).lower() == ident:
                return by_id.get(sid)
        if len(ident) >= 6:
            hits = [s for sid, s in by_id.items() if sid.startswith(ident)]
            live = [s for s in hits if s.state(self.now()) != "expired"]
            if len(live) == 1:
                return live[0]
            if len(hits) == 1:
                return hits[0]
        return None

    async def expire(self, user: User, text: str) -> Reply:
        toks = parse.tokens(text)
        if len(toks) != 1:
            raise InputError("usage: `expire <silence id>` (the id `/oncall silences` shows; 8 characters are enough)")
        await self.access.check(user, "expire")
        ident = toks[0].text
        s = self.find_silence(ident)
        if s is None:
            return await self._expire_upstream_only(user, ident)
        if s.state(self.now()) == "expired":
            return simple(f"Silence {code(s.id, 40)} has already expired.")
        matchers = s.matchers
        await self.check_expire(user, list(matchers))

        def fn(txn: Txn) -> list[str]:
            AckExtension.expire_silence(txn, s.id)
            groups = []
            for g in txn.engine.groups.values():
                firing = [a for a in g.alerts.values() if not a.resolved_at(txn.now)]
                if any(matchers.matches(a.labels) for a in firing):
                    groups.append(g.id)
            for gid in groups or [""]:
                txn.audit(user.id, "expire", gid, silence_id=s.id, matchers=str(matchers), name=user.name,
                          created_by=s.created_by)
            slack = txn.engine.extension("slack")
            story = f"🔔 <@{user.id}> expired silence {code(s.id[:8], 20)} ({matchers_text(matchers)})."
            for gid in groups:
                ack = txn.kv(NS_ACK, gid)
                if isinstance(ack, dict) and (ack.get("silence") or {}).get("id") == s.id:
                    ack = dict(ack)
                    ack["silence"] = None
                    txn.put_kv(NS_ACK, gid, ack)
                if callable(getattr(slack, "refresh", None)):
                    slack.refresh(gid, txn, silenced_by=None, story=story, story_kind="silence")
            return groups

        groups = await self._transact(fn)
        lines = [f"🔔 Silence {code(s.id, 40)} expired ({matchers_text(matchers)}); "
                 f"{len(groups)} open alert group{'s' if len(groups) != 1 else ''} notified again from now on."]
        if self.upstream is not None:
            lines.extend(await self.c.upkeep.sync_upstream([s.id], verbose=True))
        return answer(lines)

    async def _expire_upstream_only(self, user: User, ident: str) -> Reply:
        if self.upstream is None:
            raise NotFound(f"no silence {code(ident, 60)} (`/oncall silences` lists them)")
        try:
            found = [x for x in await self.upstream.silences()
                     if str(x.get("id", "")).startswith(ident.lower()) and
                     (x.get("status") or {}).get("state") != "expired"]
        except UpstreamError as exc:
            raise Unavailable(str(exc)) from None
        if len(found) != 1:
            raise NotFound(f"no silence {code(ident, 60)} here or in the upstream Alertmanager")
        try:
            upstream_matchers = [Matcher.new(_type(m), str(m["name"]), str(m["value"]))
                                 for m in found[0].get("matchers", [])]
        except (KeyError, TypeError, MatcherError):
            raise Refused("expire", "this upstream silence's matchers cannot be read: expire it in "
                                    "Alertmanager") from None
        await self.check_expire(user, upstream_matchers)
        am_id = str(found[0]["id"])
        try:
            await self.upstream.expire_silence(am_id)
        except UpstreamError as exc:
            raise Unavailable(str(exc)) from None

        def fn(txn: Txn) -> None:
            txn.audit(user.id, "expire", "", upstream_silence_id=am_id, name=user.name, where="upstream Alertmanager")

        await self._transact(fn)
        return simple(f"🔔 Silence {code(am_id, 40)} expired in the upstream Alertmanager "
                      f"({esc(self.upstream.where)}).")

    async def silences(self, user: User, text: str) -> Reply:
        text = text.strip()
        mine = text.lower() == "mine"
        matchers = [] if (mine or not text) else parse.strict_matchers(text, self.mode)
        now = self.now()
        metas = {sid: m for (ns, sid), m in self.engine.kv.items() if ns == NS_SILENCE and isinstance(m, dict)}
        shown = []
        for s in sorted(self.engine.silences.all(), key=lambda s: s.ends_at.ns):
            state = s.state(now)
            if state not in (ACTIVE, PENDING):
                continue
            meta = metas.get(s.id, {})
            if mine and meta.get("by") != user.id and s.created_by != user.id:
                continue  # by the Slack user id: a name can be anyone's
            if matchers and not _silence_selects(s, matchers):
                continue
            shown.append(s)
        lines = []
        for s in shown[:MAX_LIST]:
            meta = metas.get(s.id, {})
            up = meta.get("upstream")
            bits = [f"{code(s.id[:8], 20)} {matchers_text(s.matchers)}",
                    ("*pending*, starts " + date(s.starts_at.ns)) if s.state(now) == PENDING
                    else f"until {date(s.ends_at.ns)} ({fmt_age((s.ends_at.ns - now.ns) / NS)} left)",
                    f"by {esc(s.created_by)}"]
            if meta.get("kind") == "ack":
                bits.append("ack silence")
            if up:
                bits.append(f"Alertmanager {code(str(up)[:8], 20)}")
            elif meta.get("pending"):
                bits.append("⚠️ not yet in Alertmanager")
            line = "• " + " · ".join(bits)
            if s.comment:
                line += f"\n    _{esc(s.comment[:200])}_"
            lines.append(line)
        if len(shown) > MAX_LIST:
            lines.append(f"… and {len(shown) - MAX_LIST} more")
        notes = []
        if self.upstream is not None and not mine:
            mirrored = {str(m.get("upstream")) for m in metas.values() if m.get("upstream")}
            try:
                extra = [x for x in await self.upstream.silences()
                         if (x.get("status") or {}).get("state") in ("active", "pending")
                         and str(x.get("id")) not in mirrored]
                if matchers:
                    extra = [x for x in extra if _upstream_selects(x, matchers)]
                for x in extra[:MAX_LIST]:
                    ms = ", ".join(f"{m.get('name')}{_op(m)}\"{m.get('value')}\"" for m in x.get("matchers", []))
                    notes.append(f"• {code(str(x.get('id'))[:8], 20)} {code('{' + ms + '}', 300)} · until "
                                 f"{esc(x.get('endsAt', '?'))} · by {esc(x.get('createdBy', '?'))} · "
                                 f"_only in the upstream Alertmanager_")
            except UpstreamError as exc:
                notes.append(f"⚠️ {esc(str(exc))}")
        what = "your silences" if mine else ("silences selecting " + matchers_text(matchers) if matchers else "silences")
        if not lines and not notes:
            return simple(f"No active or pending {what}.")
        return answer(lines + notes, f"🔕 *{len(shown)} {what}* (active and pending)")


def _strip_dashes(text: str) -> str:
    text = text.strip()
    return text[2:].strip() if text.startswith("--") else text


def _silence_selects(s: Silence, matchers: Sequence[Matcher]) -> bool:
    """Whether a silence is about these matchers: it has each of them, or an alert with their
    equality labels would be silenced by it."""
    have = {(m.type, m.name, m.value) for m in s.matchers}
    if all((m.type, m.name, m.value) in have for m in matchers):
        return True
    labels = {m.name: m.value for m in matchers if m.is_equal and not m.is_regex}
    return bool(labels) and s.matchers.matches(labels)


def _upstream_selects(x: dict[str, Any], matchers: Sequence[Matcher]) -> bool:
    try:
        ms = Matchers(Matcher.new(_type(m), str(m["name"]), str(m["value"])) for m in x.get("matchers", []))
    except (KeyError, MatcherError):
        return False
    labels = {m.name: m.value for m in matchers if m.is_equal and not m.is_regex}
    return bool(labels) and ms.matches(labels)


def _type(m: dict[str, Any]) -> Any:
    from bot.routing.matchers import MatchType

    return MatchType.from_api(bool(m.get("isRegex")), m.get("isEqual", True) is not False)


def _op(m: dict[str, Any]) -> str:
    return _type(m).op
