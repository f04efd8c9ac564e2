"""A fake PagerDuty for tests: Events API v2, the REST API's on-call endpoints, and a webhook
sender that signs like PagerDuty. It runs in the test's event loop on loopback ports.

    pd = FakePagerDuty()
    await pd.start(tls_dir=tmp_path)           # events over HTTP, REST over TLS (self-signed)
    pd.events_url                              # http://127.0.0.1:P/v2/enqueue
    pd.rest_url, pd.ca_file                    # https://127.0.0.1:Q, the CA to trust
    pd.fail_next(429, times=3, retry_after=1)  # scripted answers, in order, before normal ones
    pd.hang_next(times=2)                      # accept the request, never answer (client times out)
    await pd.refuse_connections() / await pd.accept_connections()   # the port closed, then back
    await pd.wait_events(n, timeout)           # events accepted (202)
    pd.incidents                               # the alerts the accepted events made, by dedup_key
    body, headers = pd.webhook("incident.acknowledged", dedup_key, secrets=["s"], agent="Alice")

Events API v2, as PagerDuty documents it (developer-docs events-API-v2): `POST /v2/enqueue`,
202 `{"status":"success","message":"Event processed","dedup_key":…}`; 400
`{"status":"invalid event","message":"Event object is invalid","errors":[…]}` for an invalid
event (the routing-key message is PagerDuty's own wording; the others follow its style);
429 with the body PagerDuty's throttling answers with; 5xx on request. Alerts follow the
documented de-duplication: triggers on an open alert with the same (routing_key, dedup_key)
append to it; acknowledge/resolve of an unknown or resolved key are accepted and dropped;
a trigger after a resolve opens a new alert.

REST: `Authorization: Token token=<token>`; GET /services/{id}, /escalation_policies/{id},
/services?query=, /escalation_policies?query=, /oncalls?escalation_policy_ids[]= — with
classic pagination fields — as the `pagerduty` package reads them. The package refuses plain
http, so the REST side is served over TLS with a certificate made by `openssl` for 127.0.0.1.

Webhooks V3: `{"event": {id, event_type, resource_type, occurred_at, agent, client, data}}`,
`X-PagerDuty-Signature: v1=<hmac-sha256 hex>` per secret (comma-separated), `X-Webhook-Id`,
`X-Webhook-Subscription`, `User-Agent: PagerDuty-Webhook/V3.0`. `occurred_at` is written as
PagerDuty writes it (UTC, milliseconds: `2026-06-01T12:00:00.123Z`) from `pd.clock` (seconds
since the epoch; `time.time` unless a test on a virtual clock sets its own); `event_id=` and
`occurred_at=` give an event a known id or time (a retry of the same event, an old one).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import ssl
import subprocess
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

SEVERITIES = ("critical", "error", "warning", "info")
ACTIONS = ("trigger", "acknowledge", "resolve")
MAX_EVENT_BYTES = 512 * 1024
THROTTLED = {"status": "throttle exceeded", "message": "Requests for this service are arriving too quickly. "
                                                       "Please retry later."}
INVALID = {"status": "invalid event", "message": "Event object is invalid"}


def make_tls_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), as (cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "pd-cert.pem", directory / "pd-key.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                        str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    return cert, key


def pd_time(seconds: float) -> str:
    """A time as PagerDuty's webhooks write it: UTC with milliseconds."""
    ms = int(round(seconds * 1000))
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def pd_sign(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Received:
    """One request that reached the Events endpoint, with what the fake answered."""

    at: float
    raw: bytes
    headers: dict[str, str]
    status: int = 0
    body: dict[str, Any] | None = None


@dataclass
class Alert:
    """An alert/incident the accepted events made (one per open (routing_key, dedup_key))."""

    routing_key: str
    dedup_key: str
    number: int
    id: str
    status: str = "triggered"
    summary: str = ""
    log: list[str] = field(default_factory=list)  # the event actions applied, in order
    assignees: list[str] = field(default_factory=lambda: ["Alice Oncall"])


def _user(uid: str, name: str, email: str) -> dict[str, Any]:
    return {"id": uid, "type": "user", "summary": name, "name": name, "email": email,
            "self": f"https://api.pagerduty.com/users/{uid}", "html_url": f"https://acme.pagerduty.com/users/{uid}"}


class FakePagerDuty:
    def __init__(self, rest_token: str = "pd-rest-token") -> None:
        self.rest_token = rest_token
        self.received: list[Received] = []
        self.accepted: list[dict[str, Any]] = []  # bodies answered 202, in order
        self.alerts: list[Alert] = []
        self._numbers = itertools.count(1)
        self._script: deque[tuple[str, int, float | None]] = deque()
        self._event = asyncio.Event()
        self.rest_calls: list[tuple[str, dict[str, str]]] = []
        self.clock: Any = time.time  # what "now" is for the webhooks' occurred_at
        self.rest_fail: deque[int] = deque()
        self.users = {"PUSER01": _user("PUSER01", "Alice Oncall", "alice@example.com"),
                      "PUSER02": _user("PUSER02", "Bob Backup", "bob@example.com")}
        self.policies = {"PPOLICY1": {"id": "PPOLICY1", "type": "escalation_policy", "name": "MLOps Platform",
                                      "summary": "MLOps Platform"}}
        self.services = {"PSERVIC1": {"id": "PSERVIC1", "type": "service", "name": "mlops-platform",
                                      "summary": "mlops-platform",
                                      "escalation_policy": {"id": "PPOLICY1", "type": "escalation_policy_reference",
                                                            "summary": "MLOps Platform"}}}
        self.oncalls = {"PPOLICY1": [
            {"user": self.users["PUSER01"], "escalation_level": 1, "start": "2026-06-01T00:00:00Z",
             "end": "2026-06-08T00:00:00Z",
             "schedule": {"id": "PSCHED1", "type": "schedule_reference", "summary": "Platform primary"}},
            {"user": self.users["PUSER02"], "escalation_level": 2, "start": None, "end": None, "schedule": None},
        ]}
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._rest_runner: web.AppRunner | None = None
        self.port = 0
        self.rest_port = 0
        self.ca_file: Path | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self, tls_dir: Path | None = None, port: int = 0) -> None:
        app = web.Application(client_max_size=4 * MAX_EVENT_BYTES)
        app.router.add_post("/v2/enqueue", self._enqueue)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True)
        await self._site.start()
        self.port = self._site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if tls_dir is not None:
            cert, key = make_tls_cert(tls_dir)
            self.ca_file = cert
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            rest = web.Application()
            rest.router.add_get("/{tail:.*}", self._rest)
            self._rest_runner = web.AppRunner(rest, access_log=None)
            await self._rest_runner.setup()
            site = web.TCPSite(self._rest_runner, "127.0.0.1", 0, ssl_context=ctx)
            await site.start()
            self.rest_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for runner in (self._runner, self._rest_runner):
            if runner is not None:
                await runner.cleanup()

    @property
    def events_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2/enqueue"

    @property
    def rest_url(self) -> str:
        return f"https://127.0.0.1:{self.rest_port}"

    async def refuse_connections(self) -> None:
        """Close the listening socket: connections are refused until accept_connections()."""
        assert self._site is not None
        await self._site.stop()

    async def accept_connections(self) -> None:
        assert self._runner is not None
        for _ in range(50):
            try:
                self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
                await self._site.start()
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"port {self.port} could not be taken again")

    # ------------------------------------------------------------------ scripting
    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        for _ in range(times):
            self._script.append(("status", status, retry_after))

    def hang_next(self, times: int = 1, seconds: float = 3600.0) -> None:
        for _ in range(times):
            self._script.append(("hang", 0, seconds))

    @property
    def scripted_left(self) -> int:
        return len(self._script)

    async def wait_events(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.accepted) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass
        return list(self.accepted)

    def actions(self, dedup_key: str | None = None) -> list[str]:
        return [b["event_action"] for b in self.accepted if dedup_key is None or b.get("dedup_key") == dedup_key]

    def alert(self, dedup_key: str) -> Alert | None:
        """The newest alert with this dedup_key."""
        found = [a for a in self.alerts if a.dedup_key == dedup_key]
        return found[-1] if found else None

    # ------------------------------------------------------------------ Events API v2
    async def _enqueue(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        rec = Received(time.monotonic(), raw, dict(request.headers))
        self.received.append(rec)
        self._event.set()
        if self._script:
            kind, status, extra = self._script.popleft()
            if kind == "hang":
                await asyncio.sleep(extra or 3600.0)  # cancelled when the client gives up
                rec.status = 0
                return web.Response(status=504)
            rec.status = status
            headers = {}
            if status == 429:
                if extra is not None:
                    headers["Retry-After"] = f"{extra:g}"
                return web.json_response(THROTTLED, status=429, headers=headers)
            if status >= 500:
                return web.Response(status=status, text="Internal Server Error" if status == 500 else "error")
            return web.json_response({"status": "error", "message": f"scripted {status}"}, status=status)
        if len(raw) > MAX_EVENT_BYTES:
            return self._invalid(rec, [f"Event is {len(raw)} bytes; events are limited to 512 KB"])
        try:
            body = json.loads(raw)
        except ValueError:
            return self._invalid(rec, ["Event object is not valid JSON"])
        if not isinstance(body, dict):
            return self._invalid(rec, ["Event object must be a JSON object"])
        errors = validate(body)
        if errors:
            return self._invalid(rec, errors)
        key = body.get("dedup_key") or uuid.uuid4().hex
        self._apply(body, key)
        rec.status, rec.body = 202, body
        self.accepted.append(body)
        self._event.set()
        return web.json_response({"status": "success", "message": "Event processed", "dedup_key": key}, status=202)

    def _invalid(self, rec: Received, errors: list[str]) -> web.Response:
        rec.status = 400
        return web.json_response({**INVALID, "errors": errors}, status=400)

    def _apply(self, body: dict[str, Any], key: str) -> None:
        rk, action = body["routing_key"], body["event_action"]
        open_ = next((a for a in reversed(self.alerts)
                      if a.routing_key == rk and a.dedup_key == key and a.status != "resolved"), None)
        if action == "trigger":
            if open_ is None:
                n = next(self._numbers)
                open_ = Alert(rk, key, n, f"Q{n:06d}", summary=body["payload"]["summary"])
                self.alerts.append(open_)
            open_.log.append("trigger")
        elif open_ is not None:  # acknowledge/resolve of an unknown or resolved key are dropped
            open_.log.append(action)
            open_.status = "acknowledged" if action == "acknowledge" else "resolved"

    # ------------------------------------------------------------------ REST API (TLS)
    async def _rest(self, request: web.Request) -> web.Response:
        self.rest_calls.append((request.path, dict(request.query)))
        if request.headers.get("Authorization") != f"Token token={self.rest_token}":
            return web.json_response({"error": {"message": "Unauthorized", "code": 2006}}, status=401)
        if self.rest_fail:
            status = self.rest_fail.popleft()
            return web.json_response({"error": {"message": "scripted", "code": 2001}}, status=status)
        parts = [p for p in request.path.split("/") if p]
        not_found = web.json_response({"error": {"message": "Not Found", "code": 2100}}, status=404)
        if len(parts) == 2 and parts[0] in ("services", "escalation_policies"):
            table = self.services if parts[0] == "services" else self.policies
            obj = table.get(parts[1])
            if obj is None:
                return not_found
            return web.json_response({"service" if parts[0] == "services" else "escalation_policy": obj})
        if len(parts) == 1 and parts[0] in ("services", "escalation_policies"):
            table = self.services if parts[0] == "services" else self.policies
            q = request.query.get("query", "").lower()
            items = [o for o in table.values() if q in o["name"].lower()]
            return web.json_response(_page(parts[0], items, request))
        if parts == ["oncalls"]:
            ids = request.query.getall("escalation_policy_ids[]", [])
            items = []
            for pid in ids:
                for row in self.oncalls.get(pid, []):
                    items.append({**row, "escalation_policy": {"id": pid, "type": "escalation_policy_reference",
                                                               "summary": self.policies.get(pid, {}).get("name", "")}})
            return web.json_response(_page("oncalls", items, request))
        return not_found

    # ------------------------------------------------------------------ webhooks V3
    def webhook(self, event_type: str, dedup_key: str, secrets: list[str], *, agent: str | None = "Alice Oncall",
                agent_type: str = "user_reference", webhook_id: str | None = None,
                assignees: list[str] | None = None, event_id: str | None = None,
                occurred_at: float | str | None = None) -> tuple[bytes, dict[str, str]]:
        """A V3 webhook about the newest alert with `dedup_key`, as PagerDuty would deliver it
        (body bytes and headers, signed with each secret)."""
        a = self.alert(dedup_key)
        number = a.number if a else 1
        iid = a.id if a else "QUNKNOWN"
        status = {"incident.acknowledged": "acknowledged", "incident.resolved": "resolved"}.get(
            event_type, a.status if a else "triggered")
        event_id = event_id or str(uuid.uuid4())
        if not isinstance(occurred_at, str):
            occurred_at = pd_time(self.clock() if occurred_at is None else occurred_at)
        agent_obj = None
        if agent is not None:
            agent_obj = {"id": "PUSER01", "type": agent_type, "summary": agent,
                         "self": "https://api.pagerduty.com/users/PUSER01",
                         "html_url": "https://acme.pagerduty.com/users/PUSER01"}
        names = assignees if assignees is not None else (a.assignees if a else ["Alice Oncall"])
        payload = {"event": {
            "id": event_id, "event_type": event_type, "resource_type": "incident",
            "occurred_at": occurred_at,
            "agent": agent_obj, "client": {"name": "PagerDuty"},
            "data": {
                "id": iid, "type": "incident", "self": f"https://api.pagerduty.com/incidents/{iid}",
                "html_url": f"https://acme.pagerduty.com/incidents/{iid}", "number": number, "status": status,
                "incident_key": dedup_key, "created_at": "2026-06-01T12:00:00Z",
                "title": a.summary if a else "incident",
                "service": {"id": "PSERVIC1", "type": "service_reference", "summary": "mlops-platform",
                            "self": "https://api.pagerduty.com/services/PSERVIC1",
                            "html_url": "https://acme.pagerduty.com/services/PSERVIC1"},
                "assignees": [{"id": f"PU{i}", "type": "user_reference", "summary": n} for i, n in enumerate(names)],
                "escalation_policy": {"id": "PPOLICY1", "type": "escalation_policy_reference",
                                      "summary": "MLOps Platform"},
                "teams": [], "priority": None, "urgency": "high", "conference_bridge": None, "resolve_reason": None,
            },
        }}
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "PagerDuty-Webhook/V3.0",
                   "X-Webhook-Id": webhook_id or str(uuid.uuid4()), "X-Webhook-Subscription": "PSUBSCR1",
                   "X-PagerDuty-Signature": ",".join(pd_sign(s, body) for s in secrets)}
        if a is not None and event_type in ("incident.acknowledged", "incident.resolved"):
            a.status = status
        return body, headers


def validate(body: dict[str, Any]) -> list[str]:
    errors = []
    rk = body.get("routing_key")
    if not isinstance(rk, str) or len(rk) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = body.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of trigger, acknowledge, resolve)")
    key = body.get("dedup_key")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not key:
        errors.append("'dedup_key' is required for acknowledge and resolve events")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary.strip():
                errors.append("'payload.summary' is missing or blank")
            elif len(summary) > 1024:
                errors.append("'payload.summary' must be at most 1024 characters")
            if not isinstance(payload.get("source"), str) or not payload["source"].strip():
                errors.append("'payload.source' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid (must be one of critical, error, warning, info)")
            details = payload.get("custom_details")
            if details is not None and not isinstance(details, dict):
                errors.append("'payload.custom_details' must be an object")
        for i, img in enumerate(body.get("images") or []):
            if not isinstance(img, dict) or not img.get("src"):
                errors.append(f"'images[{i}].src' is missing")
        for i, link in enumerate(body.get("links") or []):
            if not isinstance(link, dict) or not link.get("href"):
                errors.append(f"'links[{i}].href' is missing")
    return errors


def _page(wrapper: str, items: list[dict[str, Any]], request: web.Request) -> dict[str, Any]:
    limit = int(request.query.get("limit", "25"))
    offset = int(request.query.get("offset", "0"))
    chunk = items[offset:offset + limit]
    return {wrapper: chunk, "limit": limit, "offset": offset, "more": offset + limit < len(items), "total": None}
