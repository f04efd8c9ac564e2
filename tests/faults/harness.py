"""A harness for fault-injection scenarios against the real `alertbot serve`.

    world = World(tmp_path)                        # webhook receiver (own thread), HTTP session
    bot = await world.start_bot(world.routes())    # BotServer, started from a worker thread
    load = world.load(bot)                         # alerts in batches over many groups
    probe = world.prober(bot)                      # one fresh unrelated alert every second
    ready = world.ready_monitor(bot)               # /-/ready polled four times a second
    async with world.running(load, probe, ready):
        ...                                        # inject and clear a fault: world.fault
    verdict = await world.settle_and_check(bot, load, probe, ready)
    assert verdict.ok, verdict.report()

The four assertions of the issue, as `check` applies them (times are the test process's
monotonic clock; "answered" means the bot answered the POST 2xx; a POST answered anything else,
or not at all, is owed nothing):

(a) no alert answered 2xx is lost: every such alert appears, firing, in at least one
    notification of its group, by the settle deadline: the latest of (its POST's answer, the
    moment the bot was ready again after the fault) + group_wait + group_interval + SETTLE_GRACE_S.
    The settle phase polls for it and ends as soon as everything is there.
(b) no group is left unnotified: every group with an alert answered 2xx gets at least one
    notification by the same deadline (reported separately from (a): a group stuck in a flush
    that never ends shows here, a lost alert of a group notified before shows in (a)).
(c) at most once more: a notification of a group that repeats an earlier notification of the
    same group exactly (same status, same firing alerts, same resolved alerts) is a repeat;
    each group may have at most one repeat (the README's "at most once more" for a delivery cut
    short; no scenario here injects more than one fault).
(d) an unrelated alert is notified within group_wait + 2 s "throughout": a probe alert, sent at
    s and answered 2xx, is owed its notification by s + PROBE_BOUND_S (PROBE_BOUND_S =
    group_wait + 2 s, measured from when the POST was sent, so a slow answer counts against it).
    A probe whose bound reaches into a fault (s + PROBE_BOUND_S > the fault's start) is owed it
    by max(s, R) + PROBE_BOUND_S instead, where R is the first moment after the fault was cleared
    at which `/-/ready` answered 200, and the bot must reach R within RECOVERY_BOUND_S of the
    fault being cleared (else R counts as cleared + RECOVERY_BOUND_S and that is reported too).
    During the fault a probe's POST may be refused (503): nothing is owed for it.

Everything else waits generously and polls; the only strict bound is the issue's
group_wait + 2 s for probes.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from tests.server.conftest import BotServer

ROOT = Path(__file__).resolve().parents[2]

GROUP_WAIT_S = 1.0
GROUP_INTERVAL_S = 3.0
PROBE_BOUND_S = GROUP_WAIT_S + 2.0  # the bound for an unrelated alert
RECOVERY_BOUND_S = 20.0  # the bot is ready again this long after the fault is cleared
SETTLE_GRACE_S = 20.0  # beyond group_wait + group_interval, for everything to be notified
POST_TIMEOUT_S = 60.0

# Messages of the engine's own retry after a failed commit or load (counted per second while a
# fault lasts: a retry loop without backoff logs dozens per second, each with a full reload).
ENGINE_RETRY_MESSAGES = ("commit failed", "state reloaded", "database still unavailable",
                         "database unavailable; retrying")


# ---------------------------------------------------------------------------- configuration

def routes(receiver_url: str, *, extra_routes: str = "", extra_receivers: str = "",
           group_wait: float = GROUP_WAIT_S, group_interval: float = GROUP_INTERVAL_S) -> str:
    """Load alerts to webhook /load grouped by [alertname, group]; probes (alertname="Probe") to
    webhook /probe, each probe its own group. `extra_routes` go before the probe route."""
    return f"""\
route:
  receiver: load
  group_by: [alertname, group]
  group_wait: {group_wait:g}s
  group_interval: {group_interval:g}s
  repeat_interval: 1h
  routes:
{extra_routes}  - matchers: ['alertname="Probe"']
    receiver: probe
receivers:
- name: load
  webhook_configs:
  - url: {receiver_url}/load
- name: probe
  webhook_configs:
  - url: {receiver_url}/probe
{extra_receivers}"""


# ---------------------------------------------------------------------------- a loop in a thread

class LoopThread:
    """An asyncio loop on a thread of its own: the receiver keeps answering, and stamps arrivals
    on time, whatever the test's own loop is doing."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    async def run(self, coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def run_sync(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# ---------------------------------------------------------------------------- the webhook receiver

@dataclass(frozen=True)
class Notification:
    at: float  # monotonic arrival
    path: str  # "load" or "probe"
    group: str  # the group's `group` label
    status: str
    firing: frozenset[str]  # ids (label `id`) of the firing alerts
    resolved: frozenset[str]

    @property
    def identity(self) -> tuple[str, frozenset[str], frozenset[str]]:
        return self.status, self.firing, self.resolved


class Receiver:
    """Webhook receiver: answers 200 at once and records every notification with its arrival time."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []
        self.first_firing: dict[str, float] = {}  # alert id -> first notification carrying it firing
        self.first_of_group: dict[str, float] = {}
        self.bad_requests = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        try:
            body = orjson.loads(await request.read())
            firing = frozenset(a["labels"]["id"] for a in body["alerts"] if a["status"] == "firing")
            resolved = frozenset(a["labels"]["id"] for a in body["alerts"] if a["status"] != "firing")
            group = body["groupLabels"].get("group", "")
        except (ValueError, KeyError, TypeError):
            self.bad_requests += 1
            return web.Response(text="ok")
        n = Notification(at, request.match_info["path"], group, body["status"], firing, resolved)
        self.notifications.append(n)
        self.first_of_group.setdefault(group, at)
        for i in firing:
            self.first_firing.setdefault(i, at)
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_post("/{path}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# ---------------------------------------------------------------------------- posting alerts

@dataclass
class Post:
    sent: float
    answered: float | None = None
    status: int | None = None  # None: no answer (timeout, connection refused or reset)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def post_alerts(session: aiohttp.ClientSession, url: str, alerts: list[dict[str, Any]],
                      timeout: float = POST_TIMEOUT_S) -> Post:
    body = orjson.dumps(alerts)
    p = Post(time.monotonic())
    try:
        async with session.post(f"{url}/api/v2/alerts", data=body, headers={"Content-Type": "application/json"},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            text = await r.read()
            p.status = r.status
            if not p.ok:
                p.error = text[:300].decode(errors="replace")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        p.error = f"{type(exc).__name__}: {exc}"
    p.answered = time.monotonic()
    return p


@dataclass
class Answered:
    sent: float
    answered: float
    group: str


class Load:
    """Batches of fresh alerts (alertname=Load, group=g<k>, id=L<n>) over `groups` groups, at
    `rate` batches per second, each batch its own request (a hung request does not stop the
    others; at most `in_flight` at once). With `new_group_every` = k, every k-th alert starts a
    group of its own instead (group=n<m>), so that new groups keep appearing: before, during
    and after a fault."""

    def __init__(self, session: aiohttp.ClientSession, url: str, *, groups: int = 300, batch: int = 50,
                 rate: float = 5.0, in_flight: int = 8, prefix: str = "L", name: str = "Load",
                 new_group_every: int = 0) -> None:
        self.session = session
        self.url = url
        self.groups = groups
        self.new_group_every = new_group_every
        self.batch = batch
        self.rate = rate
        self.prefix = prefix
        self.name = name
        self.answered: dict[str, Answered] = {}  # alert id -> its 2xx answer
        self.posts: list[Post] = []
        self._ids = itertools.count()
        self._slots = asyncio.Semaphore(in_flight)
        self._tasks: set[asyncio.Task[None]] = set()

    def alerts(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            i = next(self._ids)
            k = self.new_group_every
            group = f"n{i // k}" if k and i % k == k - 1 else f"g{i % self.groups}"
            out.append({"labels": {"alertname": self.name, "group": group, "id": f"{self.prefix}{i}"},
                        "annotations": {"summary": f"load alert {i}"}})
        return out

    async def send(self, alerts: list[dict[str, Any]], timeout: float = POST_TIMEOUT_S) -> Post:
        async with self._slots:
            p = await post_alerts(self.session, self.url, alerts, timeout)
        self.posts.append(p)
        if p.ok:
            assert p.answered is not None
            for a in alerts:
                self.answered[a["labels"]["id"]] = Answered(p.sent, p.answered, a["labels"]["group"])
        return p

    async def preload(self, total: int, batch: int = 1000, concurrency: int = 4) -> None:
        """`total` alerts before any fault, every request answered 200 (else the test is wrong)."""
        bodies = [self.alerts(min(batch, total - k)) for k in range(0, total, batch)]
        queue = list(reversed(bodies))

        async def worker() -> None:
            while queue:
                p = await self.send(queue.pop())
                assert p.ok, f"preload refused: {p.status} {p.error}"

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def run(self, stop: asyncio.Event) -> None:
        period = 1.0 / self.rate
        nxt = time.monotonic()
        while not stop.is_set():
            t = asyncio.get_running_loop().create_task(self.send(self.alerts(self.batch)))
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
            nxt += period
            await _sleep_until(nxt, stop)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def refused(self) -> int:
        return sum(1 for p in self.posts if not p.ok)


@dataclass
class Probe:
    id: str
    post: Post


class Prober:
    """Every `period` seconds a fresh alert of its own group (alertname=Probe, group=p<k>, id=P<k>)
    on the webhook route with group_wait 1 s; each POST its own task."""

    def __init__(self, session: aiohttp.ClientSession, url: str, period: float = 1.0) -> None:
        self.session = session
        self.url = url
        self.period = period
        self.probes: list[Probe] = []
        self._n = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()

    async def _one(self) -> None:
        k = next(self._n)
        pid = f"P{k}"
        alert = {"labels": {"alertname": "Probe", "group": f"p{k}", "id": pid}}
        probe = Probe(pid, Post(time.monotonic()))
        self.probes.append(probe)
        probe.post = await post_alerts(self.session, self.url, [alert])

    async def run(self, stop: asyncio.Event) -> None:
        nxt = time.monotonic()
        while not stop.is_set():
            t = asyncio.get_running_loop().create_task(self._one())
            self._tasks.add(t)
            t.add_done_callback(self._tasks.discard)
            nxt += self.period
            await _sleep_until(nxt, stop)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass
class Poll:
    sent: float
    answered: float
    status: int | None
    text: str


class ReadyMonitor:
    """GET /-/ready every `period` seconds (one at a time): when the bot was ready, and what it said."""

    def __init__(self, session: aiohttp.ClientSession, url: str, period: float = 0.25) -> None:
        self.session = session
        self.url = url
        self.period = period
        self.polls: list[Poll] = []

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            sent = time.monotonic()
            status, text = None, ""
            try:
                async with self.session.get(f"{self.url}/-/ready", timeout=aiohttp.ClientTimeout(total=10)) as r:
                    status, text = r.status, (await r.text())[:200]
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                text = type(exc).__name__
            self.polls.append(Poll(sent, time.monotonic(), status, text))
            await _sleep_until(sent + self.period, stop)

    def ready_again(self, after: float) -> float | None:
        """The first poll sent at or after `after` that answered 200: when the bot was ready again."""
        return next((p.answered for p in self.polls if p.sent >= after and p.status == 200), None)

    def not_ready_during(self, start: float, end: float) -> list[Poll]:
        return [p for p in self.polls if start <= p.sent <= end and p.status != 200]

    def last_not_ready(self) -> Poll | None:
        return next((p for p in reversed(self.polls) if p.status != 200), None)


@dataclass
class Read:
    reader: int
    sent: float
    answered: float
    status: int | None
    alerts: int  # fingerprints in the answer
    error: str = ""


class Readers:
    """Clients polling GET /api/v2/alerts in a loop, each on a thread of its own (blocking
    http.client, so reading 25 MB answers never holds up the test's loop or the receiver)."""

    def __init__(self, url: str, clients: int = 3, timeout: float = 120.0) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.host, self.port = host, int(port)
        self.clients = clients
        self.timeout = timeout
        self.reads: list[Read] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(k,), name=f"reader-{k}", daemon=True)
                         for k in range(clients)]

    def _run(self, k: int) -> None:
        while not self._stop.is_set():
            sent = time.monotonic()
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                conn.request("GET", "/api/v2/alerts")
                resp = conn.getresponse()
                body = resp.read()
                self.reads.append(Read(k, sent, time.monotonic(), resp.status, body.count(b'"fingerprint":')))
            except (OSError, http.client.HTTPException) as exc:
                self.reads.append(Read(k, sent, time.monotonic(), None, 0, f"{type(exc).__name__}: {exc}"))
                self._stop.wait(0.5)
            finally:
                conn.close()

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Asks them to stop; a read in progress ends by itself (`join` waits for it)."""
        self._stop.set()

    async def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            await asyncio.to_thread(t.join, max(0.0, deadline - time.monotonic()))


# ---------------------------------------------------------------------------- the fault

@dataclass
class Fault:
    what: str
    started: float | None = None  # monotonic, just before it was injected
    cleared: float | None = None  # monotonic, once it was cleared (database back, file writable, space freed)
    wall_started: float = 0.0
    wall_cleared: float = 0.0

    def start(self) -> None:
        self.started, self.wall_started = time.monotonic(), time.time()

    def clear(self) -> None:
        self.cleared, self.wall_cleared = time.monotonic(), time.time()


# ---------------------------------------------------------------------------- the checks

@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def report(self) -> str:
        lines = [f"{len(self.problems)} problem(s):", *(f"  - {p}" for p in self.problems),
                 "figures: " + json.dumps(self.figures, sort_keys=True, default=str)]
        return "\n".join(lines)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def recovered_at(fault: Fault | None, ready: ReadyMonitor) -> float | None:
    """R of rule (d): when the bot was ready again after the fault (None without a fault; the
    fault's clearing + RECOVERY_BOUND_S if it never was)."""
    if fault is None or fault.cleared is None:
        return None
    again = ready.ready_again(fault.cleared)
    return again if again is not None else fault.cleared + RECOVERY_BOUND_S


def probe_deadline(sent: float, fault: Fault | None, recovered: float | None) -> float:
    if fault is None or fault.started is None or recovered is None or sent + PROBE_BOUND_S <= fault.started:
        return sent + PROBE_BOUND_S
    return max(sent, recovered) + PROBE_BOUND_S


def settle_deadline(answered: Iterable[float], recovered: float | None, group_interval: float) -> float:
    latest = max([*answered, recovered or 0.0, time.monotonic()])
    return latest + GROUP_WAIT_S + group_interval + SETTLE_GRACE_S


def check(receiver: Receiver, loads: list[Load], prober: Prober, ready: ReadyMonitor, fault: Fault | None,
          *, extra_groups: dict[str, bool] | None = None, extra_alerts: dict[str, bool] | None = None) -> Verdict:
    """The four assertions (module docstring) over what was recorded. `extra_alerts` and
    `extra_groups` (id -> notified) come from outside the webhook receiver (Slack)."""
    v = Verdict()
    f = v.figures
    recovered = recovered_at(fault, ready)
    if ready.polls:
        last = ready.polls[-1]
        f["ready_at_end"] = f"{last.status} {last.text[:120]}"
    if fault is not None and fault.cleared is not None:
        again = ready.ready_again(fault.cleared)
        f["fault_seconds"] = _r(fault.cleared - (fault.started or fault.cleared))
        f["ready_again_after_clear_s"] = _r(None if again is None else again - fault.cleared)
        if again is None or again - fault.cleared > RECOVERY_BOUND_S:
            last = ready.last_not_ready()
            v.problems.append(
                f"not ready again within {RECOVERY_BOUND_S:g}s after the fault was cleared "
                f"({'never' if again is None else f'after {again - fault.cleared:.1f}s'}); "
                f"its last answer other than 200: {last.status if last else '-'} {last.text if last else ''!r}")

    # (a) every alert answered 2xx is notified
    answered: dict[str, Answered] = {}
    for load in loads:
        answered.update(load.answered)
    lost = [i for i in answered if i not in receiver.first_firing]
    lost += [i for i, ok in (extra_alerts or {}).items() if not ok]
    f["alerts_answered"] = len(answered) + len(extra_alerts or {})
    f["alerts_lost"] = len(lost)
    f["load_posts_refused"] = sum(load.refused() for load in loads)
    if lost:
        v.problems.append(f"(a) {len(lost)} of {f['alerts_answered']} alerts answered 2xx were never notified "
                          f"(e.g. {sorted(lost)[:5]})")

    # (b) every group with an answered alert is notified
    groups = {a.group for a in answered.values()}
    silent = sorted(g for g in groups if g not in receiver.first_of_group)
    silent += sorted(g for g, ok in (extra_groups or {}).items() if not ok)
    f["groups_answered"] = len(groups) + len(extra_groups or {})
    f["groups_unnotified"] = len(silent)
    if silent:
        v.problems.append(f"(b) {len(silent)} of {f['groups_answered']} groups with alerts answered 2xx were never "
                          f"notified (e.g. {silent[:5]})")

    # (c) at most once more
    seen: dict[str, set[tuple[str, frozenset[str], frozenset[str]]]] = {}
    repeats: dict[str, int] = {}
    for n in receiver.notifications:
        ids = seen.setdefault(f"{n.path}/{n.group}", set())
        if n.identity in ids:
            repeats[f"{n.path}/{n.group}"] = repeats.get(f"{n.path}/{n.group}", 0) + 1
        ids.add(n.identity)
    f["notifications"] = len(receiver.notifications)
    f["groups_with_a_repeat"] = len(repeats)
    too_many = {g: r for g, r in repeats.items() if r > 1}
    if too_many:
        v.problems.append(f"(c) {len(too_many)} groups were notified the same alerts more than once more "
                          f"(e.g. {sorted(too_many.items())[:5]})")

    # (d) probes within group_wait + 2 s
    owed = [p for p in prober.probes if p.post.ok]
    late: list[tuple[str, float | None, float]] = []  # (id, lateness or None if never, seconds since sent)
    delays = []
    now = time.monotonic()
    for p in owed:
        deadline = probe_deadline(p.post.sent, fault, recovered)
        arrived = receiver.first_firing.get(p.id)
        if arrived is not None:
            delays.append(arrived - p.post.sent)
        if arrived is None or arrived > deadline:
            late.append((p.id, None if arrived is None else arrived - deadline,
                         (arrived if arrived is not None else now) - p.post.sent))
    answer_times = [p.post.answered - p.post.sent for p in owed if p.post.answered is not None]
    f["probes_sent"] = len(prober.probes)
    f["probes_answered_2xx"] = len(owed)
    f["probes_late"] = len(late)
    f["probe_delay_max_s"] = _r(max(delays, default=None))
    f["probe_delay_median_s"] = _r(sorted(delays)[len(delays) // 2] if delays else None)
    f["probe_post_answer_max_s"] = _r(max(answer_times, default=None))
    if recovered is not None:
        # What the bot sent between being ready again and the last probe owed across the fault:
        # first notifications of groups (new alerts, like the probes) and later ticks.
        across = [receiver.first_firing.get(p.id) for p in owed
                  if probe_deadline(p.post.sent, fault, recovered) != p.post.sent + PROBE_BOUND_S]
        last = max((a for a in across if a is not None), default=None)
        if last is not None:
            before = [n for n in receiver.notifications if recovered <= n.at < last and n.path != "probe"]
            f["probes_across_fault"] = len(across)
            f["last_probe_across_fault_after_ready_s"] = _r(last - recovered)
            f["sent_before_it_first_of_group"] = sum(1 for n in before if receiver.first_of_group[n.group] == n.at)
            f["sent_before_it_later_ticks"] = sum(1 for n in before if receiver.first_of_group[n.group] != n.at)
    if not owed:
        v.problems.append("(d) no probe was answered 2xx: nothing was measured")
    if late:
        worst = max(late, key=lambda x: x[2])
        never = sum(1 for _, lateness, _ in late if lateness is None)
        v.problems.append(
            f"(d) {len(late)} of {len(owed)} probes were not notified within their bound "
            f"({PROBE_BOUND_S:g}s after sending, or after the bot was ready again); {never} never arrived; "
            f"worst: {worst[0]} {worst[2]:.1f}s after it was sent"
            + ("" if worst[1] is None else f" ({worst[1]:.1f}s late)"))
    return v


def log_retry_rate(bot: BotServer, wall_start: float, wall_end: float) -> tuple[int, int]:
    """The engine's retry lines (ENGINE_RETRY_MESSAGES) between two wall-clock times: the total,
    and the most in any one second."""
    per_second: dict[int, int] = {}
    total = 0
    for rec in bot.log_records():
        msg = str(rec.get("message", ""))
        if not any(m in msg for m in ENGINE_RETRY_MESSAGES):
            continue
        try:
            t = datetime.fromisoformat(str(rec["timestamp"]).replace("Z", "+00:00")).timestamp()
        except (KeyError, ValueError):
            continue
        if wall_start <= t <= wall_end:
            total += 1
            per_second[int(t)] = per_second.get(int(t), 0) + 1
    return total, max(per_second.values(), default=0)


# ---------------------------------------------------------------------------- the world

class World:
    """The receiver on a thread of its own, one HTTP session, the bots started, and the fault."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.io = LoopThread("faults-receiver")
        self.receiver = Receiver()
        self.io.run_sync(self.receiver.start())
        self.session: aiohttp.ClientSession | None = None
        self.bots: list[BotServer] = []
        self.fault: Fault | None = None

    async def __aenter__(self) -> World:
        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64))
        return self

    async def __aexit__(self, *exc: object) -> None:
        for bot in self.bots:
            await asyncio.to_thread(bot.stop)
        if self.session is not None:
            await self.session.close()
        with contextlib.suppress(Exception):
            self.io.run_sync(self.receiver.stop(), timeout=10)
        self.io.close()

    def routes(self, **kw: Any) -> str:
        return routes(self.receiver.url, **kw)

    async def start_bot(self, config: str, args: list[str] | None = None, env: dict[str, str] | None = None,
                        name: str = "bot") -> BotServer:
        bot = await asyncio.to_thread(BotServer.start, config, self.tmp_path / name, args, env, 90.0)
        self.bots.append(bot)
        return bot

    def load(self, bot: BotServer, **kw: Any) -> Load:
        assert self.session is not None
        return Load(self.session, bot.url, **kw)

    def prober(self, bot: BotServer) -> Prober:
        assert self.session is not None
        return Prober(self.session, bot.url)

    def ready_monitor(self, bot: BotServer) -> ReadyMonitor:
        assert self.session is not None
        return ReadyMonitor(self.session, bot.url)

    @contextlib.asynccontextmanager
    async def running(self, *parts: Load | Prober | ReadyMonitor) -> AsyncIterator[asyncio.Event]:
        """Runs the parts' loops until the block ends (then waits for their requests in flight)."""
        stop = asyncio.Event()
        tasks = [asyncio.get_running_loop().create_task(p.run(stop)) for p in parts]
        try:
            yield stop
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for p in parts:
                if isinstance(p, (Load, Prober)):
                    await p.drain()

    async def wait_notified(self, loads: list[Load], prober: Prober | None, group_interval: float,
                            extra: Callable[[], bool] | None = None) -> float:
        """Polls until every alert answered 2xx and every probe answered 2xx has been notified (and
        `extra()` holds), or the settle deadline passes. Returns the seconds it waited."""
        started = time.monotonic()
        recovered = recovered_at(self.fault, self._ready) if self._ready is not None else None
        answered = [a.answered for load in loads for a in load.answered.values()]
        deadline = settle_deadline(answered, recovered, group_interval)
        if prober is not None:
            owed = [p for p in prober.probes if p.post.ok]
            deadline = max([deadline, *(probe_deadline(p.post.sent, self.fault, recovered) + 2.0 for p in owed)])
        first = self.receiver.first_firing
        while time.monotonic() < deadline:
            if (all(i in first for load in loads for i in load.answered)
                    and (prober is None or all(p.id in first for p in prober.probes if p.post.ok))
                    and (extra is None or extra())):
                break
            await asyncio.sleep(0.25)
        return time.monotonic() - started

    _ready: ReadyMonitor | None = None

    async def settle_and_check(self, loads: list[Load], prober: Prober, ready: ReadyMonitor, *,
                               group_interval: float = GROUP_INTERVAL_S,
                               extra: Callable[[], tuple[dict[str, bool], dict[str, bool]]] | None = None) -> Verdict:
        """Waits for everything owed (polling, bounded by the settle deadline), then one more group
        interval for repeats, and checks. `ready` keeps running throughout."""
        self._ready = ready
        extra_done = None if extra is None else (lambda: all(extra()[0].values()) and all(extra()[1].values()))
        waited = await self.wait_notified(loads, prober, group_interval, extra_done)
        await asyncio.sleep(group_interval + 1.0)  # a repeat would come with the next flushes
        alerts, groups = extra() if extra is not None else ({}, {})
        v = check(self.receiver, loads, prober, ready, self.fault, extra_alerts=alerts, extra_groups=groups)
        v.figures["settle_waited_s"] = _r(waited)
        for bot in self.bots:
            listening = next((r for r in bot.log_records() if r.get("message") == "listening"), {})
            v.figures["ingest_workers"] = listening.get("ingest_workers")
            if bot.proc.poll() is not None:  # it must survive every fault: say so before anything else
                v.problems.insert(0, f"the bot's process ended during the test (exit status {bot.proc.returncode}); "
                                     f"its log: {bot.log_path}")
        return v


async def _sleep_until(t: float, stop: asyncio.Event) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)


# ---------------------------------------------------------------------------- database faults

RETRY_RATE_AVG = 2.0  # engine retry lines per second, on average while the fault lasts
RETRY_RATE_PEAK = 6  # ...and in any one second


def check_fault_felt(v: Verdict, fault: Fault, loads: list[Load], prober: Prober, ready: ReadyMonitor) -> None:
    """The fault bit: some request was refused or /-/ready said no while it lasted (else the
    scenario proved nothing)."""
    assert fault.started is not None and fault.cleared is not None
    posts = [p for load in loads for p in load.posts] + [p.post for p in prober.probes]
    during = [p for p in posts if fault.started <= p.sent <= fault.cleared]
    refused = [p for p in during if not p.ok]
    not_ready = ready.not_ready_during(fault.started, fault.cleared + RECOVERY_BOUND_S)
    v.figures["posts_during_fault"] = len(during)
    v.figures["posts_refused_during_fault"] = len(refused)
    v.figures["refusals"] = sorted({f"{p.status} {p.error[:80]}" for p in refused})[:4]
    v.figures["ready_answers_after_fault_start"] = sorted({f"{p.status} {p.text[:100]}" for p in not_ready})[:4]
    if not refused and not not_ready:
        v.problems.append("the fault was not felt: no request refused and /-/ready always 200 (the scenario "
                          "injected nothing)")


def check_retry_rate(v: Verdict, bot: BotServer, fault: Fault) -> None:
    """Backoff: while the fault lasts, the engine's retry lines (ENGINE_RETRY_MESSAGES: a failed
    commit, a reload that failed, a retry of the start-up) stay at most RETRY_RATE_AVG per second on
    average and RETRY_RATE_PEAK in any one second. (Each retry without backoff also reloads the
    whole state: the lines count the attempts.)"""
    total, peak = log_retry_rate(bot, fault.wall_started, fault.wall_cleared)
    seconds = max(1.0, fault.wall_cleared - fault.wall_started)
    v.figures["engine_retry_lines_during_fault"] = total
    v.figures["engine_retry_lines_per_s"] = round(total / seconds, 1)
    v.figures["engine_retry_lines_peak_1s"] = peak
    if total / seconds > RETRY_RATE_AVG or peak > RETRY_RATE_PEAK:
        v.problems.append(f"no backoff: {total} engine retry lines ('commit failed…', 'database still unavailable…') "
                          f"in the {seconds:.1f}s of the fault ({total / seconds:.1f}/s, {peak} in one second; "
                          f"bound {RETRY_RATE_AVG:g}/s and {RETRY_RATE_PEAK} in one second)")
