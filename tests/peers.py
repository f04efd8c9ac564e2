"""Finds the real Debian peers the tests run against, and fails loudly when one is missing.

A peer test never skips: without its peer it fails with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
import socket

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
