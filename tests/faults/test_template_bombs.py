"""Template bombs: 30 posted alerts whose runbook_url and runbook annotations nest four `range`s
over 40 labels, on a Slack route, while probes and a light load go to webhooks. Nothing an
alert carries may hold the engine: the probes are notified within group_wait + 2 s throughout,
and the bombs themselves are notified (their group's Slack message), nothing lost or repeated.

Run with the default (a front and the engine's process) and with `--ingest-workers 0` (one
process: there the bomb also holds up the POSTs the engine's loop answers).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.slack import FakeSlack
from tests.faults.harness import ROOT, World, post_alerts

pytestmark = [pytest.mark.slow]

BOMB = ("{{ range .Labels }}{{ range $.Labels }}{{ range $.Labels }}{{ range $.Labels }}"
        "{{ end }}{{ end }}{{ end }}{{ end }}")
BOMBS = 30
LABELS = 40

SLACK_ROUTE = """\
  - matchers: ['alertname="Bomb"']
    receiver: slack
"""
SLACK_RECEIVER = """\
- name: slack
  slack_configs:
  - channel: '#alerts'
"""


def bomb_alerts() -> list[dict]:
    out = []
    for k in range(BOMBS):
        labels = {"alertname": "Bomb", "group": "bomb", "id": f"B{k}"}
        labels.update({f"l{j:02d}": f"v{j}" for j in range(LABELS - len(labels))})
        out.append({"labels": labels, "annotations": {"runbook_url": BOMB, "runbook": BOMB,
                                                      "summary": f"bomb {k}"}})
    return out


MODES = [
    pytest.param([], marks=pytest.mark.xdist_group("faults_bombs_front"), id="front"),
    pytest.param(["--ingest-workers", "0"], marks=pytest.mark.xdist_group("faults_bombs_single"), id="single"),
]


@pytest.mark.parametrize("args", MODES)
async def test_template_bombs_hold_nothing_back(tmp_path: Path, args: list[str]) -> None:
    async with World(tmp_path) as world:
        slack = FakeSlack(["#alerts"])
        await world.io.run(slack.start())
        try:
            env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url, "ALERTBOT_SLACK_DEBOUNCE": "0.5",
                   "ALERTBOT_RUNBOOKS": str(ROOT / "runbooks")}
            bot = await world.start_bot(world.routes(extra_routes=SLACK_ROUTE, extra_receivers=SLACK_RECEIVER),
                                        args, env)
            load = world.load(bot, groups=100, batch=20, rate=2.0)
            prober = world.prober(bot)
            ready = world.ready_monitor(bot)
            bombs = bomb_alerts()
            # No allowance: unlike a database outage, nothing here excuses a late probe.
            async with world.running(ready):
                async with world.running(load, prober):
                    await asyncio.sleep(3)
                    assert world.session is not None
                    posted = await post_alerts(world.session, bot.url, bombs)
                    assert posted.ok, f"the bombs were refused: {posted.status} {posted.error}"
                    await asyncio.sleep(30)

                def slack_state() -> tuple[dict[str, bool], dict[str, bool]]:
                    # The bombs' group notified: its message in #alerts counts all of them firing.
                    parents = slack.parents("#alerts")
                    shown = any("FIRING" in m.text and f"Bomb ({BOMBS} alerts)" in m.text for m in parents)
                    return {a["labels"]["id"]: shown for a in bombs}, {"bomb": bool(parents)}

                verdict = await world.settle_and_check([load], prober, ready, extra=slack_state)
            verdict.figures["slack_parents"] = len(slack.parents("#alerts"))
            verdict.figures["slack_texts"] = [m.text[:200] for m in slack.parents("#alerts")][:3]
            print("FIGURES", verdict.report())
            assert verdict.ok, verdict.report()
        finally:
            await world.io.run(slack.stop())
