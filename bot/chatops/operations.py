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

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.chatops import parse
from bot.chatops.access import Access, Refused, User
from bot.chatops.acks import NS_ACK, NS_SILENCE, AckExtension, GroupGone, NotAllowedHere
from bot.chatops.parse import InputError, QueryArgs
from bot.chatops.render import (
    Reply,
    answer,
    esc,
    fmt_age,
    fmt_duration,
    fmt_value,
    labels_text,
    matchers_text,
    problem,
    silence_preview_blocks,
    simple,
    table,
)
from bot.chatops.upstream import Upstream, UpstreamError
from bot.engine.engine import Engine, Txn
from bot.engine.groups import AggrGroup
from bot.engine.silences import ACTIVE, PENDING, Silence, SilenceError, Silences
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.notify.slack.message import date, link, markdown_to_mrkdwn
from bot.notify.slack.mrkdwn import code
from bot.notify.slack.view import short_id
from bot.routing.matchers import Matcher, MatcherError, Matchers, parse_matchers

if TYPE_CHECKING:
    from bot.chatops.app import Chatops

log = get_logger("alertbot.chatops")

NS = 1_000_000_000
MAX_LIST = 25
MAX_TABLE_ROWS = 25
MAX_GRAPHS = 3


class NotFound(LookupError):
    pass


class Unavailable(RuntimeError):
    pass


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


class Operations:
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

    # ------------------------------------------------------------------ ack / unack
    async def ack(self, user: User, groups: Sequence[AggrGroup], comment: str) -> Reply:
        await self.access.check(user, "ack")
        comment = parse.comment(comment)
        gids = [g.id for g in groups]

        def fn(txn: Txn) -> list[tuple[str, Any]]:
            out: list[tuple[str, Any]] = []
            for gid in gids:
                try:
                    out.append((gid, self.acks.acknowledge(txn, gid, user, comment)))
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
                lines.append(f"👀 {label} was already acknowledged by {_who(change.by, change.name)}.")
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
                lines.append(f"👀 Acknowledged {label}" + (f" — {'; '.join(extra)}" if extra else "") + ".")
        if new_silences:
            notes = await self.c.upkeep.sync_upstream(new_silences)
            lines.extend(notes)
        return answer(lines)

    async def unack(self, user: User, groups: Sequence[AggrGroup]) -> Reply:
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
        from bot.engine.silences import build_matchers

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

    def affected_here(self, matchers: Sequence[Matcher]) -> dict[int, tuple[str, dict[str, str]]]:
        """Firing alerts in alertbot that the matchers select: fingerprint -> (group, labels)."""
        ms = Matchers(matchers)
        now = self.now()
        where: dict[int, str] = {}
        for g in self.engine.groups.values():
            for fp in g.alerts:
                where.setdefault(fp, f"group {short_id(g.id)}")
        return {a.fingerprint: (where.get(a.fingerprint, ""), a.labels) for a in self.engine.alerts.values()
                if not a.resolved_at(now) and ms.matches(a.labels)}

    async def affected(self, matchers: Sequence[Matcher]) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
        """Firing alerts the matchers select here and in the upstream Alertmanager, and notes."""
        found = self.affected_here(matchers)
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
        await self.access.check_silence(user, req.matchers, req.duration_s)
        items, notes = await self.affected(req.matchers)
        from bot.chatops.render import affected_lines

        return silence_preview_blocks(req.matchers, req.duration_s, req.comment, affected_lines(items),
                                      len(items), req.to_json(user), notes)

    async def create_silence(self, user: User, req: SilenceRequest, *, group_id: str = "",
                             how: str = "command") -> Reply:
        silence = self.validate_silence(req, user)
        await self.access.check_silence(user, req.matchers, req.duration_s)
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
            if mine and meta.get("by") != user.id and s.created_by not in (user.name, user.id):
                continue
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

    # ------------------------------------------------------------------ alerts
    async def alerts(self, text: str) -> Reply:
        matchers = parse.strict_matchers(text, self.mode) if text.strip() else []
        ms = Matchers(matchers)
        engine = self.engine
        now = self.now()
        groups_of: dict[int, list[AggrGroup]] = {}
        for g in engine.groups.values():
            for fp in g.alerts:
                groups_of.setdefault(fp, []).append(g)
        firing = sorted((a for a in engine.alerts.values() if not a.resolved_at(now) and ms.matches(a.labels)),
                        key=lambda a: (a.name, a.starts_at.ns))
        lines = []
        for a in firing[:MAX_LIST]:
            state, silenced, inhibited = engine.status_of(a, now)
            gs = groups_of.get(a.fingerprint, [])
            bits = [f"🔥 *{esc(a.name or 'alert')}* {labels_text(a.labels, skip=('alertname',), limit=6)}",
                    f"firing {fmt_age((now.ns - a.starts_at.ns) / NS)}"]
            if gs:
                bits.append("group " + ", ".join(code(short_id(g.id), 20) for g in gs[:3]))
            acked = [self.acks.current(g.id) for g in gs]
            acked = [r for r in acked if r]
            if acked:
                bits.append(f"acknowledged by {_who(acked[0].get('by', ''), acked[0].get('name', ''))}")
            if silenced:
                bits.append("silenced (" + ", ".join(code(s[:8], 20) for s in silenced[:3]) + ")")
            if inhibited:
                bits.append("inhibited")
            lines.append(" · ".join(bits))
        if len(firing) > MAX_LIST:
            lines.append(f"… and {len(firing) - MAX_LIST} more (narrow it with matchers)")
        what = f" matching {matchers_text(matchers)}" if matchers else ""
        if not firing:
            return simple(f"✅ No firing alerts{what}.")
        return answer(lines, f"*{len(firing)} firing alert{'s' if len(firing) != 1 else ''}{what}* "
                             f"in {len({g.id for a in firing for g in groups_of.get(a.fingerprint, [])})} group(s)")

    # ------------------------------------------------------------------ queries
    def _client(self, name: str | None) -> Any:
        ds = self.c.datasources
        if ds is None:
            raise Unavailable("no Prometheus is configured: set PROMETHEUS_URL (or PROMETHEUS_DATASOURCES)")
        return ds.get(name)

    async def query(self, user: User, args: QueryArgs, *, channel_id: str = "") -> Reply:
        from bot.prometheus import Matrix, QueryError, render_graph

        await self.access.check(user, "query")
        group = None
        if args.into:
            groups, _ = self.find_groups(args.into)
            group = groups[0]
        at = _parse_time(args.at) if args.at else time.time()
        if args.range_s is not None and args.range_s > self.c.settings.chatops.query_range_max:
            raise Refused("query", f"the range is longer than the {fmt_duration(self.c.settings.chatops.query_range_max)}"
                                   " allowed (chatops.query_range_max)")
        try:
            client = self._client(args.datasource)
            if args.range_s is None:
                result = await client.query(args.expr, at=at)
            else:
                result = await client.query_range(args.expr, at - args.range_s, at, args.step_s)
        except QueryError as exc:
            raise QueryRefused(str(exc)) from None
        await self._transact(lambda txn: txn.audit(
            user.id, "query", group.id if group else "", expr=args.expr[:1000], datasource=client.name,
            range=fmt_duration(args.range_s) if args.range_s else None, series=len(result), name=user.name))
        if isinstance(result, Matrix):
            lines = matrix_summary(result)
            png = await asyncio.to_thread(render_graph, result, title=args.expr)
            title = f"📈 {code(args.expr, 300)} over {fmt_duration(result.end - result.start)} · datasource {esc(client.name)}"
            reply = answer(lines, title)
            reply.files.append(("query.png", png, args.expr[:200]))
        else:
            reply = answer(table_lines(result), f"🔎 {code(args.expr, 300)} at {date(int(result.time * 1e9))} · "
                                                f"datasource {esc(client.name)}")
        if group is not None:
            reply.group_id = group.id
        return reply

    # ------------------------------------------------------------------ runbooks and investigation
    def runbook_view(self, g: AggrGroup) -> Any:
        from bot.runbooks import resolve_group, view

        catalog = self.c.runtime.runbooks
        alerts = sorted(g.alerts.values(), key=lambda a: a.starts_at.ns)[:100]
        res = resolve_group(catalog, alerts).runbook
        labels = dict(alerts[0].labels) if alerts else dict(g.labels)
        for a in alerts[1:]:
            for k in list(labels):
                if a.labels.get(k) != labels[k]:
                    del labels[k]
        return view(catalog, res, labels, alerts[0].annotations if alerts else {})

    async def runbook(self, text: str) -> Reply:
        from bot.runbooks import Resolution, view

        ref = text.strip()
        if not ref:
            raise InputError("usage: `runbook <alertname|group>`, e.g. `runbook ApiHighErrorRate`")
        catalog = self.c.runtime.runbooks
        try:
            groups, _ = self.find_groups(ref)
            v = self.runbook_view(groups[0])
            subject = self.describe_group(groups[0])
        except (NotFound, InputError):
            rb = catalog.get(ref) or catalog.best({"alertname": ref})
            if rb is None:
                hint = catalog.hint({"alertname": ref})
                return simple(f"📖 No runbook for {code(ref, 100)} yet. {esc(hint)}")
            v = view(catalog, Resolution("catalog", rb, rb.url), {"alertname": ref})
            subject = f"*{esc(ref)}*"
        if not v.found:
            return simple(f"📖 No runbook for {subject} yet. {esc(v.hint)}")
        head = f"📖 *{link(v.url, esc(v.title)) if v.url else esc(v.title)}* — for {subject}"
        lines = []
        if v.owner:
            lines.append(f"Owner: {code(v.owner, 80)}")
        if v.impact:
            lines.append(f"*Impact:* {markdown_to_mrkdwn(v.impact, 800)}")
        for i, step in enumerate(v.first_steps, 1):
            lines.append(f"{i}. {markdown_to_mrkdwn(step, 700)}")
        if v.more_steps:
            lines.append(f"_…and {v.more_steps} more step(s) in the runbook_")
        for q in v.queries:
            lines.append(f"🔎 {esc(q.name or f'query {q.index + 1}')}: {code(q.expr, 400)}")
        return answer(lines, head)

    async def investigate(self, user: User, g: AggrGroup, only: int | None = None, *,
                          channel_id: str = "") -> tuple[Reply, list[str]]:
        """Runs the group's runbook queries (or query `only`); returns the answer and whether
        it went to the thread (the reply then only says so)."""
        from bot.prometheus import QueryError, alert_window, render_graph

        await self.access.check(user, "query")
        v = self.runbook_view(g)
        queries = [q for q in v.queries if only is None or q.index == only]
        if not v.found or not queries:
            why = "its runbook has no queries" if v.found else "it has no runbook"
            return simple(f"🔎 Nothing to investigate for {self.describe_group(g)}: {why}."), []
        now = self.now()
        firing = [a for a in g.alerts.values() if not a.resolved_at(now)] or list(g.alerts.values())
        start = min(a.starts_at.ns for a in firing) if firing else now.ns
        window = alert_window(start / 1e9, None, now=now.ns / 1e9)
        lines = [f"🔎 *Investigation* of {self.describe_group(g)} by <@{user.id}> — runbook *{esc(v.title)}*, "
                 f"instant queries at {date(int(window.at * 1e9))}"]
        graphs: list[tuple[str, bytes, str]] = []
        for q in queries:
            name = esc(q.name or f"query {q.index + 1}")
            if q.error:
                lines.append(f"*{name}*: ⚠️ the query does not render: {esc(q.error)}")
                continue
            try:
                client = self._client(q.datasource)
                table_ = await client.query(q.expr, at=window.at)
                lines.append(f"*{name}* {code(q.expr, 300)}")
                lines.extend(table_lines(table_))
                if len(graphs) < MAX_GRAPHS:
                    matrix = await client.query_range(q.expr, window.start, window.end, window.step())
                    if matrix.series:
                        png = await asyncio.to_thread(render_graph, matrix, title=q.name or q.expr,
                                                      firing=window.firing)
                        graphs.append((f"{q.name or 'query'}.png", png, q.name or q.expr))
            except (QueryError, Unavailable) as exc:
                lines.append(f"*{name}* {code(q.expr, 300)}\n⚠️ {esc(str(exc))}")
        await self._transact(lambda txn: txn.audit(user.id, "query", g.id, runbook=v.name,
                                                   queries=[q.name for q in queries], name=user.name,
                                                   via="investigate"))
        reply = answer(lines)
        reply.files = graphs
        return reply, lines

    # ------------------------------------------------------------------ PagerDuty
    async def who(self, text: str) -> Reply:
        from bot.notify.pagerduty import OnCallUnavailable, service_for

        asked = text.strip() or self.c.settings.chatops.oncall_default
        if not asked:
            raise InputError("which PagerDuty service or escalation policy? e.g. `who mlops-platform` "
                             "(or set chatops.oncall_default in the settings)")
        if self.c.runtime.http is None:
            raise Unavailable("alertbot is still starting")
        try:
            ans = await service_for(None, self.c.runtime.http).who_is_on_call(asked)
        except OnCallUnavailable as exc:
            return problem(esc(str(exc)))
        head = (f"📟 *On call* for {esc(ans.service or ans.escalation_policy or asked)}"
                + (f" (escalation policy {esc(ans.escalation_policy)})" if ans.service else ""))
        lines = []
        for o in ans.oncalls:
            until = f", until {esc(o.end)}" if o.end else ""
            via = f" via {esc(o.schedule)}" if o.schedule else ""
            lines.append(f"• level {o.level}: *{esc(o.user)}*{via}{until}")
        if not lines:
            lines.append("Nobody is on call.")
        return answer(lines, head)

    async def page(self, user: User, text: str) -> Reply:
        from bot.notify.pagerduty import NotPageable, PagerDutyNotConfigured, UnknownGroup, service_for

        toks = parse.tokens(text)
        if len(toks) < 2:
            raise InputError("usage: `page <receiver> <summary>` — the receiver is one with pagerduty_configs"
                             + self._pageable_hint())
        receiver = toks[0].text
        summary = parse.comment(text[toks[0].end:])
        await self.access.check(user, "page")
        if receiver not in self.c.runtime.config.receiver_names():
            raise NotFound(f"no receiver {code(receiver, 80)}" + self._pageable_hint())
        if self.c.runtime.http is None:
            raise Unavailable("alertbot is still starting")
        pd = service_for(None, self.c.runtime.http)
        try:
            key = await pd.trigger_manual(receiver, summary, f"<@{user.id}>",
                                          details={"paged_by_name": user.name})
        except (NotPageable, PagerDutyNotConfigured, UnknownGroup) as exc:
            raise NotFound(esc(str(exc)) + self._pageable_hint()) from None
        return simple(f"🚨 Paged PagerDuty through receiver {code(receiver, 80)}: {esc(summary)} "
                      f"(dedup key {code(key, 80)}).")

    def _pageable_hint(self) -> str:
        names = [r.name for r in self.c.runtime.config.model.receivers if r.pagerduty_configs]
        return f" (receivers that can page: {', '.join(code(n, 60) for n in names)})" if names else \
            " (no receiver has pagerduty_configs)"

    # ------------------------------------------------------------------ the bot itself
    async def status(self) -> Reply:
        rt = self.c.runtime
        now = time.time()
        started = rt.started_at.ns / NS
        loaded = rt.metrics.registry.get_sample_value("alertbot_config_last_reload_success_timestamp_seconds")
        ok = rt.metrics.registry.get_sample_value("alertbot_config_last_reload_successful")
        lines = [f"• up {fmt_age(now - started)} (since {date(int(started * NS))})",
                 f"• configuration {code(rt.settings.config_path, 200)} loaded "
                 f"{date(int((loaded or started) * NS))}" + ("" if ok else " — ⚠️ the last reload was refused")]
        engine = rt.engine
        if engine is not None and rt.ready:
            nowt = self.now()
            firing = sum(1 for a in engine.alerts.values() if not a.resolved_at(nowt))
            active = sum(1 for s in engine.silences.all() if s.state(nowt) == ACTIVE)
            acked = sum(1 for g in engine.groups if self.acks.current(g))
            oldest = min((r.created_at_ns for r in engine.outbox.values()), default=0)
            lines.append(f"• engine ready: {len(engine.alerts)} alerts ({firing} firing), {len(engine.groups)} "
                         f"groups ({acked} acknowledged), {active} active silences")
            lines.append(f"• outbox: {len(engine.outbox)} notification(s) waiting"
                         + (f", oldest {fmt_age(nowt.ns / NS - oldest / NS)}" if oldest else ""))
        else:
            lines.append(f"• engine ⚠️ not ready: {esc(rt.boot_error or 'loading state from the database')}")
        lines.append("• Slack: " + self.c.transport_status())
        if self.upstream is not None:
            lines.append(f"• upstream Alertmanager {esc(self.upstream.where)}: " + self.c.upkeep.describe())
        errors = await self.last_errors()
        if errors:
            lines.append("*Last errors*")
            lines.extend(errors)
        else:
            lines.append("No recent errors.")
        return answer(lines, f"🤖 *alertbot {esc(__version__)}*")

    async def last_errors(self) -> list[str]:
        rt = self.c.runtime
        out: list[tuple[float, str]] = []
        for at, text in list(self.c.errors)[-5:]:
            out.append((at, f"• {date(int(at * NS))} chatops: {esc(text)}"))
        try:
            from bot.notify.slack import service_for as slack_service_for

            if rt.http is not None:
                for channel, p in slack_service_for(rt.http).status().get("channels_failing", {}).items():
                    out.append((float(p.get("since", 0)), f"• {date(int(float(p.get('since', 0)) * NS))} Slack "
                                f"refuses {esc(channel)}: {esc(p.get('error', ''))}"
                                + (f" — {esc(p['hint'])}" if p.get("hint") else "")))
        except Exception:  # status must answer even if a part of it cannot
            log.exception("reading Slack's status failed")
        if rt.engine is not None:
            try:
                rows = await audit_rows(rt.engine.store, None, 300)
            except Exception as exc:
                rows = []
                out.append((time.time(), f"• the audit log cannot be read: {esc(type(exc).__name__)}"))
            for r in rows:
                if r.action in ("delivery_failed", "pagerduty event refused", "thread_reply_failed"):
                    out.append((r.at_ns / NS, f"• {date(r.at_ns)} {esc(r.actor)} {esc(r.action)}: "
                                              f"{esc(_details_text(r.details, 200))}"))
        if rt.boot_error:
            out.append((time.time(), f"• start-up: {esc(rt.boot_error)}"))
        problems = getattr(rt.runbooks, "problems", ())
        if problems:
            out.append((0.0, f"• runbooks: {len(problems)} problem(s), e.g. {esc(str(problems[0])[:200])}"))
        return [t for _, t in sorted(out, key=lambda x: -x[0])[:8]]

    async def audit(self, text: str) -> Reply:
        ref = text.strip()
        if not ref:
            raise InputError("usage: `audit <group>` (the id on the group's message)")
        engine = self.engine
        gid = None
        try:
            groups, _ = self.find_groups(ref)
            gid = groups[0].id
        except (NotFound, InputError):
            if parse.SHORT_ID.match(ref.lower()):
                for r in await audit_rows(engine.store, None, 5000):
                    if r.group_id and short_id(r.group_id) == ref.lower():
                        gid = r.group_id
                        break
            if gid is None:
                raise NotFound(f"no alert group {code(ref, 80)} in the audit log") from None
        rows = await audit_rows(engine.store, gid, 40)
        if not rows:
            return simple(f"Nothing recorded for group {code(short_id(gid), 20)} yet.")
        lines = []
        for r in reversed(rows):
            lines.append(f"• {date(r.at_ns)} {_actor(r.actor)} *{esc(r.action)}*"
                         + (f" — {esc(_details_text(r.details, 300))}" if _details_text(r.details, 300) else ""))
        return answer(lines, f"📜 *Audit of group* {code(short_id(gid), 20)} (oldest first, last {len(rows)})")


class QueryRefused(Exception):
    """A Prometheus query that did not give a result (its guardrails, or Prometheus's error)."""


# ---------------------------------------------------------------------------------- results
def _varying(label_sets: Sequence[dict[str, str]]) -> tuple[list[str], dict[str, str]]:
    names = sorted({k for ls in label_sets for k in ls})
    common = {k: label_sets[0][k] for k in names
              if label_sets and all(k in ls and ls[k] == label_sets[0][k] for ls in label_sets)}
    varying = [k for k in names if k not in common]
    if "__name__" in varying:
        varying.remove("__name__")
        varying.insert(0, "__name__")
    return varying, common


def table_lines(t: Any) -> list[str]:
    """An instant query's Table as lines: the common labels, then a table."""
    from bot.prometheus import Matrix

    if isinstance(t, Matrix):
        return matrix_summary(t)
    if t.result_type == "string":
        return [f"string: {code(t.string_value or '', 500)}"]
    if not t.rows:
        return ["_no data_ (the query returned nothing at that time)"]
    sets = [dict(r.labels) for r in t.rows]
    varying, common = (_varying(sets) if len(sets) > 1 else ([], sets[0]))
    rows = [[r.labels.get(k, "") for k in varying] + [fmt_value(r.value)] for r in t.rows[:MAX_TABLE_ROWS]]
    out = []
    if common:
        out.append("common labels: " + labels_text(common, limit=10))
    out.append(table(varying + ["value"], rows))
    if len(t.rows) > MAX_TABLE_ROWS:
        out.append(f"… {len(t.rows) - MAX_TABLE_ROWS} more rows")
    if t.warnings:
        out.append("⚠️ " + esc("; ".join(t.warnings)[:500]))
    return out


def matrix_summary(m: Any) -> list[str]:
    if not m.series:
        return ["_no data_ over this range"]
    sets = [dict(s.labels) for s in m.series]
    varying, common = (_varying(sets) if len(sets) > 1 else ([], sets[0]))
    rows = []
    for s in m.series[:MAX_TABLE_ROWS]:
        vals = [v for v in s.values if not math.isnan(v)]
        rows.append([s.labels.get(k, "") for k in varying]
                    + [fmt_value(min(vals)) if vals else "-", fmt_value(max(vals)) if vals else "-",
                       fmt_value(s.values[-1]) if s.values else "-"])
    out = [f"{len(m.series)} series, step {fmt_duration(m.step) if m.step else '-'}"]
    if common:
        out.append("common labels: " + labels_text(common, limit=10))
    out.append(table(varying + ["min", "max", "last"], rows))
    if len(m.series) > MAX_TABLE_ROWS:
        out.append(f"… {len(m.series) - MAX_TABLE_ROWS} more series")
    return out


async def audit_rows(store: Any, group_id: str | None, limit: int) -> list[Any]:
    """The store's audit rows, through the wrappers around it (timing, counting)."""
    s = store
    while not callable(getattr(s, "audit", None)) and hasattr(s, "inner"):
        s = s.inner
    return await s.audit(group_id=group_id, limit=limit)


def _details_text(details: str, limit: int) -> str:
    import json

    try:
        doc = json.loads(details)
    except ValueError:
        return details[:limit]
    if not isinstance(doc, dict):
        return str(doc)[:limit]
    parts = []
    for k, v in doc.items():
        if v in (None, "", [], {}):
            continue
        parts.append(f"{k}={v if not isinstance(v, (list, dict)) else json.dumps(v, ensure_ascii=False)}")
    text = ", ".join(parts)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _actor(actor: str) -> str:
    if actor.startswith(("U", "W")) and actor.isalnum() and actor.isupper():
        return f"<@{actor}>"
    if actor.startswith("<@") and actor.endswith(">") and actor[2:-1].isalnum():
        return actor
    return f"*{esc(actor)}*"


def _who(by: str, name: str) -> str:
    if by.startswith(("U", "W")) and by.isalnum() and by.isupper():
        return f"<@{by}>"
    return esc(name or by or "someone")


def _strip_dashes(text: str) -> str:
    text = text.strip()
    return text[2:].strip() if text.startswith("--") else text


def _parse_time(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{code('at=' + text, 80)}: expected Unix seconds or an RFC 3339 time such as "
                         "2026-01-01T20:45:00Z") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


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
