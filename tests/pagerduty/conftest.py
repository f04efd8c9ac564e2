"""Fixtures: the fake PagerDuty (events over HTTP, REST over TLS), the bot's HTTP client, and a
harness on a virtual clock whose PagerDuty integrations post to the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.engine.engine import Extension, Txn
from bot.engine.groups import AggrGroup
from bot.notify.http import HttpClient
from tests.fakes.pagerduty import FakePagerDuty
from tests.pagerduty.harness import PDHarness

ROUTING_KEY = "0123456789abcdef0123456789abcdef"

CONFIG = """\
route:
  receiver: pd
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: [team="slackfirst"]
      receiver: team
      escalation: {page_after: 10m, receiver: pd}
    - matchers: [team="keepopen"]
      receiver: team
      escalation: {page_after: 10m, receiver: pd, resolve_unacknowledged: false}
    - matchers: [team="quiet"]
      receiver: pd-quiet
    - matchers: [team="badkey"]
      receiver: pd-badkey
    - matchers: [team="pd"]
      receiver: pd
receivers:
  - name: pd
    pagerduty_configs:
      - routing_key: ROUTING_KEY
        url: PD_URL
  - name: pd-quiet
    pagerduty_configs:
      - routing_key: ROUTING_KEY
        url: PD_URL
        send_resolved: false
  - name: pd-badkey
    pagerduty_configs:
      - routing_key: not-32-characters
        url: PD_URL
  - name: team
"""


def config_for(fake: FakePagerDuty, text: str = CONFIG) -> str:
    return text.replace("ROUTING_KEY", ROUTING_KEY).replace("PD_URL", fake.events_url)


@pytest.fixture
async def fake_pd(tmp_path: Path) -> AsyncIterator[FakePagerDuty]:
    fake = FakePagerDuty()
    await fake.start(tls_dir=tmp_path / "tls")
    yield fake
    await fake.stop()


@pytest.fixture
async def http() -> AsyncIterator[HttpClient]:
    client = await HttpClient.create()
    yield client
    await client.close()


@pytest.fixture
def harness(fake_pd: FakePagerDuty, http: HttpClient) -> Callable[..., PDHarness]:
    def make(text: str = CONFIG, **kw: object) -> PDHarness:
        return PDHarness(config_for(fake_pd, text), http, **kw)  # type: ignore[arg-type]
    return make


class SlackStandIn(Extension):
    """Stands in for the Slack extension's side of the seam (`refresh` with a story): records
    each call and what the PagerDuty incident looked like to it at that moment."""

    name = "slack"

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.kinds: list[str] = []
        self.refreshed: list[tuple[str, str | None]] = []  # (group id, incident status it read)
        self.acked: set[str] = set()
        self.engine = None

    def attach(self, engine) -> None:  # type: ignore[no-untyped-def]
        self.engine = engine

    def refresh(self, group_id: str, txn: Txn, *, story: str | None = None, story_kind: str = "note") -> bool:
        pd = txn.engine.extension("pagerduty")
        st = pd.incident_of(group_id) if pd is not None else None
        self.refreshed.append((group_id, (st or {}).get("status")))
        if story:
            self.notes.append((group_id, story))
            self.kinds.append(story_kind)
        return True

    def suppress_repeat(self, group: AggrGroup) -> bool:
        return group.id in self.acked
