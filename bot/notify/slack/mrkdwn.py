"""Text that came from alerts, made safe for Slack's mrkdwn, and cut to size without breaking it.

Slack has no escape character. What it documents: `&`, `<` and `>` must be written as
`&amp;`, `&lt;` and `&gt;` — which also stops `<!channel>`, `<@U123>`, `<!subteam^…>` and
`<https://evil|innocent>` from being read as a mention or a link. For the rest:

- `@channel`, `@here`, `@everyone` in plain text become mentions when a message is sent
  with `link_names` or a mrkdwn object without `verbatim`; a WORD JOINER after the `@`
  keeps them text whatever the flags (we also send `verbatim: true`).
- The formatting characters `*`, `_`, `~` and `` ` `` are written as the fallback of a
  `<!date>` token with an invalid format: Slack always renders a date token's fallback as
  plain text (the technique jsx-slack's `<Escape>` uses). A `>` at the start of a line
  (a quote) gets an invisible SOFT HYPHEN before it.
- Label values go into inline code (`escape_code`), where Slack applies no formatting and
  which copies back exactly; a backtick inside becomes MODIFIER LETTER GRAVE ACCENT.
- What a user's template places where it likes (`alert_text`, applied to every piece of alert
  data before a template sees it): the above, and never a token even right after the
  template's own `<`; an http(s) URL stays a working URL.

`fit` cuts text so that its *escaped* form fits a limit, never inside an entity or token.
Lengths are counted in UTF-16 code units (`slen`), never less than characters: whichever way
Slack counts its limits, an emoji-heavy text stays inside them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

WORD_JOINER = "\u2060"
SOFT_HYPHEN = "\u00ad"
ELLIPSIS = "…"
_FORMAT_CHARS = frozenset("*_~`")
_DATE_TOKEN = "<!date^00000000^{_}|%s>"
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def slen(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    n = len(text)
    if text.isascii():
        return n
    return n + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _entity(ch: str) -> str:
    if ch == "&":
        return "&amp;"
    if ch == "<":
        return "&lt;"
    if ch == ">":
        return "&gt;"
    return ch


def escape_text(text: str) -> str:
    """Alert text (an annotation, a name) as literal mrkdwn: no mention, link or formatting."""
    return "".join(_escape_pieces(text))


def _escape_pieces(text: str) -> list[str]:
    """One escaped piece per input character (so `fit` can stop between any two)."""
    text = _CONTROL.sub("", text)
    pieces: list[str] = []
    at_line_start = True
    broadcast_ends: set[int] = {m.start() + 1 for m in _BROADCAST.finditer(text)}
    for i, ch in enumerate(text):
        if ch in _FORMAT_CHARS:
            piece = _DATE_TOKEN % ch
        elif ch == ">" and at_line_start:
            piece = SOFT_HYPHEN + "&gt;"
        else:
            piece = _entity(ch)
        if i in broadcast_ends:
            piece = WORD_JOINER + piece
        pieces.append(piece)
        if ch == "\n":
            at_line_start = True
        elif not ch.isspace():
            at_line_start = False
    return pieces


_HTTP_URL = re.compile(r"^https?://\S+$")
_URL_CHARS = {"&": "&amp;", "<": "%3C", ">": "%3E", "|": "%7C"}
_BROADCAST_IN_URL = re.compile(r"@(?=(?:channel|here|everyone)\b)", re.IGNORECASE)
_TOKEN_SIGILS = ("!", "@", "#")


def alert_text(text: str) -> str:
    """The one rule for text an alert supplied (a label's name or value, an annotation, a
    `generatorURL`) that a template places into mrkdwn: it can never open, close or become a
    `<…>` token or a broadcast, wherever the template puts it.

    - An http(s) URL (the whole text, no whitespace) stays a working URL: `&` is written
      `&amp;` (as Slack wants it in a link), `<`, `>` and `|` are percent-encoded, and `@`
      before channel/here/everyone is `%40` — so `<{{ .GeneratorURL }}|graph>` links there,
      and it cannot end the link, relabel it or mention anyone.
    - Anything else is `escape_text` (entities, no formatting, broadcasts broken), and when it
      starts with `!`, `@` or `#` a WORD JOINER goes first: placed right after a template's own
      `<` it would otherwise become `<!channel>`, `<@U…>` or `<#C…>`.
    """
    text = _CONTROL.sub("", text)
    if _HTTP_URL.match(text):
        url = "".join(_URL_CHARS.get(ch, ch) for ch in text)
        return _BROADCAST_IN_URL.sub("%40", url)
    out = escape_text(text)
    return WORD_JOINER + out if out.startswith(_TOKEN_SIGILS) else out


def escape_code(text: str) -> str:
    """A value shown inside `inline code`: entities, no backtick, one line."""
    return "".join(_code_pieces(text))


def _code_pieces(text: str) -> list[str]:
    text = _CONTROL.sub("", text)
    broadcast_ends: set[int] = {m.start() + 1 for m in _BROADCAST.finditer(text)}
    out = []
    for i, ch in enumerate(text):
        if i in broadcast_ends:
            out.append(WORD_JOINER + _entity(ch))
        elif ch == "`":
            out.append("\u02cb")
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(_entity(ch))
    return out


def code(text: str, limit: int = 200) -> str:
    """`text` in inline code, at most `limit` characters including the backticks."""
    inner = fit(text, max(limit - 2, 1), _code_pieces)
    return f"`{inner}`" if inner else "``"


def fit(text: str, limit: int, pieces: Callable[[str], list[str]] = _escape_pieces) -> str:
    """The longest escaped prefix of `text` that fits `limit` characters; "…" marks a cut."""
    parts = pieces(text)
    sizes = [slen(p) for p in parts]
    if sum(sizes) <= limit:
        return "".join(parts)
    budget = limit - len(ELLIPSIS)
    out: list[str] = []
    used = 0
    for p, size in zip(parts, sizes, strict=True):
        if used + size > budget:
            break
        out.append(p)
        used += size
    return "".join(out) + ELLIPSIS if budget >= 0 else ""


def fit_text(text: str, limit: int) -> str:
    return fit(text, limit, _escape_pieces)


def plain(text: str, limit: int) -> str:
    """For `plain_text` objects (headers, buttons): no parsing happens there, only length counts."""
    text = _CONTROL.sub("", text).replace("\n", " ")
    if slen(text) <= limit:
        return text
    return _cut(text, limit - 1) + ELLIPSIS


def _cut(text: str, units: int) -> str:
    """The longest prefix of `text` within `units` UTF-16 code units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:i]
    return text


def truncate_mrkdwn(text: str, limit: int) -> str:
    """Trusted mrkdwn (a user's own template, our own markup) cut to `limit` without leaving a
    broken `<…>` token or entity at the end."""
    if slen(text) <= limit:
        return text
    cut = _cut(text, max(limit - 1, 0))
    lt = cut.rfind("<")
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ELLIPSIS
