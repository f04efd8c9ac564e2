"""Loading `routes.yaml`: read, parse, validate, and build the runtime configuration.

`load_config(path)` returns a `Config` or raises `ConfigError` whose every line reads
`FILE:LINE PATH: MESSAGE`. Nothing here ever lets a traceback reach the user.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.config.errors import ConfigError, ConfigIssue, format_path
from bot.config.root import AlertmanagerConfig
from bot.config.timeintervals import NamedTimeInterval
from bot.config.types import value_error_message
from bot.config.validate import Checker
from bot.config.yamldoc import YamlDocument, parse_yaml
from bot.routing.matchers import DEFAULT_MODE, Matchers, MatchersMode
from bot.routing.route import Route
from bot.templates import TemplateError, Templates

MAX_CONFIG_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: Matchers
    target: Matchers
    equal: tuple[str, ...]


@dataclass(slots=True)
class Config:
    """A loaded, validated configuration and the runtime objects built from it."""

    file: str
    text: str
    model: AlertmanagerConfig
    route: Route
    inhibit_rules: list[InhibitRule]
    time_intervals: dict[str, NamedTimeInterval]
    warnings: list[ConfigIssue] = field(default_factory=list)
    matchers_mode: MatchersMode = DEFAULT_MODE
    templates: Templates | None = None  # the defaults plus the `templates:` files
    template_error: str | None = None  # why a `templates:` file could not be loaded

    @property
    def resolve_timeout(self) -> float:
        return self.model.global_config.resolve_timeout

    def receiver_names(self) -> list[str]:
        return [r.name for r in self.model.receivers]


def read_config_text(path: str) -> str:
    """The file's text, or a ConfigError that says plainly why it cannot be read."""
    try:
        if os.path.isdir(path):
            raise ConfigError.single(path, "is a directory, not a configuration file")
        size = os.path.getsize(path)
        if size > MAX_CONFIG_BYTES:
            raise ConfigError.single(
                path, f"file is {size / 1024 / 1024:.1f} MiB; a configuration may be at most "
                      f"{MAX_CONFIG_BYTES // 1024 // 1024} MiB")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError.single(path, "no such file") from None
    except PermissionError:
        raise ConfigError.single(path, "permission denied") from None
    except IsADirectoryError:
        raise ConfigError.single(path, "is a directory, not a configuration file") from None
    except OSError as exc:
        raise ConfigError.single(path, exc.strerror or str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        what = {"invalid start byte": "invalid leading UTF-8 octet", "invalid continuation byte":
                "invalid trailing UTF-8 octet"}.get(exc.reason, "incomplete UTF-8 octet sequence")
        raise ConfigError.single(path, f"yaml: {what} (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                                       "is this a binary file?", line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ConfigError.single(path, "contains NUL bytes; is this a binary file?", line)
    return text.removeprefix("\ufeff")


def load_config(path: str, matchers_mode: MatchersMode = DEFAULT_MODE) -> Config:
    return load_config_text(read_config_text(path), path, matchers_mode)


def load_config_text(text: str, file: str = "routes.yaml", matchers_mode: MatchersMode = DEFAULT_MODE) -> Config:
    doc = parse_yaml(text, file)
    if doc.data is None:
        raise ConfigError.single(file, "no route provided in config")
    if not isinstance(doc.data, dict):
        kind = "!!seq" if isinstance(doc.data, list) else "!!str"
        raise ConfigError.single(file, f"cannot unmarshal {kind} into config.plain", 1)
    try:
        model = AlertmanagerConfig.model_validate(doc.data, context={"matchers_mode": matchers_mode})
    except ValidationError as exc:
        raise ConfigError(_issues_from_pydantic(exc, doc)) from None
    checker = Checker(model, doc, matchers_mode)
    checker.run()
    if checker.errors:
        raise ConfigError(_in_document_order(checker.errors))
    assert model.route is not None
    templates, template_error = _load_templates(model, file)
    if template_error is None:
        problems = check_inline_templates(model, doc, templates)
        if problems:
            raise ConfigError(problems)
    route = Route(model.route)
    rules = [InhibitRule(Matchers(r.source()), Matchers(r.target()), tuple(r.equal)) for r in model.inhibit_rules]
    intervals = {ti.name: ti for ti in model.mute_time_intervals + model.time_intervals}
    return Config(file, text, model, route, rules, intervals, checker.warnings, matchers_mode, templates, template_error)


def _load_templates(model: AlertmanagerConfig, file: str) -> tuple[Templates, str | None]:
    """Alertmanager resolves `templates:` globs relative to the config file's directory."""
    base = os.path.dirname(os.path.abspath(file))
    try:
        return Templates.from_globs(model.templates, base), None
    except TemplateError as exc:
        return Templates.default(), str(exc)
    except OSError as exc:
        return Templates.default(), f"{exc.filename}: {exc.strerror or exc}"


# The fields Alertmanager renders as templates, per integration.
_SLACK_FIELDS = ("channel", "username", "color", "title", "title_link", "pretext", "text", "message_text", "footer",
                 "fallback", "callback_id", "icon_emoji", "icon_url", "image_url", "thumb_url")
_PAGERDUTY_FIELDS = ("client", "client_url", "description", "severity", "class_", "component", "group", "source")


def _templated(model: AlertmanagerConfig) -> list[tuple[tuple[object, ...], str]]:
    out: list[tuple[tuple[object, ...], str]] = []
    for i, rcv in enumerate(model.receivers):
        for j, sc in enumerate(rcv.slack_configs):
            base = ("receivers", i, "slack_configs", j)
            out += [(base + (f,), getattr(sc, f)) for f in _SLACK_FIELDS]
            for k, fld in enumerate(sc.fields):
                out += [(base + ("fields", k, "title"), fld.title), (base + ("fields", k, "value"), fld.value)]
            for k, act in enumerate(sc.actions):
                out += [(base + ("actions", k, f), getattr(act, f)) for f in ("type", "text", "url", "style", "name", "value")]
        for j, pd in enumerate(rcv.pagerduty_configs):
            base = ("receivers", i, "pagerduty_configs", j)
            out += [(base + (f.rstrip("_") if f == "class_" else f,), getattr(pd, f)) for f in _PAGERDUTY_FIELDS]
            out += [(base + ("details", k), v) for k, v in pd.details.items()]
            for k, img in enumerate(pd.images):
                out += [(base + ("images", k, f), getattr(img, f)) for f in ("src", "alt", "href")]
            for k, link in enumerate(pd.links):
                out += [(base + ("links", k, f), getattr(link, f)) for f in ("href", "text")]
    return out


def check_inline_templates(model: AlertmanagerConfig, doc: YamlDocument, templates: Templates) -> list[ConfigIssue]:
    """Every templated field must parse and pass the static checks, so that nothing fails at 3 a.m."""
    issues = []
    for path, text in _templated(model):
        if not text or "{{" not in text:
            continue
        try:
            templates.check(text)
        except TemplateError as exc:
            line = doc.value_line(path)
            if line is not None and exc.line:
                # Block scalars start on the line after the key.
                raw = doc.raw_line(line)
                offset = 1 if raw.rstrip().endswith(("|", ">", "|-", ">-", "|+", ">+")) else 0
                line += exc.line - 1 + offset
            issues.append(ConfigIssue(doc.file, line, format_path(path), str(exc)))
    return issues


def _in_document_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    return sorted(issues, key=lambda i: (i.line if i.line is not None else 0))


_MESSAGES = {
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "string_type": "expected a string",
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "greater_than_equal": "must not be negative",
    "bool_parsing": "expected true or false",
}


def _issues_from_pydantic(exc: ValidationError, doc: YamlDocument) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = tuple(_clean_loc(err["loc"]))
        kind = err["type"]
        if kind == "extra_forbidden":
            message = f"field {loc[-1]} not found in type config.plain"
        elif kind in ("value_error", "assertion_error"):
            message = value_error_message(err["msg"])
        else:
            message = _MESSAGES.get(kind, err["msg"])
        issues.append(ConfigIssue(doc.file, doc.line(loc), format_path(loc), message))
    return _in_document_order(_dedupe(issues))


def _clean_loc(loc: tuple[Any, ...]) -> list[Any]:
    # pydantic inserts validator/union tags such as 'function-before[...]' into locations.
    return [p for p in loc if not (isinstance(p, str) and ("[" in p and p.endswith("]")))]


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen: set[str] = set()
    out = []
    for i in issues:
        if str(i) not in seen:
            seen.add(str(i))
            out.append(i)
    return out
