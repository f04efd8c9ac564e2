"""Finds the real Debian peers the tests run against, and fails loudly when one is missing;
hands out the loopback ports the servers the tests start listen on (`free_port`).

A peer test never skips: without its peer it fails with the command that installs it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import socket
import tempfile
import threading

import pytest

# binary -> Debian package that ships it
PACKAGES = {
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "initdb": "postgresql",
    "postgres": "postgresql",
    "pg_ctl": "postgresql",
}

_PG_BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin"]


def peer(binary: str) -> str:
    """The absolute path of a peer binary, or a test failure naming the install command."""
    path = shutil.which(binary)
    if path is None and binary in ("initdb", "postgres", "pg_ctl"):
        for d in _PG_BIN_DIRS:
            candidate = os.path.join(d, binary)
            if os.access(candidate, os.X_OK):
                path = candidate
                break
    if path is None:
        package = PACKAGES.get(binary, binary)
        pytest.fail(
            f"peer binary {binary!r} not found: install it with `apt-get install -y {package}` "
            f"(scripts/test.sh does this when run as root)",
            pytrace=False,
        )
    return path


# -- ports ---------------------------------------------------------------------------------
# A port chosen by binding port 0 and closing the socket is free only for a moment: another
# test worker's Alertmanager, Prometheus or alertbot (or any program binding port 0, or any
# outgoing connection) can take it before the server we start binds it. So the ports for the
# servers the tests start come from a block of ports that belongs to this test process alone:
#
#  * below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range), which is
#    where port 0 and outgoing connections take theirs, so nothing takes our ports by chance;
#  * claimed with an exclusive lock on a file in /tmp/alertbot-test-ports (released by the
#    kernel when the process dies), so neither another xdist worker nor another pytest run on
#    the same machine hands out the same ports; worker gwN tries block N first;
#  * handed out in turn, wrapping around in the block, skipping a port that something already
#    listens on (a bind with SO_REUSEADDR, as the servers themselves bind, tells).
#
# A port handed out comes back only after the whole block has gone round, and only if nothing
# listens on it then.

PORTS_FLOOR = 20000  # well-known services live below; the block range starts here
PORT_BLOCK = 200  # ports per test process
PORT_LOCK_DIR = os.path.join(tempfile.gettempdir(), "alertbot-test-ports")


def port_range() -> tuple[int, int]:
    """[low, high): the ports tests may hand out, outside the kernel's ephemeral range."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as fh:
            eph_low, eph_high = (int(x) for x in fh.read().split())
    except (OSError, ValueError):
        eph_low, eph_high = 32768, 60999  # Linux's default
    below = (PORTS_FLOOR if eph_low > PORTS_FLOOR else 1024, eph_low)
    above = (eph_high + 1, 65536)
    return max(below, above, key=lambda r: r[1] - r[0])


class _PortBlock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner = 0  # the pid that claimed the block (a forked child claims its own)
        self._fd = -1
        self.start = self.size = 0
        self._next = 0

    def _claim(self) -> None:
        low, high = port_range()
        blocks = (high - low) // PORT_BLOCK
        if blocks < 1:
            raise RuntimeError(f"no room for test ports outside the ephemeral range ({low}-{high})")
        worker = os.environ.get("PYTEST_XDIST_WORKER", "")
        first = int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
        os.makedirs(PORT_LOCK_DIR, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(PORT_LOCK_DIR, 0o1777)  # shared by every user's test runs
        for i in range(blocks):
            start = low + ((first + i) % blocks) * PORT_BLOCK
            path = os.path.join(PORT_LOCK_DIR, f"ports-{start}-{start + PORT_BLOCK - 1}.lock")
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            if self._fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(self._fd)  # the parent's lock, inherited over a fork: not ours to keep
            self._fd, self._owner, self.start, self.size, self._next = fd, os.getpid(), start, PORT_BLOCK, 0
            return
        raise RuntimeError(f"every block of {PORT_BLOCK} test ports in {low}-{high} is held by another "
                           f"test process (lock files in {PORT_LOCK_DIR})")

    def take(self) -> int:
        with self._lock:
            if self._owner != os.getpid():
                self._claim()
            for _ in range(self.size):
                port = self.start + self._next
                self._next = (self._next + 1) % self.size
                if _bindable(port):
                    return port
            raise RuntimeError(f"all {self.size} ports {self.start}-{self.start + self.size - 1} are in use")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


_ports = _PortBlock()


def free_port() -> int:
    """A loopback port for a server a test starts: nothing listens on it, and no other test
    process (of this run or another) nor the kernel's port 0 will hand it out meanwhile."""
    return _ports.take()
