"""The front processes of `alertbot serve --ingest-workers N`: started, watched and stopped by the
engine process (docs/inbox.md)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import sys

from bot.logging import get_logger

log = get_logger("alertbot.workers")

FRONT_ENV = "ALERTBOT_FRONT_OF"  # set in a front's environment: the engine's Unix socket
FRONT_METRICS_ENV = "ALERTBOT_FRONT_METRICS"  # ...and the Unix socket where it serves its metrics
READY_LINE = b"alertbot-front-ready\n"
START_TIMEOUT_S = 60.0
RESTART_DELAY_S = 1.0
_CODE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # holds bot/


def port_is_free(host: str, port: int) -> str | None:
    """None if nothing listens on host:port yet, else why not. Asked before this server's own
    fronts start, so without SO_REUSEPORT: another alertbot's fronts set it too, and a check
    that set it would share their port (a second server on it took part of the alerts)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def die_with_parent() -> None:
    """A front must not outlive its engine (a kill -9 of the engine): the kernel sends it SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def metrics_socket(engine_socket: str, i: int) -> str:
    return os.path.join(os.path.dirname(engine_socket), f"front-{i + 1}.metrics.sock")


class Fronts:
    def __init__(self, count: int, engine_socket: str) -> None:
        self.count = count
        self.engine_socket = engine_socket
        self.metrics_sockets = [metrics_socket(engine_socket, i) for i in range(count)]
        self.procs: list[asyncio.subprocess.Process | None] = [None] * count
        self._watchers: list[asyncio.Task[None]] = []
        self._stopping = False

    def _argv(self) -> list[str]:
        # -P: not the working directory first on the path, where another `bot` package may be.
        return [sys.executable, "-P", "-m", "bot.cli.main", *sys.argv[1:]]

    async def _spawn(self, i: int) -> asyncio.subprocess.Process:
        env = dict(os.environ, **{FRONT_ENV: self.engine_socket, FRONT_METRICS_ENV: self.metrics_sockets[i]})
        # The fronts run the engine's own code, wherever it was imported from.
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_CODE_ROOT, os.environ.get("PYTHONPATH")) if p)
        proc = await asyncio.create_subprocess_exec(*self._argv(), env=env, stdout=asyncio.subprocess.PIPE)
        assert proc.stdout is not None
        try:
            line = await asyncio.wait_for(proc.stdout.readline(), START_TIMEOUT_S)
        except TimeoutError:
            line = b""
        if line != READY_LINE:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise RuntimeError(f"front process {i + 1} did not start (exit status {proc.returncode})")
        self.procs[i] = proc
        return proc

    async def start(self) -> None:
        """Starts every front; raises RuntimeError if one cannot (it said why on stderr)."""
        for i in range(self.count):
            await self._spawn(i)
        self._watchers = [asyncio.get_running_loop().create_task(self._watch(i)) for i in range(self.count)]
        log.info("front processes started", fronts=self.count, pids=[p.pid for p in self.procs if p])

    async def _watch(self, i: int) -> None:
        while not self._stopping:
            proc = self.procs[i]
            assert proc is not None
            code = await proc.wait()
            if self._stopping:
                return
            log.error("front process exited; starting another", front=i + 1, pid=proc.pid, exit_status=code)
            await asyncio.sleep(RESTART_DELAY_S)
            while not self._stopping:
                try:
                    await self._spawn(i)
                    break
                except RuntimeError as exc:
                    log.error("front process not restarted; retrying", error=str(exc))
                    await asyncio.sleep(RESTART_DELAY_S * 5)

    async def stop(self) -> None:
        """SIGTERM to every front (each answers what it has in flight, then exits)."""
        self._stopping = True
        for w in self._watchers:
            w.cancel()
        live = [p for p in self.procs if p is not None and p.returncode is None]
        for p in live:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
        for p in live:
            try:
                await asyncio.wait_for(p.wait(), 15)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                await p.wait()
