"""The chatops settings: the `chatops` and `access` sections of the bot's settings file, and
the environment.

The settings file is YAML: `$ALERTBOT_SETTINGS`, else `./alertbot.yaml` when it exists, else
the defaults below. A bad file names file, line and path (`alertbot.yaml:12
access.rules[0].silence.max_duration: …`); at start the bot then refuses the file and runs
with the safe defaults, saying so; a later edit is picked up by the next command (a bad edit
keeps the rules that were loaded, and says so in the log).

    chatops:
      command: /oncall            # the slash command's name (as in manifest.yml)
      ack_silence_duration: 15m   # an `ack_silence: true` route's silence, extended while firing
      upkeep_interval: 30s        # ack silences extended, upstream Alertmanager polled
      query_range_max: 7d         # the longest `query … range=`
      upstream_resolve_after: 2m  # a muted alert gone from the upstream Alertmanager this long is resolved
      oncall_default: ""          # `who` without an argument asks about this service/policy
    access:
      everyone:                   # what anyone in the workspace may do (these are the defaults)
        allow: [ack, query, silence, expire]
        silence: {scope: group, max_duration: 24h}   # an alert group's own labels, a day at most
      rules:                      # a rule that names you replaces `everyone` for what it allows
        - name: ml-team
          groups: ["@ml-team"]    # Slack user groups: handle or id (S…)
          users: ["U0123ABCD"]    # Slack users: id (U…), or @name (read from Slack, users.info)
          allow: [ack, silence, expire, query]
          silence:
            required_matchers: ['team="ml"']   # the silence must contain each, as written
            max_duration: 24h

Environment (secrets only from the environment, never from the file):

    SLACK_SIGNING_SECRET(_FILE)   verifies every request to POST /slack/events (v0 HMAC)
    SLACK_BOT_TOKEN(_FILE)        the Web API token (shared with the Slack notifier)
    SLACK_API_URL                 the Web API base URL (default https://slack.com/api/)
    SLACK_APP_TOKEN(_FILE)        xapp-… : also receive commands over Socket Mode
    ALERTMANAGER_URL              an upstream Alertmanager: silences mirrored there, its
                                  muted alerts polled so that their resolves are not lost
    ALERTBOT_SETTINGS             the settings file
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator

from bot.config.errors import ConfigError, ConfigIssue, format_path
from bot.config.types import Duration, MatcherLine, Strict, Text, value_error_message
from bot.config.yamldoc import parse_yaml

Action = Literal["ack", "silence", "expire", "page", "query"]
Scope = Literal["any", "group"]
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
ACTIONS: tuple[str, ...] = ("ack", "silence", "expire", "page", "query")
DEFAULT_FILE = "alertbot.yaml"
DAY = 86400.0


class SilencePolicy(Strict):
    """The silences a grant covers: to create (`silence`, within `max_duration`) and to expire
    (`expire`, whatever their length).

    required_matchers   the silence contains each of these matchers, as written
    scope               "any": any matchers (with the required ones); "group": the labels of
                        one open alert group as matchers (what the Silence buttons on its
                        message make), possibly narrowed by more, never broader
    max_duration        the longest silence it may create
    """

    required_matchers: list[MatcherLine] = []
    scope: Scope = "any"
    max_duration: Duration | None = None

    @field_validator("max_duration")
    @classmethod
    def _positive(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("max_duration must be positive")
        return v


class EveryoneSilencePolicy(SilencePolicy):
    # The workspace at large silences an alert group from its message, for a day at most;
    # anything broader takes `scope: any`, written out.
    scope: Scope = "group"
    max_duration: Duration | None = 24 * 3600.0


class Grant(Strict):
    allow: list[Action] = []
    silence: SilencePolicy = SilencePolicy()


class Everyone(Grant):
    allow: list[Action] = ["ack", "query", "silence", "expire"]
    silence: EveryoneSilencePolicy = EveryoneSilencePolicy()


class Rule(Grant):
    name: Text = ""
    users: list[Text] = []
    groups: list[Text] = []

    @field_validator("users", "groups")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        out = [x.strip() for x in v]
        if any(not x or x == "@" for x in out):
            raise ValueError("an empty name")
        return out

    @field_validator("users")
    @classmethod
    def _user_ids_or_names(cls, v: list[str]) -> list[str]:
        for x in v:
            if not (USER_ID.match(x) or x.startswith("@")):
                raise ValueError(f"{x!r} is neither a Slack user id (U…, W…) nor an @name")
        return v


class AccessModel(Strict):
    everyone: Everyone = Everyone()
    rules: list[Rule] = []


class ChatopsModel(Strict):
    command: Text = "/oncall"
    ack_silence_duration: Duration = 15 * 60.0
    upkeep_interval: Duration = 30.0
    query_range_max: Duration = 7 * DAY
    upstream_resolve_after: Duration = 120.0
    oncall_default: Text = ""

    @field_validator("command")
    @classmethod
    def _slash(cls, v: str) -> str:
        v = v.strip()
        if not v.startswith("/") or len(v) < 2 or any(c.isspace() for c in v):
            raise ValueError("a slash command such as /oncall")
        return v

    @field_validator("ack_silence_duration", "upkeep_interval", "query_range_max", "upstream_resolve_after")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be positive")
        return v


class SettingsFile(Strict):
    chatops: ChatopsModel = Field(default_factory=ChatopsModel)
    access: AccessModel = Field(default_factory=AccessModel)


@dataclass
class ChatopsSettings:
    """Everything the chatops module is told: the file's sections and the environment."""

    file: SettingsFile = field(default_factory=SettingsFile)
    path: str | None = None  # the settings file read, if any
    mtime: float = 0.0
    signing_secret: str = ""
    bot_token: str = ""
    app_token: str = ""
    api_url: str = "https://slack.com/api/"
    alertmanager_url: str = ""
    problems: list[str] = field(default_factory=list)  # said at start (a refused file, a missing secret)

    @property
    def chatops(self) -> ChatopsModel:
        return self.file.chatops

    @property
    def access(self) -> AccessModel:
        return self.file.access


def settings_path(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    explicit = env.get("ALERTBOT_SETTINGS", "").strip()
    if explicit:
        return explicit
    return DEFAULT_FILE if Path(DEFAULT_FILE).is_file() else None


def load_file(path: str) -> SettingsFile:
    """The settings file, validated; ConfigError names file, line and path."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError.single(path, f"cannot read the settings file: {exc.strerror or exc}") from None
    doc = parse_yaml(text, path)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError.single(path, "the settings file must be a mapping (chatops:, access:)", 1)
    try:
        return SettingsFile.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False, include_input=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p and p.endswith("]")))
            if err["type"] == "extra_forbidden":
                message = f"unknown field {loc[-1]!r}"
            elif err["type"] == "literal_error":
                message = f"unknown action; expected one of {', '.join(ACTIONS)}"
            else:
                message = value_error_message(err["msg"])
            issues.append(ConfigIssue(path, doc.line(loc), format_path(loc), message))
        raise ConfigError(issues) from None


def _secret(env: Mapping[str, str], name: str) -> tuple[str, str | None]:
    """(value, problem) from NAME or the file named by NAME_FILE."""
    path = env.get(f"{name}_FILE", "").strip()
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip(), None
        except OSError as exc:
            return "", f"{name}_FILE {path}: {exc.strerror or exc}"
    return env.get(name, "").strip(), None


def from_env(env: Mapping[str, str] | None = None) -> ChatopsSettings:
    """The environment and the settings file; problems are collected, never raised (the bot
    still starts, with the safe defaults, and says why)."""
    env = os.environ if env is None else env
    s = ChatopsSettings()
    for name, attr in (("SLACK_SIGNING_SECRET", "signing_secret"), ("SLACK_BOT_TOKEN", "bot_token"),
                       ("SLACK_APP_TOKEN", "app_token")):
        value, problem = _secret(env, name)
        setattr(s, attr, value)
        if problem:
            s.problems.append(problem)
    api = env.get("SLACK_API_URL", "").strip() or s.api_url
    s.api_url = api if api.endswith("/") else api + "/"
    am = env.get("ALERTMANAGER_URL", "").strip().rstrip("/")
    if am and not am.startswith(("http://", "https://")):
        s.problems.append(f"ALERTMANAGER_URL {am!r}: expected an http(s) URL; silences are not mirrored")
        am = ""
    s.alertmanager_url = am
    if s.app_token and not s.app_token.startswith("xapp-"):
        s.problems.append("SLACK_APP_TOKEN is not an app-level token (xapp-…); Socket Mode is off")
        s.app_token = ""
    path = settings_path(env)
    if path is not None:
        s.path = path
        try:
            s.mtime = Path(path).stat().st_mtime
            s.file = load_file(path)
        except (ConfigError, OSError) as exc:
            s.problems.append(f"settings file refused, the safe defaults apply: {exc}")
    return s


def reload_if_changed(s: ChatopsSettings) -> str | None:
    """Reads the settings file again when it changed; returns a problem (the old rules stay)."""
    if s.path is None:
        return None
    try:
        mtime = Path(s.path).stat().st_mtime
    except OSError as exc:
        return f"settings file {s.path}: {exc.strerror or exc}; the rules loaded before stay"
    if mtime == s.mtime:
        return None
    s.mtime = mtime
    try:
        s.file = load_file(s.path)
    except ConfigError as exc:
        return f"settings file refused, the rules loaded before stay: {exc}"
    return None
