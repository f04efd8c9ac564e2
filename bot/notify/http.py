"""The bot's one long-lived aiohttp client session, and Alertmanager's `http_config` auth."""

from __future__ import annotations

import base64

import aiohttp

from bot.config.durations import DurationError, parse_duration
from bot.config.receivers import HTTPClientConfig

DEFAULT_ATTEMPT_TIMEOUT = 30.0


def url_origin(url: str) -> str:
    """What logs, start-up lines, errors and the status page show of a receiver's URL: scheme,
    host and port, which say where notifications go, and `/<secret>` for any path or query. A
    webhook's path is often its credential (Slack's, Discord's and Teams' incoming webhooks),
    and credentials in the URL are never shown either."""
    from urllib.parse import urlsplit

    where = url_host(url)
    if where is None:
        return "an unparsable URL"
    parts = urlsplit(url)
    return where + (parts.path if parts.path in ("", "/") and not parts.query else "/<secret>")


def url_host(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, or None when it has no scheme or host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port:
            host += f":{parts.port}"
    except ValueError:
        return None
    return f"{parts.scheme}://{host}" if parts.scheme and host else None


def hide_url(text: str, url: str) -> str:
    """`text` (an error message) with `url` in it shown as url_origin shows it."""
    return text.replace(url, url_origin(url)) if url and url in text else text


def read_secret_file(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read().strip()


class HttpClient:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    @classmethod
    async def create(cls) -> HttpClient:
        connector = aiohttp.TCPConnector(limit=256, limit_per_host=32)
        return cls(aiohttp.ClientSession(connector=connector, trust_env=False))

    async def close(self) -> None:
        await self.session.close()

    @staticmethod
    def timeout(option: str) -> aiohttp.ClientTimeout:
        seconds = DEFAULT_ATTEMPT_TIMEOUT
        if option:
            try:
                seconds = parse_duration(option) or DEFAULT_ATTEMPT_TIMEOUT
            except DurationError:
                pass
        return aiohttp.ClientTimeout(total=seconds)

    @staticmethod
    def auth_headers(cfg: HTTPClientConfig | None) -> dict[str, str]:
        if cfg is None:
            return {}
        if cfg.basic_auth is not None:
            b = cfg.basic_auth
            user = read_secret_file(b.username_file) if b.username_file else b.username
            password = read_secret_file(b.password_file) if b.password_file else (b.password.reveal() if b.password else "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if cfg.authorization is not None:
            a = cfg.authorization
            cred = read_secret_file(a.credentials_file) if a.credentials_file else (
                a.credentials.reveal() if a.credentials else "")
            return {"Authorization": f"{a.type or 'Bearer'} {cred}"}
        if cfg.bearer_token or cfg.bearer_token_file:
            tok = read_secret_file(cfg.bearer_token_file) if cfg.bearer_token_file else cfg.bearer_token.reveal()  # type: ignore[union-attr]
            return {"Authorization": f"Bearer {tok}"}
        return {}
