"""How the Slack integration is set up: from the environment (and the bot's settings object,
when the server has one with `slack_bot_token`/`slack_bot_token_file`).

    SLACK_BOT_TOKEN / SLACK_BOT_TOKEN_FILE   the bot token (xoxb-…); without one, slack_configs
                                             post through their incoming webhook (api_url), or
                                             are only logged
    SLACK_API_URL                            Web API base URL (default https://slack.com/api/)
    ALERTBOT_SLACK_CHANNEL_RATE              messages per second per channel (default 1)
    ALERTBOT_SLACK_CHANNEL_BURST             how many may go at once after a quiet spell (default 3)
    ALERTBOT_SLACK_DEBOUNCE                  seconds between two edits of one message (default 3)
    ALERTBOT_SLACK_MAX_ALERTS                alerts shown one by one in a message (default 10)
    ALERTBOT_SLACK_BROADCAST                 thread stories also shown in the channel, comma-separated:
                                             added, resolved, repeat, ack, silence, escalation, note, all
                                             (default none: thread replies never ping the channel)
    ALERTBOT_SLACK_DEFAULT_CHANNEL           where a message goes when `channel` is empty or its
                                             template renders no valid channel (default #alerts)
    ALERTBOT_SLACK_PROXY                     proxy for Slack only ("" = none even if HTTPS_PROXY is set)
    ALERTBOT_SLACK_TIMEOUT                   seconds one call may take (default 30)
    ALERTBOT_SLACK_RETENTION                 seconds a resolved message's state is kept (default 7 days)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_API_URL = "https://slack.com/api/"
STORY_KINDS = frozenset({"added", "resolved", "repeat", "ack", "silence", "escalation", "note", "investigation"})


class SlackSettingsError(ValueError):
    """A Slack setting that cannot work (named, with what is expected)."""


@dataclass(slots=True)
class SlackSettings:
    token: str | None = None
    token_source: str = ""
    api_url: str = DEFAULT_API_URL
    channel_rate: float = 1.0
    channel_burst: int = 3
    debounce_s: float = 3.0
    max_alerts: int = 10
    broadcast: frozenset[str] = field(default_factory=frozenset)
    default_channel: str = "#alerts"
    # Where a message's "silence" links point: the upstream Alertmanager's silence form
    # (ALERTMANAGER_URL). alertbot has no web UI of its own yet, so without one there is no
    # link; the message's Silence button silences from Slack.
    silence_base: str = ""
    proxy: str | None = None
    timeout_s: float = 30.0
    retention_s: float = 7 * 24 * 3600.0
    problems: list[str] = field(default_factory=list)  # settings refused (the default is used instead)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, settings: Any = None,
                 strict: bool = False) -> SlackSettings:
        """The settings; a bad value is named in `problems` and its default used — or, with
        `strict`, raised as SlackSettingsError."""
        env = os.environ if env is None else env
        s = cls()

        def refuse(message: str) -> None:
            if strict:
                raise SlackSettingsError(message)
            s.problems.append(message)

        try:
            s.token, s.token_source = _token(env, settings)
        except SlackSettingsError as exc:
            refuse(f"{exc}; Slack messages are only logged")
        upstream = env.get("ALERTMANAGER_URL", "").strip().rstrip("/")
        if upstream.startswith(("http://", "https://")):
            s.silence_base = upstream  # (a bad value is reported by chatops, which mirrors silences there)
        api_url = (env.get("SLACK_API_URL") or DEFAULT_API_URL).strip()
        if api_url.startswith(("http://", "https://")):
            s.api_url = api_url if api_url.endswith("/") else api_url + "/"
        else:
            refuse(f"SLACK_API_URL={api_url!r}: expected an http(s) URL such as {DEFAULT_API_URL}; using that")
        for attr, name, lo, hi, kind in (
            ("channel_rate", "ALERTBOT_SLACK_CHANNEL_RATE", 0.01, None, float),
            ("channel_burst", "ALERTBOT_SLACK_CHANNEL_BURST", 1, None, int),
            ("debounce_s", "ALERTBOT_SLACK_DEBOUNCE", 0, None, float),
            ("max_alerts", "ALERTBOT_SLACK_MAX_ALERTS", 1, 40, int),
            ("timeout_s", "ALERTBOT_SLACK_TIMEOUT", 1, None, float),
            ("retention_s", "ALERTBOT_SLACK_RETENTION", 0, None, float),
        ):
            try:
                setattr(s, attr, kind(_number(env, name, getattr(s, attr), minimum=lo, maximum=hi)))
            except SlackSettingsError as exc:
                refuse(f"{exc}; using {getattr(s, attr):g}")
        s.default_channel = env.get("ALERTBOT_SLACK_DEFAULT_CHANNEL") or s.default_channel
        raw = env.get("ALERTBOT_SLACK_BROADCAST", "")
        kinds = {k.strip() for k in raw.split(",") if k.strip()}
        if "all" in kinds:
            kinds = set(STORY_KINDS)
        unknown = kinds - STORY_KINDS
        if unknown:
            refuse(f"ALERTBOT_SLACK_BROADCAST: unknown {', '.join(sorted(unknown))}; expected some of "
                   f"{', '.join(sorted(STORY_KINDS))} or all; ignoring those")
        s.broadcast = frozenset(kinds & STORY_KINDS)
        s.proxy = env.get("ALERTBOT_SLACK_PROXY")
        return s


def _token(env: Mapping[str, str], settings: Any) -> tuple[str | None, str]:
    for source, value, path in (
        ("settings", getattr(settings, "slack_bot_token", None), getattr(settings, "slack_bot_token_file", None)),
        ("SLACK_BOT_TOKEN", env.get("SLACK_BOT_TOKEN"), env.get("SLACK_BOT_TOKEN_FILE")),
    ):
        if path:
            try:
                with open(path, encoding="utf-8") as fh:
                    value = fh.read().strip()
            except OSError as exc:
                raise SlackSettingsError(f"Slack bot token file {path}: {exc.strerror or exc}") from None
            if not value:
                raise SlackSettingsError(f"Slack bot token file {path} is empty")
            return value, f"{source} file {path}"
        if value:
            return value.strip(), source
    return None, ""


def _number(env: Mapping[str, str], name: str, default: float, minimum: float | None = None,
            maximum: float | None = None) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SlackSettingsError(f"{name}={raw!r}: expected a number") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        bounds = f"at least {minimum:g}" if maximum is None else f"between {minimum:g} and {maximum:g}"
        raise SlackSettingsError(f"{name}={raw!r}: expected a number {bounds}")
    return value
