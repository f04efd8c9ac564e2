"""Reading what people type after the slash command.

Slack sends the text with `&`, `<` and `>` as entities and may turn quotes into typographic
ones; both are undone first. Arguments are split at spaces, except inside double quotes and
braces, so `alertname="Disk full"` and `{team="ml", env="prod"}` stay one argument each.
Matchers use Alertmanager's syntax (one per argument, or a braced list); a comment follows
the matchers, optionally after `--`.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.config.durations import DurationError, parse_duration
from bot.notify.slack.mrkdwn import code
from bot.routing.matchers import Matcher, MatcherError, MatchersMode, parse_matcher, parse_matchers

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u2018": "'",
                         "\u2019": "'", "\u00a0": " "})
# Mentions that would ping many people; the bot never sends them.
BROADCAST = re.compile(r"<!(?:channel|here|everyone|subteam\^)[^>]*>|(?<![\w@])@(?:channel|here|everyone)\b",
                       re.IGNORECASE)
SHORT_ID = re.compile(r"^[0-9a-f]{8}$")
MAX_COMMENT = 500


class InputError(ValueError):
    """What was typed cannot be understood; `str()` says what is expected (mrkdwn)."""


class UnsafeInput(InputError):
    """What was typed would make the bot ping or mislead people (a broadcast mention)."""


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def normalize(text: str) -> str:
    """The command text as the person typed it."""
    return html.unescape(text or "").translate(_QUOTES).strip()


def tokens(text: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        quoted = False
        depth = 0
        while i < n:
            ch = text[i]
            if quoted:
                if ch == "\\" and i + 1 < n:
                    i += 2
                    continue
                if ch == '"':
                    quoted = False
            elif ch == '"':
                quoted = True
            elif ch == "{":
                depth += 1
            elif ch == "}":
                depth = max(depth - 1, 0)
            elif ch.isspace() and depth == 0:
                break
            i += 1
        out.append(Token(text[start:i], start, i))
    return out


def split_comment(text: str) -> tuple[str, str]:
    """(before, after) a standalone `--`; after is "" when there is none."""
    for t in tokens(text):
        if t.text == "--":
            return text[:t.start].strip(), text[t.end:].strip()
    return text.strip(), ""


def matcher_of(token: str, mode: MatchersMode) -> list[Matcher] | None:
    """The matchers one argument holds, or None when it is not a matcher."""
    if token.startswith("{"):
        try:
            return parse_matchers(token, mode)
        except MatcherError:
            return None
    if not any(op in token for op in ("=", "!=", "=~", "!~")):
        return None
    try:
        return [parse_matcher(token, mode)]
    except MatcherError:
        return None


def leading_matchers(text: str, mode: MatchersMode) -> tuple[list[Matcher], str]:
    """The matchers at the start of `text`, and what follows them (a comment)."""
    head, after = split_comment(text)
    found: list[Matcher] = []
    rest_at = len(head)
    for t in tokens(head):
        ms = matcher_of(t.text, mode)
        if ms is None:
            rest_at = t.start
            break
        found.extend(ms)
    rest = head[rest_at:].strip()
    if after:
        rest = (rest + " " + after).strip() if rest else after
    return found, rest


def strict_matchers(text: str, mode: MatchersMode) -> list[Matcher]:
    """Every argument must be a matcher (InputError names the first that is not)."""
    out: list[Matcher] = []
    for t in tokens(text):
        ms = matcher_of(t.text, mode)
        if ms is None:
            if t.text.startswith("{"):
                try:
                    parse_matchers(t.text, mode)
                except MatcherError as exc:
                    raise InputError(f"{code(t.text, 200)} is not a matcher list: {code(str(exc), 300)}") from None
            raise InputError(f"{code(t.text, 200)} is not a matcher (expected e.g. `alertname=\"DiskFull\"`, "
                             f"`severity=~\"critical|page\"`, `instance!=\"db-1\"`)")
        out.extend(ms)
    return out


def duration(text: str, what: str = "duration") -> float:
    try:
        seconds = parse_duration(text)
    except DurationError:
        raise InputError(f"{code(text, 60)} is not a {what} (expected e.g. 30m, 2h, 1d, 1h30m)") from None
    if seconds <= 0:
        raise InputError(f"the {what} must be longer than 0")
    return seconds


def comment(text: str) -> str:
    """A comment as given, checked: no broadcast mention, not too long."""
    text = text.strip()
    m = BROADCAST.search(text)
    if m:
        raise UnsafeInput(f"the comment contains {code(m.group(0), 60)}, a mention that would notify a whole "
                          "channel or group; the bot never sends those — remove it and try again")
    if len(text) > MAX_COMMENT:
        raise InputError(f"the comment is {len(text)} characters long; at most {MAX_COMMENT}, please")
    return text


@dataclass
class QueryArgs:
    expr: str
    range_s: float | None = None
    step_s: float | None = None
    datasource: str | None = None
    at: str | None = None
    into: str | None = None  # a group whose thread gets the answer


_OPTION = re.compile(r"^(range|step|datasource|at|in)=(\S+)$")


def query_args(text: str) -> QueryArgs:
    """`<promql> [range=1h] [step=1m] [datasource=name] [at=<time>] [in=<group>]` (options last)."""
    parts = tokens(text)
    opts: dict[str, str] = {}
    end = len(text)
    while parts:
        m = _OPTION.match(parts[-1].text)
        if m is None or m.group(1) in opts:
            break
        opts[m.group(1)] = m.group(2)
        end = parts[-1].start
        parts.pop()
    expr = text[:end].strip()
    if not expr:
        raise InputError("which query? e.g. `query sum by (job) (rate(http_requests_total[5m])) range=1h`")
    if "at" in opts:
        at_time(opts["at"])  # refused here when it is no time (QueryArgs keeps the text)
    args = QueryArgs(expr=expr, datasource=opts.get("datasource"), at=opts.get("at"), into=opts.get("in"))
    if "range" in opts:
        args.range_s = duration(opts["range"], "range")
    if "step" in opts:
        args.step_s = duration(opts["step"], "step")
        if args.range_s is None:
            raise InputError("`step=` needs `range=` (a step only makes sense for a range query)")
    return args


_FIRST_AT_S, _LAST_AT_S = 0, 253402300799  # 1970-01-01 to 9999-12-31T23:59:59Z: what the answer can show


def at_time(text: str) -> float:
    """`at=`: Unix seconds or an RFC 3339 time, as Unix seconds; InputError for anything else,
    including numbers no date can show (`at=99999999999999999999`, `inf`, `nan`)."""
    try:
        seconds = float(text)
    except ValueError:
        try:
            t = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            seconds = math.nan
        else:
            seconds = (t if t.tzinfo is not None else t.replace(tzinfo=UTC)).timestamp()
    if not _FIRST_AT_S <= seconds <= _LAST_AT_S:  # False for nan too
        raise InputError(f"{code('at=' + text, 80)}: expected Unix seconds or an RFC 3339 time such as "
                         "2026-01-01T20:45:00Z, between 1970 and 9999")
    return seconds
