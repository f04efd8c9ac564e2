"""Named Prometheus datasources from the environment.

    PROMETHEUS_URL=http://prometheus:9090                     the datasource named "default"
    PROMETHEUS_DATASOURCES=thanos=http://thanos:10902,edge=http://user:pass@edge:9090
                                                              more, by name (comma-separated)
    PROMETHEUS_TIMEOUT=10          seconds a query may run (Prometheus's `timeout` parameter)
    PROMETHEUS_MAX_SERIES=500      more series than this is an error, not a result
    PROMETHEUS_MAX_POINTS=250000   more points (over all series of a range) likewise

Without PROMETHEUS_URL the first of PROMETHEUS_DATASOURCES is the default. With neither,
there are no datasources and every query says so (the bot still runs). Credentials in a
URL become basic auth and are never printed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import aiohttp

from bot.prometheus.client import Limits, PrometheusClient, split_credentials
from bot.prometheus.errors import QueryError

DEFAULT_NAME = "default"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class DatasourceError(ValueError):
    """A datasource setting that cannot work; the message names the variable."""


class Datasources:
    """The configured Prometheus clients, by name; `get(None)` is the default one."""

    def __init__(self, urls: Mapping[str, str], default: str | None = None, *, limits: Limits | None = None,
                 session: aiohttp.ClientSession | None = None) -> None:
        self.limits = limits or Limits()
        self.default = default if default is not None else next(iter(urls), None)
        self._clients = {name: PrometheusClient(url, name=name, limits=self.limits, session=session)
                         for name, url in urls.items()}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *,
                 session: aiohttp.ClientSession | None = None) -> Datasources:
        env = os.environ if env is None else env
        urls: dict[str, str] = {}
        single = env.get("PROMETHEUS_URL", "").strip()
        if single:
            urls[DEFAULT_NAME] = _check_url(single, "PROMETHEUS_URL")
        for item in filter(None, (part.strip() for part in env.get("PROMETHEUS_DATASOURCES", "").split(","))):
            name, sep, url = item.partition("=")
            name = name.strip()
            if not sep or not name or not _NAME.match(name):
                raise DatasourceError(
                    f"PROMETHEUS_DATASOURCES: {_redact(item)!r} is not name=url (names use letters, digits, _ . -)")
            if name in urls:
                raise DatasourceError(f"PROMETHEUS_DATASOURCES: datasource {name!r} is defined twice"
                                      + (" (PROMETHEUS_URL is the one named 'default')" if name == DEFAULT_NAME else ""))
            urls[name] = _check_url(url.strip(), f"PROMETHEUS_DATASOURCES ({name})")
        limits = Limits(
            timeout=_number(env, "PROMETHEUS_TIMEOUT", Limits.timeout, float),
            max_series=int(_number(env, "PROMETHEUS_MAX_SERIES", Limits.max_series, int)),
            max_points=int(_number(env, "PROMETHEUS_MAX_POINTS", Limits.max_points, int)),
        )
        return cls(urls, DEFAULT_NAME if single else None, limits=limits, session=session)

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    def describe(self) -> dict[str, str]:
        """Name → URL without credentials, for logs and `/oncall` answers."""
        return {name: c.base_url for name, c in self._clients.items()}

    def get(self, name: str | None = None) -> PrometheusClient:
        """The named client (the default for None/""); QueryError("unknown_datasource") otherwise."""
        key = name or self.default
        if key is None:
            raise QueryError("unknown_datasource",
                             "no Prometheus is configured: set PROMETHEUS_URL (or PROMETHEUS_DATASOURCES)")
        client = self._clients.get(key)
        if client is None:
            known = ", ".join(sorted(self._clients)) or "none"
            raise QueryError("unknown_datasource", f"no datasource named {key!r} (configured: {known})")
        return client

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()


def _check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DatasourceError(f"{where}: {_redact(url)!r} is not an http(s) URL with a host")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise DatasourceError(f"{where}: {_redact(url)!r} has an invalid port") from None
    if parts.query or parts.fragment:
        raise DatasourceError(f"{where}: {_redact(url)!r} must not have a query or fragment")
    return url


def _redact(text: str) -> str:
    if "@" not in text:
        return text
    try:
        clean, auth = split_credentials(text.partition("=")[2] if "=" in text.split("://")[0] else text)
    except ValueError:
        return "<url with credentials>"
    prefix = text.partition("=")[0] + "=" if "=" in text.split("://")[0] else ""
    return prefix + clean if auth else text


def _number(env: Mapping[str, str], key: str, default: float, kind: type) -> float:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise DatasourceError(f"{key}: {raw!r} is not a number") from None
    if value <= 0:
        raise DatasourceError(f"{key}: must be positive, not {raw!r}")
    return value
