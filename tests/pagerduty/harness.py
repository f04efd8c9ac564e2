"""The engine on a virtual clock with the real PagerDuty integrations, delivering over HTTP to
the fake PagerDuty when the test says so (`await h.deliver()`), for the tests of timing
(escalation after page_after, resolve after a silence) that a real server would make slow.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import load_config_text
from bot.engine.silences import Silence, build_matchers
from bot.engine.timestamp import ZERO, Timestamp
from bot.notify.http import HttpClient
from bot.notify.pagerduty import PagerDutyService
from bot.notify.registry import build_integrations
from bot.store.memory import MemoryStore
from bot.store.rows import OutboxRow
from tests.engine.harness import START, Harness

S = 10**9


class HeldDeliverer:
    """Keeps committed rows until the test delivers them (in id order, as the worker would)."""

    def __init__(self) -> None:
        self.rows: list[OutboxRow] = []

    def submit(self, rows: Sequence[OutboxRow]) -> None:
        known = {r.id for r in self.rows}
        self.rows.extend(r for r in rows if r.id not in known)


class PDHarness(Harness):
    def __init__(self, config_text: str, http: HttpClient, *, store: MemoryStore | None = None,
                 start: Timestamp = START, service: PagerDutyService | None = None) -> None:
        self.http = http
        self.service = service or PagerDutyService(http, runbooks=None)
        config = load_config_text(config_text)
        super().__init__(config_text, store, start, HeldDeliverer(),
                         build_integrations(config, http, pagerduty=self.service))
        self.registry = self.engine.integrations
        self.outcomes: list[tuple[OutboxRow, object]] = []

    async def deliver(self, retries: int = 0) -> list[object]:
        """Sends every held row once through its integration (to the fake), reports the
        outcome to the engine; a retryable failure is tried again up to `retries` times."""
        outcomes = []
        while self.deliverer.rows:
            row = self.deliverer.rows.pop(0)
            if row.id not in self.engine.outbox:
                continue
            integ = self.engine.integrations.find(row.receiver, row.integration, row.integration_index)
            assert integ is not None, row
            attempts = 0
            while True:
                attempts += 1
                outcome = await integ.deliver(row.payload)
                if outcome.ok or not outcome.retryable or attempts > retries:
                    break
            outcomes.append(outcome)
            self.outcomes.append((row, outcome))
            if outcome.ok or not outcome.retryable:
                fut = self.engine.delivery_finished(row.id, outcome.ok, attempts, outcome.error, outcome.effects)
                await self.settle()
                await fut
            else:
                self.deliverer.rows.insert(0, row)
                break
        return outcomes

    async def silence(self, matchers: list[tuple[str, str]], seconds: float = 3600) -> str:
        now = self.clock.now()
        sil = Silence("", build_matchers([(n, v, False, True) for n, v in matchers], "fallback"), now,
                      now.add(seconds), ZERO, "tester", "quiet")
        fut = self.engine.set_silence(sil)
        await self.settle()
        return await fut

    def incident(self, group_key_part: str) -> dict | None:
        for g in self.engine.groups.values():
            if group_key_part in g.key:
                return self.service.incident(g.id)
        return None

    def group_id(self, group_key_part: str) -> str:
        for g in self.engine.groups.values():
            if group_key_part in g.key:
                return g.id
        raise KeyError(group_key_part)
