"""Reading and paging from Slack: `alerts`, `who`, `page`, `status`, `audit`."""

from __future__ import annotations

import time
from typing import Any

from bot import __version__
from bot.chatops import parse
from bot.chatops.access import User
from bot.chatops.errors import NotFound, Unavailable
from bot.chatops.parse import InputError
from bot.chatops.render import (
    Reply,
    answer,
    code,
    date,
    esc,
    fmt_age,
    labels_text,
    matchers_text,
    problem,
    simple,
    who_mention,
)
from bot.engine.groups import AggrGroup
from bot.engine.silences import ACTIVE
from bot.logging import get_logger
from bot.notify.slack.view import short_id
from bot.routing.matchers import Matchers

log = get_logger("alertbot.chatops")

NS = 1_000_000_000
MAX_LIST = 25


class InfoOps:
    async def alerts(self, text: str) -> Reply:
        matchers = parse.strict_matchers(text, self.mode) if text.strip() else []
        ms = Matchers(matchers)
        engine = self.engine
        async with engine.reads.turn() as slicer:  # every alert: beside the engine (bot.engine.reads)
            now = self.now()
            groups_of: dict[int, list[AggrGroup]] = {}
            for g in list(engine.groups.values()):
                await slicer.pause()
                for fp in list(g.alerts):
                    groups_of.setdefault(fp, []).append(g)
            firing = []
            for a in list(engine.alerts.values()):
                await slicer.pause()
                if not a.resolved_at(now) and ms.matches(a.labels):
                    firing.append(a)
        firing.sort(key=lambda a: (a.name, a.starts_at.ns))
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
                bits.append(f"acknowledged by {who_mention(acked[0].get('by', ''), acked[0].get('name', ''))}")
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
            lines.append(f"• engine ⚠️ not ready: {esc(rt.not_ready_reason)}")
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
                                              f"{_details_text(r.details, 300)}"))
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
            details = _details_text(r.details, 600)
            lines.append(f"• {date(r.at_ns)} {_actor(r.actor)} *{esc(r.action)}*" + (f" — {details}" if details else ""))
        return answer(lines, f"📜 *Audit of group* {code(short_id(gid), 20)} (oldest first, last {len(rows)})")


async def audit_rows(store: Any, group_id: str | None, limit: int) -> list[Any]:
    """The store's audit rows, through the wrappers around it (timing, counting)."""
    s = store
    while not callable(getattr(s, "audit", None)) and hasattr(s, "inner"):
        s = s.inner
    return await s.audit(group_id=group_id, limit=limit)


def _details_text(details: str, limit: int) -> str:
    """An audit row's details as `key=value` code spans (already escaped mrkdwn)."""
    import json

    try:
        doc = json.loads(details)
    except ValueError:
        return code(details, limit)
    if not isinstance(doc, dict):
        return code(str(doc), limit)
    parts = []
    used = 0
    for k, v in doc.items():
        if v in (None, "", [], {}, False):
            continue
        value = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        part = code(f"{k}={value}", 200)
        used += len(part) + 1
        if used > limit:
            parts.append("…")
            break
        parts.append(part)
    return " ".join(parts)


def _actor(actor: str) -> str:
    if actor.startswith(("U", "W")) and actor.isalnum() and actor.isupper():
        return f"<@{actor}>"
    if actor.startswith("<@") and actor.endswith(">") and actor[2:-1].isalnum():
        return actor
    return f"*{esc(actor)}*"
