"""Structured JSON logs (structlog), with secrets redacted before anything is written.

One line per event: `timestamp`, `level`, `service`, `instance`, `trace_id` (when a request or
task is being served), `message`, and the context bound with `structlog.contextvars` (for
example `group_key`, `receiver`). Records of the standard `logging` module (aiohttp, the
engine's loggers, SQLAlchemy) go through the same processors and renderer.

Redaction is one processor, `redact`: values under secret-looking keys are replaced, and
Slack tokens, bearer/basic credentials, e-mail addresses, credentials in URLs and
`key=value` secrets are scrubbed out of every string, however deep it sits in the event.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import orjson
import structlog

SERVICE = "alertbot"
REDACTED = "[REDACTED]"

_SECRET_KEYS = re.compile(
    r"(?i)^(?:.*[-_.])?(?:token|access_token|bot_token|app_token|routing_key|integration_key|service_key|api_key|"
    r"apikey|api_token|authorization|proxy-authorization|cookie|set-cookie|signing_secret|client_secret|"
    r"password|passwd|secret|credentials|bearer_token|private_key|x-slack-signature|x-pagerduty-signature)$")

_VALUE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Slack tokens: bot/user/app/config tokens and incoming-webhook URLs.
    (re.compile(r"\bxox[abposrce]-[A-Za-z0-9-]+"), "xox?-" + REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), "xapp-" + REDACTED),
    (re.compile(r"(https://hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s\"']+"), r"\1" + REDACTED),
    # HTTP credentials.
    (re.compile(r"(?i)\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{4,}"), r"\1 " + REDACTED),
    # key=value and "key": "value" secrets inside free text (query strings, error messages).
    (re.compile(r"(?i)\b((?:access_|bot_|app_|api_)?token|routing_key|integration_key|service_key|api_?key|"
                r"password|passwd|secret|signing_secret|client_secret)(\"?\s*[:=]\s*\"?)([^\s\"'&,;}]+)"),
     r"\1\2" + REDACTED),
    # user:password@ in URLs.
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), r"\1" + REDACTED + "@"),
    # e-mail addresses.
    (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), "[REDACTED_EMAIL]"),
]

_NOT_REDACTED = frozenset(("timestamp", "level", "service", "instance", "trace_id", "span_id", "logger"))


def redact_text(text: str) -> str:
    for pattern, repl in _VALUE_PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _redact_value(key: str | None, value: Any, depth: int = 0) -> Any:
    if key is not None and _SECRET_KEYS.match(key) and value not in (None, "", [], {}):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if depth > 20:
        return value
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact_value(None, v, depth + 1) for v in value]
    return value


def redact(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: scrubs secrets out of the whole event."""
    return {k: (v if k in _NOT_REDACTED else _redact_value(k, v)) for k, v in event.items()}


class _Static:
    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields

    def __call__(self, logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
        for k, v in self.fields.items():
            event.setdefault(k, v)
        return event


def _rename_event(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    if "event" in event:
        event["message"] = event.pop("event")
    return event


def _drop_stdlib_noise(logger: Any, method: str, event: dict[str, Any]) -> dict[str, Any]:
    event.pop("_record", None)
    event.pop("_from_structlog", None)
    return event


def _render(logger: Any, method: str, event: dict[str, Any]) -> str:
    ordered = {k: event.pop(k) for k in ("timestamp", "level", "service", "instance", "trace_id", "message")
               if k in event}
    ordered.update(event)
    return orjson.dumps(ordered, default=str).decode()


_configured_static: _Static | None = None


def configure(instance: str = "", level: str = "info", stream: TextIO | None = None) -> None:
    """Routes structlog and the standard logging module to one JSON renderer on `stream`."""
    global _configured_static
    static = _Static({"service": SERVICE, "instance": instance})
    _configured_static = static
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        static,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.format_exc_info,
        _rename_event,
    ]
    structlog.configure(
        # A call below the level is dropped before any processor runs: at warning level a
        # request's access line would otherwise be built in full and then thrown away.
        processors=[structlog.stdlib.filter_by_level, *shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _drop_stdlib_noise, redact, _render],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_alertbot", False):
            root.removeHandler(h)
    handler._alertbot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    # Libraries that would log request bodies or signatures at INFO stay at WARNING.
    for name in ("slack_bolt", "slack_sdk", "sqlalchemy.engine", "aiosqlite", "asyncio", "alembic.runtime.plugins"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Alembic's own lines (its dialect, each step) are noise at start-up: the store logs one
    # line when it changed the schema (bot.store.sql).
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def set_process(name: str) -> None:
    """Names the process in every line (`process`), for a server made of several processes: a
    front of `--ingest-workers` logs as the same instance, as `front-PID`."""
    if _configured_static is not None:
        _configured_static.fields["process"] = name


def get_logger(name: str = "alertbot") -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
