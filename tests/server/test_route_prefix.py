"""`--route-prefix` (`--web.route-prefix`) and the prefix taken from `--external-url`'s path,
as Alertmanager serves them: every route under the prefix, nothing outside it, in both shapes
of the server; amtool works against the prefixed URL."""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bot.server.settings import Settings
from tests.peers import peer
from tests.server.conftest import NULL_CONFIG, SHAPES, BotServer

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("route_prefix")]


@pytest.mark.parametrize(("route_prefix", "external_url", "served"), [
    ("", "", ""), ("", "http://am.example:9093", ""), ("", "http://am.example/alertmanager/", "/alertmanager"),
    ("/x/", "http://am.example/alertmanager", "/x"), ("/", "http://am.example/alertmanager", ""),
    ("a/b", "", "/a/b"),
])
def test_the_prefix_is_alertmanagers(route_prefix: str, external_url: str, served: str) -> None:
    """main.go: the flag, else the external URL's path; then "/" + strings.Trim(p, "/")."""
    assert Settings(route_prefix=route_prefix, external_url=external_url).resolved_route_prefix() == served


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BotServer]]:
    started: dict[str, BotServer] = {}
    try:
        for name, extra in SHAPES.items():
            workdir = tmp_path_factory.mktemp(name.replace(" ", "-"))
            started[name] = BotServer.start(NULL_CONFIG, workdir, ["--route-prefix", "/am", *extra], wait_ready=False)
        for bot in started.values():
            deadline = time.monotonic() + 60
            while status(f"{bot.url}/am/-/ready")[0] != 200:
                assert time.monotonic() < deadline and bot.proc.poll() is None, bot.log_text()[-3000:]
                time.sleep(0.05)
        yield started
    finally:
        for bot in started.values():
            bot.stop()


def status(url: str, data: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback)
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:  # not listening yet
        return 0, b""


@pytest.mark.parametrize("shape", ["default", "one process"])
def test_every_route_is_under_the_prefix_and_none_outside(bots: dict[str, BotServer], shape: str) -> None:
    url = bots[shape].url
    assert status(f"{url}/am/-/ready")[0] == 200
    assert status(f"{url}/am/api/v2/alerts", b'[{"labels":{"alertname":"Prefixed"}}]')[0] == 200
    code, body = status(f"{url}/am/api/v2/alerts?filter=alertname%3D%22Prefixed%22")
    assert code == 200 and b'"Prefixed"' in body
    assert status(f"{url}/am/metrics")[0] == 200
    for outside in ("/-/ready", "/api/v2/status", "/metrics", "/amx/-/ready"):
        assert status(f"{url}{outside}")[0] == 404, outside


@pytest.mark.parametrize("shape", ["default", "one process"])
def test_amtool_through_the_prefix(bots: dict[str, BotServer], shape: str) -> None:
    out = subprocess.run([peer("amtool"), f"--alertmanager.url={bots[shape].url}/am", "config", "show"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "route:" in out.stdout, out.stderr
