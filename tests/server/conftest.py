"""Fixtures for the server tests: the real `alertbot serve` as a subprocess, the real
Alertmanager 0.25 beside it, a webhook recorder, and in-process apps for what a subprocess
cannot show (a failing database, a full queue)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.fixtures.alertmanager import Alertmanager  # noqa: F401  (re-exported for the tests)
from tests.fixtures.process import start_on_free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]

NULL_CONFIG = """\
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
receivers:
  - name: default
  - name: other
"""


def _clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_") and "proxy" not in k.lower()}
    env["PYTHONPATH"] = str(ROOT)
    # Tests restart "the same bot" on a new free port: it keeps its name, as a restarted replica
    # does, and so takes its engine lease back at once instead of waiting for it to expire.
    env["ALERTBOT_INSTANCE_ID"] = "test-bot"
    env.update(extra or {})
    return env


@dataclass
class BotServer:
    """`alertbot serve` in a subprocess (killed by its PID when the test ends)."""

    proc: subprocess.Popen
    port: int
    workdir: Path
    config_path: Path
    argv: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "alertbot.log"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_records(self) -> list[dict]:
        out = []
        for line in self.log_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
        return out

    @classmethod
    def start(cls, config_text: str, workdir: Path, args: list[str] | None = None,
              env: dict[str, str] | None = None, timeout: float = 60.0, wait_ready: bool = True) -> BotServer:
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "routes.yaml"
        config_path.write_text(config_text)
        argv: list[str] = []

        def argv_for(port: int) -> list[str]:
            argv[:] = [sys.executable, "-m", "bot.cli.main", "serve", "--config", str(config_path),
                       "--listen", f"127.0.0.1:{port}", "--database", f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
                       *(args or [])]
            return list(argv)

        proc, port = start_on_free_port("alertbot serve", argv_for, workdir / "alertbot.log", timeout=timeout,
                                        cwd=workdir, env=_clean_env(env), wait_ready=wait_ready)
        return cls(proc, port, workdir, config_path, argv)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15) -> int:
        return stop_process(self.proc, timeout)


# The two shapes of `alertbot serve`: with its default front process (on a machine of more than
# one core) and as one process. A request must get the same answer from both.
SHAPES = {"default": [], "one process": ["--ingest-workers", "0"]}


@contextlib.contextmanager
def both_shapes(tmp_path_factory: pytest.TempPathFactory, args: list[str] | None = None,
                env: dict[str, str] | None = None, config_text: str = NULL_CONFIG) -> Iterator[dict[str, BotServer]]:
    """A bot of each shape, by name, stopped at the end."""
    started: dict[str, BotServer] = {}
    try:
        for name, extra in SHAPES.items():
            workdir = tmp_path_factory.mktemp(name.replace(" ", "-"))
            started[name] = BotServer.start(config_text, Path(workdir), [*(args or []), *extra], env)
        yield started
    finally:
        for bot in started.values():
            bot.stop()


@contextlib.contextmanager
def no_traceback_in(bots: dict[str, BotServer]) -> Iterator[None]:
    """Fails if a traceback reaches a bot's log meanwhile (a client's fault is never one)."""
    marks = {name: len(bot.log_text()) for name, bot in bots.items()}
    yield
    for name, bot in bots.items():
        text = bot.log_text()[marks[name]:]
        assert "Traceback" not in text and '"exception"' not in text, f"{name}: {text[-3000:]}"


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


@pytest.fixture
def bot_factory(tmp_path: Path) -> Iterator:
    started: list[BotServer] = []

    def start(config_text: str = NULL_CONFIG, args: list[str] | None = None, name: str = "bot",
              env: dict[str, str] | None = None, wait_ready: bool = True) -> BotServer:
        server = BotServer.start(config_text, tmp_path / name, args, env, wait_ready=wait_ready)
        started.append(server)
        return server

    yield start
    for s in started:
        s.stop()


@pytest.fixture
def am_factory(tmp_path: Path) -> Iterator:
    started: list[Alertmanager] = []

    def start(config_text: str = NULL_CONFIG, name: str = "alertmanager") -> Alertmanager:
        am = Alertmanager.start(config_text, tmp_path / name)
        started.append(am)
        return am

    yield start
    for am in started:
        am.stop()


def hook_config(url: str) -> str:
    """One webhook receiver at `url`, grouped by alertname, short timers (1s wait, 2s interval)."""
    return f"""\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
"""


class Recorder:
    """A webhook receiver in the test process: keeps every request's JSON and arrival time."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict]] = []
        self.headers: list[dict[str, str]] = []
        self._event = asyncio.Event()
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        self.received.append((time.monotonic(), await request.json()))
        self.headers.append(dict(request.headers))
        self._event.set()
        return web.Response(text="ok")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, n: int, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), timeout=remaining)
            except TimeoutError:
                break
        return [body for _, body in self.received]


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    rec = Recorder()
    await rec.start()
    yield rec
    await rec.stop()
