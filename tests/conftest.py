"""Checks that hold for every test: nothing a test starts outlives it.

Servers started through tests/fixtures/process.py die with the test process (the kernel's
parent-death signal) and are stopped with their process group; PostgreSQL clusters have a
watchdog (tests/store/pg.py). These checks find what slipped through anyway — a server a test
started and lost track of, one whose stop failed — kill it, and fail loudly:

  * after each test, processes whose working directory or command line lies in the test's
    `tmp_path` (the test's own servers: session-wide ones live elsewhere);
  * at the end of each test process, those in its base temporary directory and the PostgreSQL
    clusters it started;
  * at the end of the whole run (the xdist controller, or pytest alone), those in the run's base
    temporary directory, and the clusters of test processes that died without stopping them.

Only processes of this run are touched: they carry its mark in their environment (RUN_MARKER,
set when the run starts, inherited by everything it starts), so a shell or a viewer that looks
at a test's files is never taken for a leftover.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.process import RUN_MARKER, Leftover, kill_leftovers, leftover_processes

GRACE_S = 10.0  # a process that is already ending (a front after its engine's SIGKILL) may finish


def pytest_configure(config: pytest.Config) -> None:
    # A fresh mark for this run, inherited by the xdist workers and everything they start: the
    # checks below only ever touch processes that carry it.
    if not hasattr(config, "workerinput"):
        os.environ[RUN_MARKER] = uuid.uuid4().hex


def _settle(roots: list[str | os.PathLike]) -> list[Leftover]:
    deadline = time.monotonic() + GRACE_S
    while (found := leftover_processes(roots)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def _end(found: list[Leftover]) -> str:
    kill_leftovers(found)
    return "\n".join(f"  {p}" for p in found)


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(request: pytest.FixtureRequest) -> Iterator[None]:
    # Set up before the test's other fixtures, so torn down after them.
    tmp: Path | None = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if tmp is None:
        return
    found = _settle([tmp])
    if found:
        pytest.fail(f"processes started by the test were still running after it (now killed):\n{_end(found)}",
                    pytrace=False)


@pytest.fixture(scope="session", autouse=True)
def _no_process_outlives_its_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    from tests.store.pg import clusters_of, remove_cluster

    problems = []
    found = _settle([tmp_path_factory.getbasetemp()])
    if found:
        problems.append(f"processes started in this test session were still running at its end (now killed):\n"
                        f"{_end(found)}")
    clusters = clusters_of(os.getpid())
    for base in clusters:
        remove_cluster(base)
    if clusters:
        problems.append("PostgreSQL clusters started in this test session were still there at its end "
                        "(now stopped and removed):\n" + "\n".join(f"  {b}" for b in clusters))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: checked by the fixture above
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    basetemp = getattr(factory, "_basetemp", None)  # None: no test asked for a temporary directory
    found = leftover_processes([basetemp]) if basetemp is not None else []
    if found:
        time.sleep(1.0)  # the test processes just ended: their children get their signal now
        found = leftover_processes([basetemp])
    lines = []
    if found:
        lines.append(f"still running after the test processes ended (now killed):\n{_end(found)}")
    from tests.store.pg import clusters_of, remove_abandoned_clusters, remove_cluster

    # Clusters of this run's workers (children of this process) that died without stopping
    # them, and, run without xdist, of this process itself.
    removed = remove_abandoned_clusters(parent=os.getpid())
    for base in clusters_of(os.getpid()):
        remove_cluster(base)
        removed.append(base)
    if removed:
        lines.append("PostgreSQL clusters whose test process ended without stopping them (now removed):\n" +
                     "\n".join(f"  {b}" for b in removed))
    if not lines:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(f"LEFT RUNNING: {line}", red=True, bold=True)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
