"""The throw-away PostgreSQL cluster itself: a test process killed before it could stop its
cluster leaves nothing running for long: the next cluster start removes it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.process import process_alive
from tests.store.pg import PostgresCluster, remove_abandoned_clusters

ROOT = Path(__file__).resolve().parents[2]
ABANDON = """
import os
from tests.store.pg import PostgresCluster
c = PostgresCluster.start()
print(c.base, flush=True)
os._exit(0)  # dies without stopping its cluster, as a killed worker would
"""


def test_abandoned_clusters_are_stopped_and_removed() -> None:
    proc = subprocess.run([sys.executable, "-c", ABANDON], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    base = Path(proc.stdout.strip())
    postmaster = int((base / "data" / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, 0)  # still running after its owner died
    remove_abandoned_clusters()
    assert not base.exists()
    deadline = time.monotonic() + 10  # the postmaster removes its pid file just before it exits
    while process_alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(postmaster)


def test_a_live_owners_cluster_is_left_alone(postgres_cluster: PostgresCluster) -> None:
    remove_abandoned_clusters()
    assert postgres_cluster.is_running()
