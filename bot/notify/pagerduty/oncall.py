"""Who is on call: PagerDuty's REST API `GET /oncalls`, through the `pagerduty` package.

The package is synchronous (httpx2 and `time.sleep` in its retry loop), so each lookup runs in
a worker thread with its retries capped (it retries 429 without limit by default, which would
pin a thread for minutes) and a short timeout. Answers are cached briefly: a Slack command
asked twice in a minute makes one set of calls.

The token comes from PAGERDUTY_API_TOKEN or the file named by PAGERDUTY_API_TOKEN_FILE; the API
base URL from PAGERDUTY_API_URL (default https://api.pagerduty.com; EU accounts use
https://api.eu.pagerduty.com).
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_API_URL = "https://api.pagerduty.com"
CACHE_SECONDS = 60.0
TIMEOUT_SECONDS = 10.0
_ID = re.compile(r"^P[A-Z0-9]{5,}$")


class OnCallUnavailable(Exception):
    """The lookup could not be answered; `str(e)` says why, for a Slack reply (never the token)."""


@dataclass(frozen=True)
class OnCall:
    level: int
    user_id: str
    user: str  # the user's name (PagerDuty's summary)
    email: str
    schedule: str  # "" when the level names the user directly
    start: str  # ISO 8601, "" = always (a direct assignment)
    end: str


@dataclass(frozen=True)
class OnCallAnswer:
    asked: str
    escalation_policy_id: str
    escalation_policy: str
    service: str  # the service's name when asked by service, else ""
    oncalls: tuple[OnCall, ...]  # by escalation level, then name
    fetched_at: float


def token_from_env(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    token = env.get("PAGERDUTY_API_TOKEN", "")
    path = env.get("PAGERDUTY_API_TOKEN_FILE", "")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                token = fh.read().strip()
        except OSError as exc:
            raise OnCallUnavailable(f"cannot read the PagerDuty API token file {path}: {exc.strerror or exc}") from None
    return token


class OnCallDirectory:
    def __init__(self, token: Callable[[], str] | str | None = None, base_url: str | None = None,
                 cache_seconds: float = CACHE_SECONDS, timeout: float = TIMEOUT_SECONDS, **client_kwargs: Any) -> None:
        self._token = token if callable(token) else (lambda: token) if token is not None else token_from_env
        self.base_url = (base_url or os.environ.get("PAGERDUTY_API_URL") or DEFAULT_API_URL).rstrip("/")
        self.cache_seconds = cache_seconds
        self.timeout = timeout
        self.client_kwargs = client_kwargs  # e.g. verify= (a CA for a test server), transport=
        self._cache: dict[str, OnCallAnswer] = {}
        self._lock = threading.Lock()

    async def who_is_on_call(self, service_or_policy: str) -> OnCallAnswer:
        """Who is on call for a service or escalation policy, by id or by name."""
        asked = service_or_policy.strip()
        if not asked:
            raise OnCallUnavailable("name a PagerDuty service or escalation policy")
        now = time.monotonic()
        cached = self._cache.get(asked.lower())
        if cached is not None and now - cached.fetched_at < self.cache_seconds:
            return cached
        answer = await asyncio.to_thread(self._lookup, asked)
        self._cache[asked.lower()] = answer
        return answer

    def _client(self) -> Any:
        import pagerduty

        token = self._token()
        if not token:
            raise OnCallUnavailable("PagerDuty's REST API is not configured: set PAGERDUTY_API_TOKEN "
                                    "(or PAGERDUTY_API_TOKEN_FILE)")
        client = pagerduty.RestApiV2Client(token, base_url=self.base_url, trust_env=False, **self.client_kwargs)
        client.timeout = self.timeout
        client.retry[429] = 2  # the package's default is to retry 429 forever
        for status in (500, 502, 503, 504):
            client.retry[status] = 1
        client.max_network_attempts = 1
        client.sleep_timer = 0.5
        return client

    def _lookup(self, asked: str) -> OnCallAnswer:
        import pagerduty

        try:
            with self._lock:  # one client at a time: lookups are rare and cached
                client = self._client()
                try:
                    return self._resolve(client, asked)
                finally:
                    client.close()
        except OnCallUnavailable:
            raise
        except pagerduty.HttpError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status == 401:
                raise OnCallUnavailable("PagerDuty refused the API token (401)") from None
            raise OnCallUnavailable(f"PagerDuty answered {status}") from None
        except pagerduty.Error as exc:
            raise OnCallUnavailable(f"PagerDuty could not be reached: {_first_line(str(exc))}") from None
        except pagerduty.UrlError as exc:
            raise OnCallUnavailable(f"PagerDuty API URL: {exc}") from None

    def _resolve(self, client: Any, asked: str) -> OnCallAnswer:
        policy: dict[str, Any] | None = None
        service: dict[str, Any] | None = None
        if _ID.match(asked):
            policy = _get_or_none(client, f"/escalation_policies/{asked}")
            if policy is None:
                service = _get_or_none(client, f"/services/{asked}")
        if policy is None and service is None:
            service = client.find("services", asked)
            if service is None:
                policy = client.find("escalation_policies", asked)
        if service is not None:
            ref = service.get("escalation_policy") or {}
            policy = {"id": ref.get("id", ""), "summary": ref.get("summary", ""), "name": ref.get("summary", "")}
        if policy is None or not policy.get("id"):
            raise OnCallUnavailable(f"no PagerDuty service or escalation policy named {asked!r}")
        rows = client.list_all("/oncalls", params={"escalation_policy_ids[]": [policy["id"]],
                                                   "include[]": ["users"]})
        seen: set[tuple[int, str]] = set()
        oncalls = []
        for row in rows:
            user = row.get("user") or {}
            level = int(row.get("escalation_level") or 0)
            uid = str(user.get("id", ""))
            if (level, uid) in seen:
                continue
            seen.add((level, uid))
            oncalls.append(OnCall(level, uid, str(user.get("name") or user.get("summary") or uid),
                                  str(user.get("email") or ""), str((row.get("schedule") or {}).get("summary") or ""),
                                  str(row.get("start") or ""), str(row.get("end") or "")))
        oncalls.sort(key=lambda o: (o.level, o.user))
        return OnCallAnswer(asked, str(policy["id"]), str(policy.get("name") or policy.get("summary") or ""),
                            str(service.get("name") or service.get("summary") or "") if service else "",
                            tuple(oncalls), time.monotonic())


def _get_or_none(client: Any, path: str) -> dict[str, Any] | None:
    import pagerduty

    try:
        value = client.rget(path)
    except pagerduty.HttpError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return None
        raise
    return value if isinstance(value, dict) else None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"
