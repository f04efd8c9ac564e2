"""`alertbot serve --ingest-workers auto` (the default): one front where the server may use more
than one core, counting a container's CPU quota, none on one core."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.errors import UserError
from bot.cli.serve import _ingest_workers, usable_cores


@pytest.mark.parametrize(("cpu_max", "quota"), [
    ("max 100000\n", None),  # no quota: the cores it may run on
    ("100000 100000\n", 1.0),
    ("50000 100000\n", 0.5),
    ("250000 100000\n", 2.5),
    ("garbage", None),
])
def test_usable_cores_counts_a_cgroup_quota(tmp_path: Path, cpu_max: str, quota: float | None) -> None:
    f = tmp_path / "cpu.max"
    f.write_text(cpu_max)
    affinity = float(len(os.sched_getaffinity(0)))
    assert usable_cores(str(f)) == (affinity if quota is None else min(affinity, quota))
    assert usable_cores(str(tmp_path / "absent")) == affinity


def test_auto_is_one_front_with_more_than_one_core(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.cli.serve as serve
    for cores, fronts in ((1.0, 0), (0.5, 0), (1.5, 1), (2.0, 1), (16.0, 1)):
        monkeypatch.setattr(serve, "usable_cores", lambda cores=cores: cores)
        assert _ingest_workers(None) == fronts and _ingest_workers("auto") == fronts
    assert _ingest_workers("0") == 0 and _ingest_workers("3") == 3
    for bad in ("-1", "65", "two", "1.5"):
        with pytest.raises(UserError, match="expected auto or a number of processes from 0 to 64"):
            _ingest_workers(bad)


def test_a_long_tmpdir_does_not_stop_serve(tmp_path: Path) -> None:
    """The sockets to the fronts are made under TMPDIR only when its path leaves room for them
    (a socket path holds 107 bytes): with a 150-byte TMPDIR, serve started its front and
    answered, where it failed with "AF_UNIX path too long"."""
    import urllib.request

    from tests.server.conftest import BotServer

    long_tmp = tmp_path / ("t" * 60) / ("m" * 60)
    long_tmp.mkdir(parents=True)
    assert len(str(long_tmp)) > 150
    bot = BotServer.start("route:\n  receiver: r\nreceivers:\n- name: r\n", tmp_path / "bot", ["--ingest-workers", "1"],
                          {"TMPDIR": str(long_tmp)})
    try:
        with urllib.request.urlopen(f"{bot.url}/-/ready", timeout=10) as resp:  # noqa: S310 (loopback)
            assert resp.status == 200
        assert '"ingest_workers":1' in bot.log_text()
    finally:
        bot.stop()
