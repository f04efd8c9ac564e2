"""The bot's engine, delivery worker and Slack service in the test's event loop (system clock,
in-memory store that survives a "restart"), against the fake Slack — for what a subprocess
cannot show precisely (a crash between Slack's answer and the commit, scripted failures)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.config import load_config_text
from bot.engine.clock import SystemClock
from bot.engine.engine import Engine
from bot.engine.ingest import Postable, to_alert
from bot.engine.timestamp import ZERO, Timestamp
from bot.notify.delivery import DeliveryWorker
from bot.notify.http import HttpClient
from bot.notify.registry import build_integrations
from bot.notify.slack.service import SlackService
from bot.notify.slack.settings import SlackSettings
from bot.store.memory import MemoryStore
from tests.fakes.slack import FakeSlack


def slack_env(slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url, "ALERTBOT_SLACK_DEBOUNCE": "0.2",
           "ALERTBOT_SLACK_CHANNEL_RATE": "50", "ALERTBOT_SLACK_CHANNEL_BURST": "10"}
    env.update(extra)
    return env


class InProcessBot:
    def __init__(self, config_text: str, slack: FakeSlack, store: MemoryStore | None = None,
                 env: dict[str, str] | None = None, runbooks_dir: str | None = None) -> None:
        self.config = load_config_text(config_text)
        self.slack = slack
        self.store = store or MemoryStore()
        self.env = env or slack_env(slack)
        self.runbooks_dir = runbooks_dir
        self.engine: Engine | None = None
        self.service: SlackService | None = None
        self._task: asyncio.Task | None = None
        self._http: HttpClient | None = None

    async def start(self) -> InProcessBot:
        self._http = await HttpClient.create()
        self.service = SlackService(SlackSettings.from_env(self.env), self._http, runbooks_dir=self.runbooks_dir)
        integrations = build_integrations(self.config, self._http, slack=self.service)
        worker = DeliveryWorker(lambda: self.engine.integrations,  # type: ignore[union-attr]
                                lambda *a: self.engine.delivery_finished(*a))  # type: ignore[union-attr]
        self.engine = Engine(self.config, self.store, SystemClock(), integrations, "http://bot.example", worker)
        await self.engine.start()
        self._task = asyncio.get_running_loop().create_task(self.engine.run())
        return self

    async def crash(self) -> None:
        """Stops everything at once: nothing more is committed (as a kill -9)."""
        if self._task is not None:
            # Python 3.11's asyncio.wait_for can swallow a cancellation that races the event it
            # waits for (bpo-42130): cancel until the loop has really stopped.
            while not self._task.done():
                self._task.cancel()
                await asyncio.wait([self._task], timeout=0.2)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for t in asyncio.all_tasks():
            if t is not asyncio.current_task() and t.get_coro().__qualname__.startswith("DeliveryWorker"):
                t.cancel()
        if self._http is not None:
            await self._http.close()

    async def stop(self) -> None:
        await self.crash()

    async def post(self, *alerts: dict[str, Any]) -> None:
        assert self.engine is not None
        now = Timestamp.now()
        items = [to_alert(_postable(a), now, self.config.resolve_timeout) for a in alerts]
        await self.engine.ingest(items)

    async def transact(self, fn: Any) -> Any:
        assert self.engine is not None
        return await self.engine.transact(fn)


def _postable(a: dict[str, Any]) -> Postable:
    def t(key: str) -> Timestamp:
        v = a.get(key)
        if v is None:
            return ZERO
        return Timestamp.parse(v) if isinstance(v, str) else v
    return Postable(a["labels"], a.get("annotations", {}), t("startsAt"), t("endsAt"), a.get("generatorURL", ""))


def alert(name: str, *, resolved: bool = False, annotations: dict[str, str] | None = None, **labels: str) -> dict:
    d: dict[str, Any] = {"labels": {"alertname": name, **labels}, "annotations": annotations or {}}
    if resolved:
        d["endsAt"] = Timestamp.now().add(-1)
    return d
