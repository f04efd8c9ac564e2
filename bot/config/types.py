"""Field types shared by the configuration schema: durations, booleans, secrets, matchers."""

from __future__ import annotations

import os
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, ValidationInfo

from bot.config.durations import DurationError, parse_duration
from bot.routing.matchers import DEFAULT_MODE, Matcher, MatcherError, MatchersMode, parse_matchers


class Strict(BaseModel):
    """Alertmanager decodes strictly: unknown fields are errors."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        arbitrary_types_allowed=True,
        hide_input_in_errors=True,  # inputs may be secrets
        validate_default=False,
    )


def matchers_mode(info: ValidationInfo | None) -> MatchersMode:
    if info is not None and isinstance(info.context, dict):
        return info.context.get("matchers_mode", DEFAULT_MODE)
    return DEFAULT_MODE


def _duration(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("expected a duration such as 30s, 5m or 1h30m")
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise ValueError(str(exc)) from None


Duration = Annotated[float, BeforeValidator(_duration)]

_TRUE = {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}
_FALSE = {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"cannot unmarshal {value!r} into bool")


Bool = Annotated[bool, BeforeValidator(_bool)]


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError(f"cannot unmarshal !!{'map' if isinstance(value, dict) else 'seq'} into string")
    return "" if value is None else str(value)


Text = Annotated[str, BeforeValidator(_text)]

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class Secret:
    """A secret from the config: never printed; `${NAME}` reads environment variable NAME at use."""

    __slots__ = ("_raw", "env_name")

    def __init__(self, raw: str) -> None:
        self._raw = raw
        m = _ENV_REF.match(raw)
        self.env_name: str | None = m.group(1) if m else None  # a `${NAME}` reference

    def reveal(self) -> str:
        name = self.env_name
        if name is None:
            return self._raw
        return os.environ.get(name, "")

    def __bool__(self) -> bool:
        return bool(self._raw)

    def __repr__(self) -> str:
        return "Secret(<secret>)"

    __str__ = __repr__


def _secret(value: Any) -> Secret | None:
    if value is None or value == "":
        return None
    if isinstance(value, Secret):
        return value
    return Secret(_text(value))


SecretField = Annotated[Secret | None, BeforeValidator(_secret), PlainSerializer(lambda s: "<secret>" if s else None)]


def _matcher_line(value: Any, info: ValidationInfo) -> tuple[Matcher, ...]:
    if not isinstance(value, str):
        value = _text(value)
    try:
        return tuple(parse_matchers(value, matchers_mode(info)))
    except MatcherError as exc:
        raise ValueError(str(exc)) from None


MatcherLine = Annotated[tuple[Matcher, ...], BeforeValidator(_matcher_line)]
"""One `matchers:` list element: it may itself hold several comma-separated matchers."""


def value_error_message(message: str) -> str:
    return message.removeprefix("Value error, ")
