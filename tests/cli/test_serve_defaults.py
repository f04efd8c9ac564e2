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
