"""Two `alertbot serve` replicas on one database: the one holding the engine lease flushes and
delivers, the other stands by (not ready) and takes over when the holder is killed, sending
what was due once; a clean shutdown hands over at once. A standby's front processes take
alerts into the shared inbox, which the holder applies; a standby without fronts answers 503.
On the SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.crash.test_kill9 import CONFIG, Receiver, instances, kill9, post
from tests.fixtures.database import database_url  # noqa: F401  (fixture)
from tests.fixtures.postgres import postgres_cluster, postgres_databases, postgres_url  # noqa: F401
from tests.fixtures.process import listens
from tests.server.conftest import BotServer

pytestmark = [pytest.mark.slow]


def replica(tmp: Path, name: str, url: str, db: str, lease: str, wait_ready: bool,
            args: tuple[str, ...] = ()) -> BotServer:
    cfg = CONFIG.format(group_wait="3s", group_interval="1h", url=url)
    return BotServer.start(cfg, tmp / name, ["--database", db, "--lease-duration", lease, *args],
                           env={"ALERTBOT_INSTANCE_ID": name}, wait_ready=wait_ready)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


START_TIMEOUT_S = 120.0  # a replica's start (imports, migrations) on a loaded machine; it returns at once when up


def standby(tmp: Path, name: str, url: str, db: str, lease: str, args: tuple[str, ...] = ()) -> BotServer:
    """A replica started beside the holder: listening (healthy) but not ready. Stopped again
    if it does not come up, so that a failure here leaves nothing running."""
    bot = replica(tmp, name, url, db, lease, wait_ready=False, args=args)
    try:
        started = time.monotonic()
        while True:
            if bot.proc.poll() is not None:
                raise AssertionError(f"{name} exited ({bot.proc.returncode}) before it listened:\n"
                                     f"{bot.log_text()[-3000:]}")
            try:
                if get(bot.url + "/-/healthy")[0] == 200 and listens(bot.proc, bot.port) is not False:
                    return bot
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() - started > START_TIMEOUT_S:
                raise AssertionError(f"{name} did not listen within {START_TIMEOUT_S:g}s:\n{bot.log_text()[-3000:]}")
            time.sleep(0.1)
    except BaseException:
        bot.stop()
        raise


async def wait_ready(bot: BotServer, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if (await asyncio.to_thread(get, bot.url + "/-/ready"))[0] == 200:
            return time.monotonic() - started
        await asyncio.sleep(0.1)
    raise AssertionError(f"{bot.url} not ready after {timeout}s:\n{bot.log_text()[-3000:]}")


async def wait_standing_by(bot: BotServer, holder: str, timeout: float = 60) -> None:
    """Until `bot` answers that `holder` holds the engine lease (it has asked for it), never ready."""
    want = f"standby: replica {holder!r} holds the engine lease"
    started = time.monotonic()
    while True:
        status, text = await asyncio.to_thread(get, bot.url + "/-/ready")
        assert status == 503, (status, text)
        if want in text:
            return
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{bot.url} not standing by after {timeout}s: {text!r}\n{bot.log_text()[-3000:]}")
        await asyncio.sleep(0.1)


def lease_metric(bot: BotServer) -> str:
    _, text = get(bot.url + "/metrics")
    return next(line for line in text.splitlines() if line.startswith("alertbot_engine_lease_held "))


@contextlib.asynccontextmanager
async def holder_and_standby(tmp: Path, db: str, lease: str, args: tuple[str, ...] = (),
                             ) -> AsyncIterator[tuple[Receiver, BotServer, BotServer]]:
    """A webhook receiver, replica-a holding the lease and replica-b standing by, on one database."""
    rx = Receiver()
    await rx.start()
    started: list[BotServer] = []
    try:
        started.append(replica(tmp, "replica-a", rx.url, db, lease, wait_ready=True, args=args))
        started.append(standby(tmp, "replica-b", rx.url, db, lease, args=args))
        yield rx, started[0], started[1]
    finally:
        for bot in reversed(started):
            bot.signal(signal.SIGCONT)  # a paused one must be able to stop
            bot.stop()
        await rx.stop()


@pytest.mark.parametrize("fronts", ["0", "1"])
async def test_the_standby_takes_over_from_a_killed_holder(tmp_path: Path, database_url: str,  # noqa: F811
                                                           fronts: str) -> None:
    async with holder_and_standby(tmp_path, database_url, "2s", ("--ingest-workers", fronts)) as (rx, a, b):
        await wait_standing_by(b, "replica-a")  # b has asked for the lease at least once
        body = json.dumps([{"labels": {"alertname": "Standby"}}]).encode()
        req = urllib.request.Request(b.url + "/api/v2/alerts", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        if fronts == "0":
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(req, timeout=5)
            assert refused.value.code == 503  # Prometheus and Alertmanager retry a 5xx
        else:  # b's front stores it in the inbox; a applies it and notifies
            with urllib.request.urlopen(req, timeout=5) as answer:
                assert answer.status == 200
            assert await rx.wait(lambda: any(body["groupLabels"] == {"alertname": "Standby"}
                                             for _, body in rx.received), 60)
            _, shown = get(a.url + "/api/v2/alerts?filter=alertname%3D%22Standby%22")
            assert len(json.loads(shown)) == 1
            rx.received.clear()
        assert lease_metric(a).endswith(" 1.0") and lease_metric(b).endswith(" 0.0")

        await post(a, "x1", "x2")  # stored by a, due 3 s later
        kill9(a)
        # The lease (2 s) must run out first; the standby asks every second. How long that
        # takes here depends on the machine; that it happens, and once, does not.
        await wait_ready(b, 60)
        assert await rx.wait(lambda: rx.received, 60)
        await asyncio.sleep(2)
        assert [instances(body) for _, body in rx.received] == [["x1", "x2"]]
        assert lease_metric(b).endswith(" 1.0")
        assert any(r.get("message") == "engine lease held" and r.get("epoch", 0) >= 2 for r in b.log_records())


async def test_a_clean_shutdown_hands_over_at_once(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    async with holder_and_standby(tmp_path, database_url, "60s") as (rx, a, b):
        await wait_standing_by(b, "replica-a")
        await post(a, "y")
        assert a.stop() == 0  # SIGTERM: answers what it took, releases the lease
        # Released, the lease is taken at the standby's next ask (every second); not released,
        # it would be free only after its 60 s. Half of that tells the two apart on any machine.
        took = await wait_ready(b, 60)
        assert took < 30, f"the standby waited {took:.1f}s: as if the 60 s lease had not been released"
        assert await rx.wait(lambda: rx.received, 60)
        await asyncio.sleep(1)
        assert [instances(body) for _, body in rx.received] == [["y"]]


async def test_a_paused_holder_is_fenced_out_and_stands_by(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    """SIGSTOP the holder past its lease: the standby takes over and sends what was due; the old
    holder, resumed, finds its lease gone at its first commit or renewal, sends nothing, and
    stands by until the new holder hands the lease back."""
    async with holder_and_standby(tmp_path, database_url, "2s") as (rx, a, b):
        await post(a, "z")
        a.signal(signal.SIGSTOP)
        await wait_ready(b, 60)
        assert await rx.wait(lambda: rx.received, 60)
        a.signal(signal.SIGCONT)  # its timer for the group is due: it flushes, its commit is refused
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "engine lease lost" not in a.log_text():
            await asyncio.sleep(0.1)
        assert "engine lease lost" in a.log_text(), a.log_text()[-3000:]
        status, text = get(a.url + "/-/ready")
        assert status == 503 and "standby" in text, text
        await asyncio.sleep(2)
        assert [instances(body) for _, body in rx.received] == [["z"]]  # sent once, by b
        assert lease_metric(a).endswith(" 0.0")
        assert b.stop() == 0
        await wait_ready(a, 60)  # b released the lease: a is the holder again
