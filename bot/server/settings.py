"""What the server is told at start: where its config, database and listener are."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from bot.routing.matchers import MatchersMode

DEFAULT_LISTEN = "127.0.0.1:9093"
DEFAULT_DATABASE = "sqlite+aiosqlite:///data/alertbot.db"
DEFAULT_CONFIG = "routes.yaml"
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_QUEUED_ALERTS = 200_000
DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_MAX_UNREADY_SECONDS = 120.0  # /-/healthy fails when the engine could not run this long
# How long a client may take to send a request's head (from its first byte, or from connecting)
# and its body (from the head): far more than Prometheus' and Alertmanager's senders ever need
# on a LAN, short enough that slow or stalled clients cannot hold connections open for long.
DEFAULT_READ_HEADER_TIMEOUT_S = 10.0
DEFAULT_READ_BODY_TIMEOUT_S = 60.0


class SettingsError(ValueError):
    """A setting that cannot work (the CLI prints it and exits 1)."""


@dataclass(slots=True)
class WebhookAuth:
    """Credentials `POST /webhook` requires (Alertmanager's http_config sends one of them)."""

    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.bearer_token) or self.username is not None


@dataclass(slots=True)
class Settings:
    config_path: str = DEFAULT_CONFIG
    listen: str = DEFAULT_LISTEN
    database_url: str = DEFAULT_DATABASE
    external_url: str = ""
    route_prefix: str = ""  # as given; resolved_route_prefix() is what is served
    matchers_mode: MatchersMode | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_queued_alerts: int = DEFAULT_MAX_QUEUED_ALERTS
    webhook_auth: WebhookAuth | None = None
    log_level: str = "info"
    # Replicas on one database: the one holding the engine lease flushes and delivers; the
    # others stand by and take over when it has not been renewed for lease_seconds.
    instance_id: str = ""
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    # Front processes that take POST /api/v2/alerts into the inbox (docs/inbox.md); 0: one process.
    ingest_workers: int = 0
    # /-/healthy answers 503 once this replica has not been able to run its engine this long.
    max_unready_seconds: float = DEFAULT_MAX_UNREADY_SECONDS
    # Seconds a client has to send a request's head and body (bot.server.body); 0: no limit.
    read_header_timeout: float = DEFAULT_READ_HEADER_TIMEOUT_S
    read_body_timeout: float = DEFAULT_READ_BODY_TIMEOUT_S

    def resolved_instance_id(self) -> str:
        return self.instance_id or f"{socket.gethostname()}/{self.listen}"

    def host_port(self) -> tuple[str, int]:
        return split_listen(self.listen)

    def resolved_external_url(self) -> str:
        return (self.external_url or f"http://{self.listen}").rstrip("/")

    def resolved_route_prefix(self) -> str:
        """The path every route is served under ("" for none): --route-prefix, else the path
        of --external-url, as Alertmanager's main.go takes it (`"/" + strings.Trim(p, "/")`)."""
        from urllib.parse import urlsplit

        given = self.route_prefix or urlsplit(self.external_url).path
        prefix = "/" + given.strip("/")
        return "" if prefix == "/" else prefix


def split_listen(listen: str) -> tuple[str, int]:
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"--listen {listen!r}: expected HOST:PORT, e.g. 127.0.0.1:9093")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)
