"""A throw-away PostgreSQL cluster from Debian's `postgresql` binaries, for tests and benchmarks.

    cluster = PostgresCluster.start()            # initdb + pg_ctl start on a free loopback port
    url = cluster.create_database("t1")          # postgresql+asyncpg://postgres@127.0.0.1:PORT/t1
    cluster.stop()                               # stops the server and removes its directory

initdb refuses to run as root, so as root the cluster belongs to the `postgres` system user
(created by the Debian package) and lives in a directory that user owns under /tmp (pytest's own
temp directories are private to root). Authentication is `trust` on loopback only.

A cluster outlives the process that started it (`pg_ctl` daemonizes the server, and as root it
runs as another user): `start(watchdog=True)` (what the test fixture uses) also starts a small
watchdog process that stops the server and removes its directory the moment the test process
ends, however it ends (its end of a pipe closes). Without it, a cluster whose owner died is
removed by the next `start()` (`remove_abandoned_clusters`).

`durable=False` (the default for tests) turns off fsync: a test kills the bot, never the server,
and what a committed transaction guarantees to a client that dies is unchanged. Benchmarks pass
`durable=True` to measure what a production server does.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from tests.peers import free_port, peer

SUPERUSER = "postgres"
PREFIX = "alertbot-pg-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_clusters(parent: int | None = None) -> list[str]:
    """Stops and removes clusters whose test process died without stopping them (a killed
    worker) — only those whose test process was a child of `parent`, if given (the workers of
    one pytest-xdist run); returns their directories."""
    removed = []
    for base in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((base / "owner.pid").read_text())
            if parent is not None and int((base / "owner.parent").read_text()) != parent:
                continue
        except (OSError, ValueError):
            continue
        if _alive(owner):
            continue
        remove_cluster(str(base))
        removed.append(str(base))
    return removed


def remove_cluster(base: str) -> None:
    """Stops the server of the cluster in `base` (if it runs) and removes the directory."""
    if os.path.exists(os.path.join(base, "data", "postmaster.pid")):
        subprocess.run(_as_owner([peer("pg_ctl"), "-D", os.path.join(base, "data"), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, timeout=60)
    shutil.rmtree(base, ignore_errors=True)


def clusters_of(pid: int) -> list[str]:
    """The directories of the clusters process `pid` started and has not removed."""
    out = []
    for base in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            if int((base / "owner.pid").read_text()) == pid:
                out.append(str(base))
        except (OSError, ValueError):
            continue
    return out


# Runs beside a cluster (`start(watchdog=True)`): waits for the end of its stdin, which closes
# when the test process stops the cluster or dies, then stops the server (if it still runs) and
# removes the directory. In a session of its own, deaf to the signals a Ctrl-C or a closed
# terminal sends, so that it outlives the test process it watches.
_WATCHDOG = """
import os, shutil, signal, subprocess, sys
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
    signal.signal(s, signal.SIG_IGN)
base, stop = sys.argv[1], sys.argv[2:]
sys.stdin.buffer.read()
if os.path.exists(os.path.join(base, "data", "postmaster.pid")):
    subprocess.run(stop, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
shutil.rmtree(base, ignore_errors=True)
"""


def _as_owner(argv: list[str]) -> list[str]:
    """Runs a command as the `postgres` system user when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root, but there is no `postgres` system user to own the cluster: "
                           "install it with `apt-get install -y postgresql`") from None
    return [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "postgres", "--", *argv]


def _run(argv: list[str], what: str, timeout: float = 60) -> str:
    proc = subprocess.run(_as_owner(argv), capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


@dataclass
class PostgresCluster:
    base: str  # directory holding data/, the log and the socket
    port: int
    host: str = "127.0.0.1"
    settings: list[str] = field(default_factory=list)  # postgres -c options
    databases: list[str] = field(default_factory=list)
    startup_seconds: float = 0.0
    watchdog: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> str:
        return os.path.join(self.base, "data")

    @property
    def log_file(self) -> str:
        return os.path.join(self.base, "postgres.log")

    @classmethod
    def start(cls, *, durable: bool = False, attempts: int = 3, watchdog: bool = False) -> PostgresCluster:
        """initdb in a fresh directory and start the server; fails with the install command without
        the binaries. With `watchdog`, the cluster is stopped and removed when this process ends."""
        t0 = time.monotonic()
        initdb, pg_ctl = peer("initdb"), peer("pg_ctl")
        peer("postgres")
        remove_abandoned_clusters()
        base = tempfile.mkdtemp(prefix=PREFIX)
        Path(base, "owner.pid").write_text(str(os.getpid()))
        Path(base, "owner.parent").write_text(str(os.getppid()))
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(base, pw.pw_uid, pw.pw_gid)
        cluster = cls(base=base, port=0)
        try:
            if watchdog:
                stop = _as_owner([pg_ctl, "-D", cluster.data_dir, "-m", "immediate", "-w", "-t", "60", "stop"])
                cluster.watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, base, *stop],
                                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL, start_new_session=True)
            _run([initdb, "-D", cluster.data_dir, "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--locale=C",
                  "--no-sync", "--no-instructions"], "initdb")
            cluster.settings = ["-c listen_addresses=127.0.0.1", f"-c unix_socket_directories={base}",
                                "-c max_connections=200", "-c shared_buffers=128MB"]
            if not durable:
                cluster.settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
            last = ""
            for _ in range(attempts):  # another process may take the free port before the server binds it
                cluster.port = free_port()
                proc = subprocess.run(_as_owner(cluster._start_argv(pg_ctl)), capture_output=True, text=True,
                                      timeout=90)
                if proc.returncode == 0:
                    cluster.startup_seconds = time.monotonic() - t0
                    return cluster
                last = cluster.log_tail()
            raise RuntimeError(f"postgres did not start on 127.0.0.1: {last}")
        except BaseException:
            cluster.stop()
            raise

    def log_tail(self, lines: int = 20) -> str:
        try:
            with open(self.log_file, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        auth = SUPERUSER if password is None else f"{SUPERUSER}:{password}"
        return f"postgresql+asyncpg://{auth}@{self.host}:{self.port}/{database}"

    def psql_url(self, database: str = "postgres") -> str:
        """The same database as a libpq/asyncpg DSN (no SQLAlchemy driver prefix)."""
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Runs one statement on a short-lived connection, in its own event loop (not from async code)."""
        return asyncio.run(self.asql(statement, database))

    async def asql(self, statement: str, database: str = "postgres") -> list[tuple]:
        """Runs one statement on a short-lived connection, from async code."""
        conn = await asyncpg.connect(self.psql_url(database), timeout=30)
        try:
            return [tuple(r) for r in await conn.fetch(statement)]
        finally:
            await conn.close()

    def is_running(self) -> bool:
        pg_ctl = peer("pg_ctl")
        return subprocess.run(_as_owner([pg_ctl, "-D", self.data_dir, "status"]), capture_output=True).returncode == 0

    def stop_server(self, mode: str = "fast") -> None:
        """Stops the server and keeps its data (restart with `restart_server`)."""
        if os.path.isdir(self.data_dir) and os.path.exists(os.path.join(self.data_dir, "postmaster.pid")):
            _run([peer("pg_ctl"), "-D", self.data_dir, "-m", mode, "-w", "-t", "60", "stop"], "pg_ctl stop")

    def _start_argv(self, pg_ctl: str) -> list[str]:
        return [pg_ctl, "-D", self.data_dir, "-l", self.log_file, "-w", "-t", "60",
                "-o", " ".join([f"-p {self.port}", *self.settings]), "start"]

    def restart_server(self) -> None:
        """Starts a stopped server again on the same port with the same data."""
        _run(self._start_argv(peer("pg_ctl")), "pg_ctl start", timeout=90)

    def stop(self) -> None:
        """Stops the server (immediately: its data is thrown away) and removes the directory."""
        try:
            self.stop_server(mode="immediate")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)
            if self.watchdog is not None:  # nothing left for it to do: let it go
                self.watchdog.stdin.close()  # type: ignore[union-attr]
                try:
                    self.watchdog.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.watchdog.kill()
                    self.watchdog.wait(timeout=10)


class Databases:
    """Fresh databases on a cluster, one per test, with the next one created ahead in a thread.

    CREATE DATABASE and DROP DATABASE each take 0.1-0.3 s; done in the background they overlap
    the tests instead of adding to them.
    """

    def __init__(self, cluster: PostgresCluster, prefix: str) -> None:
        self.cluster = cluster
        self.prefix = prefix
        self._numbers = itertools.count(1)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
        self._spare: Future[str] | None = None

    def _create(self) -> str:
        name = f"{self.prefix}_{next(self._numbers)}"
        self.cluster.sql(f'CREATE DATABASE "{name}"')
        return name

    def take(self) -> str:
        """The name of an empty database nobody else uses."""
        name = self._spare.result() if self._spare is not None else self._create()
        self._spare = self._executor.submit(self._create)
        return name

    def release(self, name: str) -> None:
        self._executor.submit(self.cluster.drop_database, name)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
