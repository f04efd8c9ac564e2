"""Side-by-side runs: the real Alertmanager 0.25 and alertbot get the same alerts at the same
moments, and their webhook notifications are recorded and compared.

    result = await run_scenario(scenario, tmp_path)   # both sides, in parallel, then stopped
    problems = compare(result.left, result.right, scenario.tolerance, result.posted_times)
    assert not problems, side_by_side(...)

Each side gets its own recorder (a small aiohttp server in the test process) because the
configuration names the recorder's URL: the two configurations differ only in that port.
Every request a recorder receives is kept, with its arrival time relative to the scenario
start (time.monotonic) and its JSON body.

`ALERTBOT_DIFF_AGAINST=alertmanager` runs a second Alertmanager in the bot's place: the
harness checking itself, and the way to measure Alertmanager's own timing jitter.
"""

from __future__ import annotations

import asyncio
import json
import contextvars
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.fixtures.alertmanager import Alertmanager
from tests.fixtures.process import start_on_free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_URL = "http://alertmanager.example:9093"
ZERO_TIME = "0001-01-01T00:00:00Z"
SETTLE_S = 1.0
# Fields only today's Alertmanager sends (notification_reason >=0.32, routeLabels >=0.34):
# 0.25 cannot be compared on them.
NEWER_FIELDS = {"notification_reason", "routeLabels"}
PAYLOAD_FIELDS = ["receiver", "status", "groupLabels", "commonLabels", "commonAnnotations", "externalURL",
                  "version", "groupKey", "truncatedAlerts"]
ALERT_FIELDS = ["status", "labels", "annotations", "generatorURL", "fingerprint"]


# ---------------------------------------------------------------------------- scenario DSL
@dataclass(frozen=True)
class AlertSpec:
    """A postable alert; times are seconds relative to the scenario start (None: not sent)."""

    labels: dict[str, str]
    starts: float | None = None
    ends: float | None = None
    annotations: dict[str, str] | None = None
    generator_url: str | None = None
    tz: timedelta = timedelta(0)  # the offset the times are written with


def alert(labels: str | dict[str, str], starts: float | None = None, ends: float | None = None,
          tz_hours: float = 0, generator_url: str | None = None, **annotations: str) -> AlertSpec:
    """`alert("alertname=A,inst=a", ends=3.0, summary="s")`."""
    if isinstance(labels, str):
        labels = dict(p.split("=", 1) for p in labels.split(",") if p)
    return AlertSpec(dict(labels), starts, ends, dict(annotations) or None, generator_url, timedelta(hours=tz_hours))


@dataclass(frozen=True)
class Post:
    alerts: tuple[AlertSpec, ...]


@dataclass(frozen=True)
class AddSilence:
    name: str  # how later steps refer to it (the two sides give it different ids)
    matchers: tuple[tuple[str, str, bool, bool], ...]  # (name, value, isRegex, isEqual)
    starts: float
    ends: float


@dataclass(frozen=True)
class ExpireSilence:
    name: str


@dataclass(frozen=True)
class UpdateSilence:
    """Re-posts a silence with its id and a new end (Alertmanager updates it in place)."""

    name: str
    ends: float


def post(*alerts: AlertSpec) -> Post:
    return Post(tuple(alerts))


def silence(name: str, starts: float, ends: float, *matchers: str, **equal: str) -> AddSilence:
    """`silence("s", 0, 60, 'inst=~a|b', 'env!=prod', alertname="V")`."""
    parsed = [(k, v, False, True) for k, v in equal.items()]
    for m in matchers:
        for op, is_regex, is_equal in (("=~", True, True), ("!~", True, False), ("!=", False, False), ("=", False, True)):
            if op in m:
                label, value = m.split(op, 1)
                parsed.append((label, value, is_regex, is_equal))
                break
        else:
            raise ValueError(f"not a matcher: {m!r}")
    return AddSilence(name, tuple(parsed), starts, ends)


@dataclass
class Scenario:
    name: str
    doc: str
    # The configuration (Alertmanager's schema). "{hook}" stands for the recorder's base URL;
    # a callable gets the scenario's start time (for time intervals that hold "now").
    config: str | Callable[[datetime], str]
    steps: list[tuple[float, Post | AddSilence | ExpireSilence | UpdateSilence]]
    duration: float  # seconds to record after the start
    tolerance: float = 0.3
    # The recorder's answer to the n-th (0-based) request to `slot`, arriving `t` seconds
    # after the start: an HTTP status, or (status, seconds to wait before answering).
    # Default 200 at once. Each side's recorder counts its own requests.
    respond: Callable[[str, float, int], int | tuple[int, float]] | None = None

    def config_text(self, start: datetime, hook: str) -> str:
        text = self.config(start) if callable(self.config) else self.config
        return text.replace("{hook}", hook)


# ---------------------------------------------------------------------------- the recorder
@dataclass
class Request:
    slot: str  # the webhook's URL path: "<receiver>/<index>"
    t: float  # arrival, seconds after the scenario start
    body: Any
    status: int  # what the recorder answered
    raw: bytes = b""
    content_type: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default) if isinstance(self.body, dict) else default


class Recorder:
    """Records every request with its arrival time and JSON body."""

    def __init__(self, respond: Callable[[str, float, int], int | tuple[int, float]] | None = None) -> None:
        self.requests: list[Request] = []
        self.respond = respond
        self.t0 = time.monotonic()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{slot:.*}", self._handle)
        # A hanging answer (see `respond`) ends when the client gives up, and never holds up
        # the end of the scenario.
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        t = time.monotonic() - self.t0
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        slot = request.match_info["slot"]
        n = sum(1 for r in self.requests if r.slot == slot)
        answer = self.respond(slot, t, n) if self.respond else 200
        status, wait = answer if isinstance(answer, tuple) else (answer, 0.0)
        self.requests.append(Request(slot, t, body, status, raw, request.headers.get("Content-Type", "")))
        if wait:
            await asyncio.sleep(wait)
        return web.Response(status=status, text="ok" if status < 300 else "recorder says no")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


# ---------------------------------------------------------------------------- the two sides
class Side:
    name: str
    url: str

    def log_tail(self, n: int = 3000) -> str:
        return ""

    def stop(self) -> None: ...


class AlertmanagerSide(Side):
    def __init__(self, am: Alertmanager, name: str = "alertmanager 0.25") -> None:
        self.am = am
        self.name = name
        self.url = am.url

    @classmethod
    def start(cls, config_text: str, workdir: Path, name: str = "alertmanager 0.25") -> AlertmanagerSide:
        am = Alertmanager.start(config_text, workdir, extra_args=[f"--web.external-url={EXTERNAL_URL}"])
        return cls(am, name)

    def log_tail(self, n: int = 3000) -> str:
        return self.am.log_text()[-n:]

    def stop(self) -> None:
        self.am.stop()


class BotSide(Side):
    """`alertbot serve` as a subprocess on a free port with its own SQLite database."""

    name = "alertbot"

    def __init__(self, proc: subprocess.Popen, port: int, workdir: Path) -> None:
        self.proc = proc
        self.port = port
        self.workdir = workdir
        self.url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, config_text: str, workdir: Path, timeout: float = 60.0, database_url: str | None = None,
              args: tuple[str, ...] = ()) -> BotSide:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "routes.yaml"
        config_path.write_text(config_text)
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["PYTHONPATH"] = str(ROOT)

        def argv(port: int) -> list[str]:
            db = database_url or f"sqlite+aiosqlite:///{workdir / f'alertbot-{port}.db'}"
            return [sys.executable, "-m", "bot.cli.main", "serve", "--config", str(config_path),
                    "--listen", f"127.0.0.1:{port}", "--database", db, "--external-url", EXTERNAL_URL, *args]

        proc, port = start_on_free_port("alertbot serve", argv, workdir / "alertbot.log", timeout=timeout, cwd=ROOT,
                                        env=env, new_session=True)
        return cls(proc, port, workdir)

    def log_tail(self, n: int = 3000) -> str:
        try:
            return (self.workdir / "alertbot.log").read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process(self.proc)


def against() -> str:
    """What runs in the bot's place: "alertbot" (default) or "alertmanager" (self-check)."""
    return os.environ.get("ALERTBOT_DIFF_AGAINST", "alertbot")


# ---------------------------------------------------------------------------- running
@dataclass
class SideRun:
    side: str
    requests: list[Request]
    errors: list[str] = field(default_factory=list)  # API calls the side refused
    log: str = ""


@dataclass
class Result:
    left: SideRun
    right: SideRun
    posted_times: set[str]  # every timestamp string we sent (echoed verbatim by Alertmanager)
    start: datetime


def rfc3339(t: datetime) -> str:
    """Go's RFC 3339 with nanoseconds: fraction trimmed, `Z` for UTC, offset kept otherwise."""
    s = t.isoformat(timespec="microseconds")
    date, _, rest = s.partition("T")
    clock, offset = rest[:15], rest[15:]
    clock = clock.rstrip("0").rstrip(".")
    if offset in ("+00:00", ""):
        offset = "Z"
    return f"{date}T{clock}{offset}"


def postable(spec: AlertSpec, start: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"labels": spec.labels}
    tz = timezone(spec.tz) if spec.tz else UTC
    if spec.annotations:
        out["annotations"] = spec.annotations
    if spec.starts is not None:
        out["startsAt"] = rfc3339((start + timedelta(seconds=spec.starts)).astimezone(tz))
    if spec.ends is not None:
        out["endsAt"] = rfc3339((start + timedelta(seconds=spec.ends)).astimezone(tz))
    if spec.generator_url is not None:
        out["generatorURL"] = spec.generator_url
    return out


async def _apply(session: aiohttp.ClientSession, side: Side, step: Any, start: datetime,
                 silence_ids: dict[str, str], errors: list[str], t: float) -> None:
    try:
        if isinstance(step, Post):
            body = [postable(a, start) for a in step.alerts]
            async with session.post(f"{side.url}/api/v2/alerts", json=body) as resp:
                text = await resp.text()
                if resp.status != 200:
                    errors.append(f"+{t:.1f}s POST /api/v2/alerts -> {resp.status} {text[:300]}")
        elif isinstance(step, AddSilence):
            body = {"matchers": [{"name": n, "value": v, "isRegex": r, "isEqual": e} for n, v, r, e in step.matchers],
                    "startsAt": rfc3339(start + timedelta(seconds=step.starts)),
                    "endsAt": rfc3339(start + timedelta(seconds=step.ends)),
                    "createdBy": "differential", "comment": step.name}
            async with session.post(f"{side.url}/api/v2/silences", json=body) as resp:
                text = await resp.text()
                if resp.status != 200:
                    errors.append(f"+{t:.1f}s POST /api/v2/silences -> {resp.status} {text[:300]}")
                else:
                    silence_ids[step.name] = json.loads(text)["silenceID"]
        elif isinstance(step, UpdateSilence):
            sid = silence_ids.get(step.name, "unknown")
            async with session.get(f"{side.url}/api/v2/silence/{sid}") as resp:
                current = await resp.json(content_type=None)
            if not isinstance(current, dict) or "id" not in current:
                raise ValueError(f"GET /api/v2/silence/{sid} -> {resp.status} {current!r:.300}")
            body = {k: current[k] for k in ("id", "matchers", "startsAt", "createdBy", "comment")}
            body["endsAt"] = rfc3339(start + timedelta(seconds=step.ends))
            async with session.post(f"{side.url}/api/v2/silences", json=body) as resp:
                text = await resp.text()
                if resp.status != 200:
                    errors.append(f"+{t:.1f}s POST /api/v2/silences (update) -> {resp.status} {text[:300]}")
                elif json.loads(text)["silenceID"] != sid:
                    errors.append(f"+{t:.1f}s silence update changed the id {sid} -> {text}")
        elif isinstance(step, ExpireSilence):
            sid = silence_ids.get(step.name, "unknown")
            async with session.delete(f"{side.url}/api/v2/silence/{sid}") as resp:
                text = await resp.text()
                if resp.status != 200:
                    errors.append(f"+{t:.1f}s DELETE /api/v2/silence/{sid} -> {resp.status} {text[:300]}")
    except (aiohttp.ClientError, OSError, ValueError, KeyError, TypeError) as exc:
        errors.append(f"+{t:.1f}s {type(step).__name__}: {type(exc).__name__}: {exc}")


# The database of the bot's side: SQLite by default; the PostgreSQL variant of the suite sets it.
BOT_DATABASE_URL: contextvars.ContextVar[str | None] = contextvars.ContextVar("bot_database_url", default=None)
BOT_ARGS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("bot_args", default=())


def _start_side(kind: str, config_text: str, workdir: Path) -> Side:
    if kind == "alertmanager":
        return AlertmanagerSide.start(config_text, workdir / "alertmanager")
    if kind == "alertmanager-2":
        return AlertmanagerSide.start(config_text, workdir / "alertmanager-2", "alertmanager 0.25 (2nd)")
    if kind == "alertbot":
        return BotSide.start(config_text, workdir / "alertbot", database_url=BOT_DATABASE_URL.get(),
                             args=BOT_ARGS.get())
    raise ValueError(kind)


async def play(scenario: Scenario, workdir: Path, kinds: Sequence[str]) -> tuple[list[SideRun], set[str], datetime]:
    """Starts each side with its own recorder, plays the steps at their moments to all of
    them at once, records until `duration`, stops everything (also on failure)."""
    recorders = [Recorder(scenario.respond) for _ in kinds]
    sides: list[Side] = []
    try:
        for rec in recorders:
            await rec.start()
        # Time intervals in the config may depend on "now": the start is fixed before the
        # processes start (a few seconds early at most, far from any interval boundary).
        start_guess = datetime.now(UTC)
        results = await asyncio.gather(
            *(asyncio.to_thread(_start_side, kind, scenario.config_text(start_guess, rec.url), workdir)
              for kind, rec in zip(kinds, recorders, strict=True)), return_exceptions=True)
        sides += [r for r in results if isinstance(r, Side)]
        for r in results:
            if isinstance(r, BaseException):
                raise r
        errors: list[list[str]] = [[] for _ in kinds]
        ids: list[dict[str, str]] = [{} for _ in kinds]
        posted: set[str] = set()
        # A process that has just said "ready" may still be finishing its start (a fresh
        # Alertmanager was seen taking 150 ms for its first request): let them settle.
        await asyncio.sleep(SETTLE_S)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            t0 = time.monotonic()
            start = datetime.now(UTC)
            for rec in recorders:
                rec.t0 = t0
            for at, step in sorted(scenario.steps, key=lambda s: s[0]):
                delay = t0 + at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                if isinstance(step, Post):
                    for a in step.alerts:
                        p = postable(a, start)
                        posted.update(v for k, v in p.items() if k in ("startsAt", "endsAt"))
                await asyncio.gather(*(_apply(session, side, step, start, ids[i], errors[i], at)
                                       for i, side in enumerate(sides)))
            delay = t0 + scenario.duration - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        runs = [SideRun(side.name, list(rec.requests), errors[i]) for i, (side, rec) in enumerate(zip(sides, recorders))]
        for side in sides:
            side.stop()
        for run, side in zip(runs, sides, strict=True):
            run.log = side.log_tail()
        return runs, posted, start
    finally:
        for side in sides:
            side.stop()
        for rec in recorders:
            await rec.stop()


async def run_scenario(scenario: Scenario, workdir: Path) -> Result:
    """Alertmanager 0.25 and alertbot (or a second Alertmanager, see `against`) side by side."""
    right = "alertmanager-2" if against() == "alertmanager" else "alertbot"
    (left_run, right_run), posted, start = await play(scenario, workdir, ["alertmanager", right])
    return Result(left_run, right_run, posted, start)


# ---------------------------------------------------------------------------- comparison
def parse_time(s: str) -> datetime | None:
    try:
        # Python 3.11 takes up to 6 fractional digits; Go sends up to 9.
        date, _, rest = s.partition("T")
        if "." in rest:
            clock, frac_rest = rest.split(".", 1)
            i = 0
            while i < len(frac_rest) and frac_rest[i].isdigit():
                i += 1
            frac, tail = frac_rest[:i], frac_rest[i:]
            rest = f"{clock}.{(frac + '000000')[:6]}{tail}"
        return datetime.fromisoformat(f"{date}T{rest}".replace("Z", "+00:00"))
    except ValueError:
        return None


def time_diff(a: Any, b: Any, tol: float, posted: set[str]) -> str | None:
    if a == b:
        return None
    if not isinstance(a, str) or not isinstance(b, str):
        return f"{a!r} vs {b!r}"
    if a in posted or a == ZERO_TIME or b == ZERO_TIME:
        return f"{a} vs {b}"  # times we sent are echoed verbatim; zero means firing
    ta, tb = parse_time(a), parse_time(b)
    if ta is None or tb is None:
        return f"{a!r} vs {b!r} (unparsable)"
    if abs((ta - tb).total_seconds()) > tol:
        return f"{a} vs {b} ({(tb - ta).total_seconds():+.3f}s)"
    return None


def compare_payloads(a: dict, b: dict, tol: float, posted: set[str]) -> list[str]:
    """Field-by-field differences of two webhook payloads (newer-Alertmanager fields ignored)."""
    diffs = []
    for key in sorted((set(a) ^ set(b)) - NEWER_FIELDS):
        diffs.append(f"field {key!r} only in {'alertmanager' if key in a else 'alertbot'}")
    for key in PAYLOAD_FIELDS:
        if key in a and key in b and a[key] != b[key]:
            diffs.append(f"{key}: {a[key]!r} vs {b[key]!r}")
    alerts_a, alerts_b = a.get("alerts") or [], b.get("alerts") or []
    if len(alerts_a) != len(alerts_b):
        diffs.append(f"{len(alerts_a)} alerts vs {len(alerts_b)}")
    for i, (x, y) in enumerate(zip(alerts_a, alerts_b, strict=False)):
        for key in sorted((set(x) ^ set(y))):
            diffs.append(f"alerts[{i}]: field {key!r} only in {'alertmanager' if key in x else 'alertbot'}")
        for key in ALERT_FIELDS:
            if key in x and key in y and x[key] != y[key]:
                diffs.append(f"alerts[{i}].{key}: {x[key]!r} vs {y[key]!r}")
        for key in ("startsAt", "endsAt"):
            d = time_diff(x.get(key), y.get(key), tol, posted)
            if d:
                diffs.append(f"alerts[{i}].{key}: {d}")
    return diffs


def wire_diffs(x: Request, y: Request) -> list[str]:
    """What parsing hides: the content type, the order of the fields, Go's HTML escaping of
    <, > and & and the encoder's trailing newline."""
    diffs = []
    if x.content_type != y.content_type:
        diffs.append(f"Content-Type {x.content_type!r} vs {y.content_type!r}")
    order_x = [k for k in x.body if k not in NEWER_FIELDS]
    order_y = [k for k in y.body if k not in NEWER_FIELDS]
    if order_x != order_y and set(order_x) == set(order_y):
        diffs.append(f"field order {order_x} vs {order_y}")
    ax, ay = x.body.get("alerts") or [], y.body.get("alerts") or []
    if ax and ay and list(ax[0]) != list(ay[0]) and set(ax[0]) == set(ay[0]):
        diffs.append(f"alert field order {list(ax[0])} vs {list(ay[0])}")
    for token in (b"<", b">", b"&", b"\\u003c", b"\\u003e", b"\\u0026"):
        if (token in x.raw) != (token in y.raw):
            diffs.append(f"{token.decode()!r} {'in' if token in x.raw else 'not in'} Alertmanager's body, "
                         f"{'in' if token in y.raw else 'not in'} the other")
    nl_x, nl_y = x.raw.endswith(b"\n"), y.raw.endswith(b"\n")
    if nl_x != nl_y:
        diffs.append(f"body ends with a newline: {nl_x} vs {nl_y}")
    return diffs


def _key(r: Request) -> tuple[str, str]:
    return (r.slot, str(r.get("groupKey", "?")))


def sequences(reqs: Sequence[Request]) -> dict[tuple[str, str], list[Request]]:
    out: dict[tuple[str, str], list[Request]] = {}
    for r in sorted(reqs, key=lambda r: r.t):
        out.setdefault(_key(r), []).append(r)
    return out


def compare(left: Sequence[Request], right: Sequence[Request], tol: float, posted: set[str]) -> list[str]:
    """The differences between two runs, per (webhook, group key) sequence, in order: same
    count, same content, arrival times within `tol` seconds."""
    problems = []
    sl, sr = sequences(left), sequences(right)
    for key in sorted(set(sl) | set(sr)):
        a, b = sl.get(key, []), sr.get(key, [])
        slot, gk = key
        if len(a) != len(b):
            problems.append(f"{slot} {gk}: {len(a)} notifications vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            where = f"{slot} {gk} #{i + 1}"
            if abs(x.t - y.t) > tol:
                problems.append(f"{where}: at +{x.t:.3f}s vs +{y.t:.3f}s ({y.t - x.t:+.3f}s, tolerance {tol}s)")
            if x.status != y.status:
                problems.append(f"{where}: recorder answered {x.status} vs {y.status}")
            if isinstance(x.body, dict) and isinstance(y.body, dict):
                problems += [f"{where}: {d}" for d in compare_payloads(x.body, y.body, tol, posted)]
                problems += [f"{where}: {d}" for d in wire_diffs(x, y)]
            elif x.body != y.body:
                problems.append(f"{where}: body {x.body!r:.200} vs {y.body!r:.200}")
    return problems


def _summary(r: Request) -> str:
    """`+1.003 firing  inst=a:F inst=b:R (+2 truncated)` — alert labels beyond the group's."""
    glabels = r.get("groupLabels") or {}
    parts = []
    for a in r.get("alerts") or []:
        labels = a.get("labels") or {}
        own = ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if glabels.get(k) != v) or "·"
        parts.append(f"{own}:{'F' if a.get('status') == 'firing' else 'R'}")
    trunc = r.get("truncatedAlerts") or 0
    more = f" (+{trunc} truncated)" if trunc else ""
    code = "" if r.status == 200 else f" [{r.status}]"
    return f"+{r.t:6.3f} {r.get('status', '?'):8} {' '.join(parts)}{more}{code}"


def side_by_side(res: Result, title: str, problems: Sequence[str], width: int = 58) -> str:
    """Both notification sequences, one row per notification, grouped by webhook and group."""
    lines = [f"{title}: {len(problems)} difference(s)", ""]
    sl, sr = sequences(res.left.requests), sequences(res.right.requests)
    lines.append(f"{'':3} {res.left.side:<{width}} | {res.right.side}")
    for key in sorted(set(sl) | set(sr)):
        a, b = sl.get(key, []), sr.get(key, [])
        lines.append(f"-- {key[0]}  {key[1]}")
        for i in range(max(len(a), len(b))):
            x = _summary(a[i]) if i < len(a) else "(none)"
            y = _summary(b[i]) if i < len(b) else "(none)"
            mark = "   " if (i < len(a) and i < len(b) and not _row_problem(problems, key, i)) else "≠  "
            lines.append(f"{mark}{x[:width]:<{width}} | {y}")
    lines.append("")
    lines += ["differences:"] + [f"  - {p}" for p in problems[:60]]
    if len(problems) > 60:
        lines.append(f"  … {len(problems) - 60} more")
    for run in (res.left, res.right):
        if run.errors:
            lines += [f"API errors from {run.side}:"] + [f"  {e}" for e in run.errors]
    if problems:
        lines += ["", f"--- {res.right.side} log (tail) ---", res.right.log[-2500:]]
    return "\n".join(lines)


def _row_problem(problems: Sequence[str], key: tuple[str, str], i: int) -> bool:
    prefix = f"{key[0]} {key[1]} #{i + 1}:"
    return any(p.startswith(prefix) for p in problems)
