"""An upstream Alertmanager (`ALERTMANAGER_URL`), through its API v2: silences mirrored there,
its alerts read for previews and for the resolves it would not send.

    am = Upstream(url, session)
    am_id = await am.create_silence(matchers, starts_ns, ends_ns, created_by, comment, id="")
    await am.expire_silence(am_id)
    await am.alerts(matchers=None) -> [dict]          GET /api/v2/alerts (active, silenced, inhibited)
    await am.silences() -> [dict]

Every failure is an UpstreamError with a short message (status and Alertmanager's own text).
Credentials in the URL become basic auth and never appear in messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.prometheus.client import split_credentials
from bot.routing.matchers import Matcher, MatchType

TIMEOUT_S = 10.0


class UpstreamError(Exception):
    pass


def rfc3339(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def matcher_json(m: Matcher) -> dict[str, Any]:
    return {"name": m.name, "value": m.value, "isRegex": m.type in (MatchType.REGEXP, MatchType.NOT_REGEXP),
            "isEqual": m.type in (MatchType.EQUAL, MatchType.REGEXP)}


class Upstream:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        base, auth = split_credentials(url.rstrip("/"))
        self.url = base
        self._headers = {"Authorization": auth} if auth else {}
        self._session = session

    @property
    def where(self) -> str:
        p = urlsplit(self.url)
        return f"{p.scheme}://{p.netloc}{p.path}"

    async def _call(self, method: str, path: str, *, body: Any = None, params: Any = None) -> Any:
        try:
            async with self._session.request(
                    method, self.url + path, json=body, params=params, headers=self._headers,
                    timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as resp:
                text = await resp.text()
                if resp.status >= 300:
                    detail = text.strip()
                    try:
                        doc = json.loads(detail)
                        detail = doc.get("message", detail) if isinstance(doc, dict) else str(doc)
                    except ValueError:
                        pass
                    raise UpstreamError(f"Alertmanager at {self.where} answered {resp.status}: {str(detail)[:300]}")
                return json.loads(text) if text.strip() else None
        except (aiohttp.ClientError, OSError) as exc:
            raise UpstreamError(f"Alertmanager at {self.where} cannot be reached: {type(exc).__name__}") from None
        except (TimeoutError, asyncio.TimeoutError):
            raise UpstreamError(f"Alertmanager at {self.where} did not answer within {TIMEOUT_S:g}s") from None
        except ValueError:
            raise UpstreamError(f"Alertmanager at {self.where} sent an answer that is not JSON") from None

    async def create_silence(self, matchers: Iterable[Matcher], starts_ns: int, ends_ns: int, created_by: str,
                             comment: str, silence_id: str = "") -> str:
        body: dict[str, Any] = {"matchers": [matcher_json(m) for m in matchers], "startsAt": rfc3339(starts_ns),
                                "endsAt": rfc3339(ends_ns), "createdBy": created_by, "comment": comment}
        if silence_id:
            body["id"] = silence_id
        doc = await self._call("POST", "/api/v2/silences", body=body)
        sid = doc.get("silenceID") if isinstance(doc, dict) else None
        if not isinstance(sid, str) or not sid:
            raise UpstreamError(f"Alertmanager at {self.where} did not return a silence id")
        return sid

    async def expire_silence(self, silence_id: str) -> None:
        try:
            await self._call("DELETE", f"/api/v2/silence/{silence_id}")
        except UpstreamError as exc:
            if " 404" in str(exc) or "silence not found" in str(exc):
                return  # already gone: what we wanted
            raise

    async def alerts(self, matchers: Iterable[Matcher] | None = None) -> list[dict[str, Any]]:
        params = [("active", "true"), ("silenced", "true"), ("inhibited", "true"), ("unprocessed", "true")]
        for m in matchers or ():
            params.append(("filter", str(m)))
        doc = await self._call("GET", "/api/v2/alerts", params=params)
        return [a for a in doc if isinstance(a, dict)] if isinstance(doc, list) else []

    async def silences(self) -> list[dict[str, Any]]:
        doc = await self._call("GET", "/api/v2/silences")
        return [s for s in doc if isinstance(s, dict)] if isinstance(doc, list) else []
