"""What chatops keeps doing in the background, every `chatops.upkeep_interval`:

1. Acknowledgement silences (`ack_silence: true` routes) are extended while their group
   fires, and left to lapse once it stops (kthxbye's idea, kept in the bot's own state).
2. Silences made from chat are mirrored to the upstream Alertmanager (`ALERTMANAGER_URL`):
   created, extended, expired. What could not be sent is owed (`pending`) and retried.
3. The upstream Alertmanager is polled for alerts it mutes: Alertmanager sends no resolved
   notification for a silenced or inhibited alert, so the bot would keep it firing for ever
   (alertmanager#226). A muted alert alertbot has firing is watched; once Alertmanager has
   not listed it for `chatops.upstream_resolve_after` (it resolved and left its API; the wait
   covers an Alertmanager restarting empty), alertbot resolves it too — its group then
   resolves in Slack and PagerDuty as usual.

Everything is read from and written to the engine's state, so a restart loses nothing: the
next round finds what is owed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.chatops.access import Refused, User
from bot.chatops.acks import NS_ACK, NS_SILENCE
from bot.chatops.upstream import UpstreamError
from bot.engine.alert import Alert
from bot.engine.engine import Txn
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.notify.slack.mrkdwn import code, escape_text
from bot.notify.slack.view import short_id

if TYPE_CHECKING:
    from bot.chatops.app import Chatops

log = get_logger("alertbot.chatops")

NS_WATCH = "chatops.watch"  # "<fingerprint hex>" -> {"groups": [...], "since_ns"}: muted upstream, watched
NS = 1_000_000_000
FORGET_SILENCE_S = 7 * 86400


class Upkeep:
    def __init__(self, chatops: Chatops) -> None:
        self.c = chatops
        self.last_poll: float = 0.0
        self.last_poll_error: str = ""
        self.resolved_by_poll = 0
        self._lock = asyncio.Lock()
        self._sync_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="alertbot-chatops-upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.c.settings.chatops.upkeep_interval)
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception:  # never let the loop die; say so
                log.exception("chatops upkeep round failed")

    def _engine(self) -> Any:
        rt = self.c.runtime
        return rt.engine if rt.engine is not None and rt.ready else None

    async def round(self) -> None:
        if self._engine() is None:
            return
        async with self._lock:
            await self.extend_ack_silences()
        await self.sync_upstream(None)
        await self.poll_upstream()

    def describe(self) -> str:
        if not self.last_poll:
            return "not polled yet"
        ago = int(time.time() - self.last_poll)
        if self.last_poll_error:
            return f"⚠️ last poll {ago}s ago failed: {escape_text(self.last_poll_error)}"
        return f"polled {ago}s ago; {self.resolved_by_poll} muted alert(s) resolved from its answers since start"

    # ------------------------------------------------------------------ 1. ack silences
    async def extend_ack_silences(self) -> list[str]:
        engine = self._engine()
        if engine is None:
            return []
        gids = [k for (ns, k), v in list(engine.kv.items()) if ns == NS_ACK and isinstance(v, dict)
                and v.get("silence") and not v.get("ended_ns")]
        if not gids:
            return []
        acks = self.c.acks
        # Extending is creating a longer silence: the acknowledger's access rules are asked
        # again (for its whole length, from its start), as for any silence they make.
        refused: dict[str, str] = {}
        skip: set[str] = set()
        now = Timestamp.now()
        for gid in gids:
            old = acks.extension_due(gid, now)
            rec = acks.current(gid) if old is not None else None
            if old is None or rec is None:
                continue
            length_s = (now.ns - old.starts_at.ns) / NS + acks.ack_silence_s
            user = User(str(rec.get("by", "")), str(rec.get("name", "")))
            try:
                await self.c.ops.check_silence(user, list(old.matchers), length_s)
            except Refused as exc:
                refused[gid] = exc.reason
            except Exception as exc:  # access could not be decided: not extended this round
                log.warning("ack silence not extended this round: access check failed", group_id=gid,
                            error=f"{type(exc).__name__}: {exc}")
                skip.add(gid)

        def fn(txn: Txn) -> list[str]:
            return [sid for gid in gids
                    if gid not in skip and (sid := acks.extend_silence(txn, gid, refused.get(gid)))]

        extended = await engine.transact(fn)
        if extended:
            log.info("ack silences extended", silences=extended)
        return extended

    # ------------------------------------------------------------------ 2. mirroring
    async def sync_upstream(self, only: Sequence[str] | None, verbose: bool = False) -> list[str]:
        """Sends what the upstream Alertmanager is owed (for `only` these silences, or all);
        returns lines for a reply."""
        engine = self._engine()
        upstream = self.c.upstream
        if engine is None or upstream is None:
            return []
        async with self._sync_lock:
            return await self._sync(engine, upstream, only, verbose)

    @staticmethod
    def _created_line(upstream: Any, meta: dict[str, Any], s: Any) -> str:
        return (f"Also created in the upstream Alertmanager ({escape_text(upstream.where)}) as "
                f"{code(meta['upstream'], 40)}, created by {escape_text(meta.get('name') or s.created_by)}.")

    async def _sync(self, engine: Any, upstream: Any, only: Sequence[str] | None, verbose: bool) -> list[str]:
        owed = [(sid, dict(meta)) for (ns, sid), meta in list(engine.kv.items())
                if ns == NS_SILENCE and isinstance(meta, dict) and meta.get("pending")
                and (only is None or sid in only)]
        lines: list[str] = []
        done: dict[str, dict[str, Any]] = {}
        asked = {sid: meta["pending"] for sid, meta in owed}
        if verbose and only is not None:
            # A silence the periodic mirroring took while this call waited for the lock: what it
            # did is said all the same (the command's reply must not depend on who came first).
            for sid in only:
                meta = engine.kv.get((NS_SILENCE, sid))
                if sid in asked or not isinstance(meta, dict) or not meta.get("upstream") or meta.get("pending"):
                    continue
                s = engine.silences.by_id.get(sid)
                if s is None or s.state(Timestamp.now()) == "expired":
                    lines.append(f"Expired in the upstream Alertmanager too ({escape_text(upstream.where)}).")
                else:
                    lines.append(self._created_line(upstream, meta, s))
        for sid, meta in owed:
            s = engine.silences.by_id.get(sid)
            action = meta["pending"]
            try:
                if action == "expire" or s is None:
                    if meta.get("upstream"):
                        await upstream.expire_silence(meta["upstream"])
                    if verbose:
                        lines.append(f"Expired in the upstream Alertmanager too ({escape_text(upstream.where)}).")
                elif action in ("create", "update"):
                    if s.state(Timestamp.now()) == "expired":
                        if meta.get("upstream"):
                            await upstream.expire_silence(meta["upstream"])
                    else:
                        am_id = await upstream.create_silence(s.matchers, s.starts_at.ns, s.ends_at.ns,
                                                              meta.get("name") or s.created_by, s.comment,
                                                              meta.get("upstream", "") if action == "update" else "")
                        meta["upstream"] = am_id
                        if verbose:
                            lines.append(self._created_line(upstream, meta, s))
                meta["pending"] = ""
                meta.pop("error", None)
                done[sid] = meta
            except UpstreamError as exc:
                self.c.note_error(f"mirroring silence {sid[:8]}: {exc}")
                log.warning("upstream Alertmanager silence not updated; retried later", silence_id=sid,
                            action=action, error=str(exc))
                lines.append(f"⚠️ Not yet in the upstream Alertmanager: {escape_text(str(exc))}. alertbot retries "
                             f"every {int(self.c.settings.chatops.upkeep_interval)}s; the silence already works here.")
        if done:
            def fn(txn: Txn) -> None:
                for sid, meta in done.items():
                    cur = txn.kv(NS_SILENCE, sid)
                    if not isinstance(cur, dict):
                        continue
                    # What changed meanwhile (an extension, an expiry) stays owed, with the upstream id.
                    unchanged = cur.get("pending") == asked[sid]
                    txn.put_kv(NS_SILENCE, sid, {**cur, "upstream": meta.get("upstream", ""),
                                                 "pending": "" if unchanged else cur.get("pending")})
                self._forget_old(txn)

            await engine.transact(fn)
        return lines

    @staticmethod
    def _forget_old(txn: Txn) -> None:
        engine = txn.engine
        cutoff = txn.now.ns - FORGET_SILENCE_S * NS
        for (ns, sid), meta in list(engine.kv.items()):
            if ns != NS_SILENCE or not isinstance(meta, dict) or meta.get("pending"):
                continue
            s = engine.silences.by_id.get(sid)
            if s is None or s.ends_at.ns < cutoff:
                txn.delete_kv(NS_SILENCE, sid)

    # ------------------------------------------------------------------ 3. resolves Alertmanager keeps back
    async def poll_upstream(self) -> int:
        engine = self._engine()
        upstream = self.c.upstream
        if engine is None or upstream is None:
            return 0
        try:
            listed = await upstream.alerts()
        except UpstreamError as exc:
            self.last_poll, self.last_poll_error = time.time(), str(exc)
            self.c.note_error(f"polling the upstream Alertmanager: {exc}")
            log.warning("upstream Alertmanager poll failed", error=str(exc))
            return 0
        self.last_poll, self.last_poll_error = time.time(), ""
        by_fp: dict[int, dict[str, Any]] = {}
        for a in listed:
            try:
                by_fp[int(str(a.get("fingerprint", "")), 16)] = a
            except ValueError:
                continue
        now = Timestamp.now()
        watched = {int(k, 16): v for (ns, k), v in list(engine.kv.items()) if ns == NS_WATCH}
        add: dict[int, list[str]] = {}
        drop: list[int] = []
        resolve: list[Alert] = []
        groups_of: dict[int, list[str]] = {}
        for g in engine.groups.values():
            for fp in g.alerts:
                groups_of.setdefault(fp, []).append(g.id)
        for fp, a in list(engine.alerts.items()):
            if a.resolved_at(now):
                continue
            up = by_fp.get(fp)
            if up is not None and fp not in watched and (up.get("status") or {}).get("state") == "suppressed":
                add[fp] = groups_of.get(fp, [])
        # Missing for a while, not just once: an Alertmanager that restarted has no alerts until
        # Prometheus sends them again (its resend delay, a minute by default).
        grace_ns = round(self.c.settings.chatops.upstream_resolve_after * NS)
        missing: dict[int, dict[str, Any]] = {}
        for fp, w in watched.items():
            a = engine.alerts.get(fp)
            if a is None or a.resolved_at(now):
                drop.append(fp)
            elif fp in by_fp:
                if w.get("missing_ns"):
                    missing[fp] = {k: v for k, v in w.items() if k != "missing_ns"}  # back again
            elif not w.get("missing_ns"):
                missing[fp] = {**w, "missing_ns": now.ns}
            elif now.ns - int(w["missing_ns"]) >= grace_ns:
                resolved = a.copy()
                resolved.ends_at = now
                resolved.updated_at = now
                resolved.timeout = False
                resolve.append(resolved)
                drop.append(fp)
        if not (add or drop or missing):
            return 0

        def fn(txn: Txn) -> None:
            for fp, gids in add.items():
                txn.put_kv(NS_WATCH, f"{fp:016x}", {"groups": gids, "since_ns": txn.now.ns})
            for fp, w in missing.items():
                txn.put_kv(NS_WATCH, f"{fp:016x}", w)
            for fp in drop:
                txn.delete_kv(NS_WATCH, f"{fp:016x}")
            for a in resolve:
                for gid in groups_of.get(a.fingerprint, []) or [""]:
                    txn.audit("alertbot", "resolve", gid, alert=dict(a.labels), fingerprint=f"{a.fingerprint:016x}",
                              reason="muted in the upstream Alertmanager, which no longer has it: it resolved there")
                    slack = txn.engine.extension("slack")
                    if gid and callable(getattr(slack, "thread_note", None)):
                        slack.thread_note(gid, f"✅ {code(a.name or 'alert', 100)} resolved in the upstream Alertmanager "
                                               f"while muted there (it sends no resolve then); alertbot resolves it "
                                               f"too.", txn, kind="resolved")

        await engine.transact(fn)
        if resolve:
            await engine.enqueue_alerts(resolve)
            self.resolved_by_poll += len(resolve)
            log.info("muted alerts resolved after the upstream Alertmanager dropped them",
                     alerts=[f"{a.fingerprint:016x}" for a in resolve],
                     groups=sorted({short_id(g) for a in resolve for g in groups_of.get(a.fingerprint, [])}))
        return len(resolve)

