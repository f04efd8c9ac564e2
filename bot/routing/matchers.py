"""Label matchers with Alertmanager's grammar, semantics and printed form.

Two parsers exist, as in Alertmanager: the classic one (`pkg/labels/parse.go`, the only
one in Alertmanager 0.25) and the UTF-8 one (`matcher/parse`, today's). Today's
Alertmanager runs in *fallback* mode by default: it parses with both, and uses the
classic result whenever the classic parser accepts the input; the UTF-8 result only when
the classic parser rejects it; and the classic error when both reject it. `classic` and
`utf8` modes use one parser only (Alertmanager's `--enable-feature=classic-mode` and
`utf8-strict-mode`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.routing import goregex
from bot.routing.labels import go_quote

MatchersMode = Literal["fallback", "classic", "utf8"]
DEFAULT_MODE: MatchersMode = "fallback"


class MatcherError(ValueError):
    """A matcher that cannot be parsed or compiled; the message is Alertmanager's."""


class MatchType(enum.IntEnum):
    EQUAL = 0
    NOT_EQUAL = 1
    REGEXP = 2
    NOT_REGEXP = 3

    @property
    def op(self) -> str:
        return _OPS[self]

    @classmethod
    def from_api(cls, is_regex: bool, is_equal: bool) -> MatchType:
        """From the API's `isRegex`/`isEqual` pair."""
        if is_regex:
            return cls.REGEXP if is_equal else cls.NOT_REGEXP
        return cls.EQUAL if is_equal else cls.NOT_EQUAL


_OPS = {MatchType.EQUAL: "=", MatchType.NOT_EQUAL: "!=", MatchType.REGEXP: "=~", MatchType.NOT_REGEXP: "!~"}


@dataclass(frozen=True, slots=True, eq=False)
class Matcher:
    """One `name op value` condition; a missing label matches as the empty string."""

    type: MatchType
    name: str
    value: str
    _regex: goregex.GoRegexp | None = field(default=None, repr=False)

    @classmethod
    def new(cls, type_: MatchType, name: str, value: str) -> Matcher:
        """Builds a matcher, compiling regexes fully anchored as `^(?:value)$`."""
        regex = None
        if type_ in (MatchType.REGEXP, MatchType.NOT_REGEXP):
            try:
                regex = goregex.compile("^(?:" + value + ")$")
            except goregex.GoRegexError as exc:
                raise MatcherError(str(exc)) from None
        return cls(type_, name, value, regex)

    def matches(self, value: str) -> bool:
        t = self.type
        if t is MatchType.EQUAL:
            return value == self.value
        if t is MatchType.NOT_EQUAL:
            return value != self.value
        assert self._regex is not None
        if t is MatchType.REGEXP:
            return self._regex.match_string(value)
        return not self._regex.match_string(value)

    def matches_labels(self, labels: Mapping[str, str]) -> bool:
        return self.matches(labels.get(self.name, ""))

    @property
    def is_regex(self) -> bool:
        return self.type >= MatchType.REGEXP

    @property
    def is_equal(self) -> bool:
        return self.type in (MatchType.EQUAL, MatchType.REGEXP)

    def sort_key(self) -> tuple[str, str, int]:
        return (self.name, self.value, int(self.type))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Matcher):
            return NotImplemented
        return (self.type, self.name, self.value) == (other.type, other.name, other.value)

    def __hash__(self) -> int:
        return hash((self.type, self.name, self.value))

    def __str__(self) -> str:
        # Today's Alertmanager quotes the name (and Go-quotes the value) only when the name
        # holds a character the classic parser could not read back.
        if any(_is_reserved(ch) for ch in self.name):
            return f"{go_quote(self.name)}{self.type.op}{go_quote(self.value)}"
        return f'{self.name}{self.type.op}"{_openmetrics_escape(self.value)}"'


class Matchers(tuple[Matcher, ...]):
    """An AND of matchers, printed `{a="1",b=~"x"}` (no spaces)."""

    __slots__ = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        get = labels.get
        for m in self:
            if not m.matches(get(m.name, "")):
                return False
        return True

    def sorted(self) -> Matchers:
        return Matchers(sorted(self, key=Matcher.sort_key))

    def __str__(self) -> str:
        return "{" + ",".join(str(m) for m in self) + "}"


def _openmetrics_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


# Go's unicode.IsSpace.
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_RESERVED = frozenset('{}!=~,\\"\'`')


def _is_reserved(ch: str) -> bool:
    return ch in _GO_SPACE or ch in _RESERVED


# --------------------------------------------------------------------------------------
# Public entry points


def parse_matchers(text: str, mode: MatchersMode = DEFAULT_MODE) -> list[Matcher]:
    """Zero or more matchers, e.g. `{a="1", b=~"x.*"}` or `a=1,b!=2`."""
    if mode == "classic":
        return parse_matchers_classic(text)
    if mode == "utf8":
        return parse_matchers_utf8(text)
    try:
        return parse_matchers_classic(text)
    except MatcherError as classic_error:
        try:
            return parse_matchers_utf8(text)
        except MatcherError:
            raise classic_error from None


def parse_matcher(text: str, mode: MatchersMode = DEFAULT_MODE) -> Matcher:
    """Exactly one matcher, e.g. `a="1"`."""
    if mode == "classic":
        return parse_matcher_classic(text)
    if text.startswith("{") or text.endswith("}"):
        raise MatcherError(f"unexpected open or close brace: {text}")
    if mode == "utf8":
        return _single(parse_matchers_utf8(text))
    try:
        return parse_matcher_classic(text)
    except MatcherError as classic_error:
        try:
            return _single(parse_matchers_utf8(text))
        except MatcherError:
            raise classic_error from None


def _single(ms: list[Matcher]) -> Matcher:
    if len(ms) == 1:
        return ms[0]
    if not ms:
        raise MatcherError("no matchers")
    raise MatcherError(f"expected 1 matcher, found {len(ms)}")


# --------------------------------------------------------------------------------------
# The classic parser (Alertmanager <= 0.26; the fallback of today's)

_CLASSIC_SPACE = "\t\n\f\r "  # Go regexp's \s
_CLASSIC_OPS = ("=~", "=", "!=", "!~")  # the order of the alternation in Alertmanager's regex


def parse_matchers_classic(text: str) -> list[Matcher]:
    s = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = False
    escaped = False
    for ch in s:
        if ch == ",":
            if not inside_quotes:
                tokens.append("".join(token))
                token = []
                continue
        elif ch == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(ch)
    last = "".join(token).strip(_GO_TRIM_SPACE)
    if last:
        tokens.append(last)
    return [parse_matcher_classic(t) for t in tokens]


# strings.TrimSpace trims Unicode white space.
_GO_TRIM_SPACE = "".join(sorted(_GO_SPACE))


def _is_classic_name_start(ch: str) -> bool:
    return ch == "_" or ch == ":" or "a" <= ch <= "z" or "A" <= ch <= "Z"


def _is_classic_name_char(ch: str) -> bool:
    return _is_classic_name_start(ch) or "0" <= ch <= "9"


def parse_matcher_classic(s: str) -> Matcher:
    # Equivalent to matching `^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$`.
    n = len(s)
    i = 0
    while i < n and s[i] in _CLASSIC_SPACE:
        i += 1
    start = i
    if i >= n or not _is_classic_name_start(s[i]):
        raise MatcherError(f"bad matcher format: {s}")
    i += 1
    while i < n and _is_classic_name_char(s[i]):
        i += 1
    name = s[start:i]
    while i < n and s[i] in _CLASSIC_SPACE:
        i += 1
    op = next((o for o in _CLASSIC_OPS if s.startswith(o, i)), None)
    if op is None:
        raise MatcherError(f"bad matcher format: {s}")
    i += len(op)
    while i < n and s[i] in _CLASSIC_SPACE:
        i += 1
    raw = s[i:].rstrip(_CLASSIC_SPACE)
    original = raw

    expect_trailing_quote = False
    if raw.startswith('"'):
        raw = raw[1:]
        expect_trailing_quote = True
    value: list[str] = []
    escaped = False
    last = len(raw) - 1
    for idx, ch in enumerate(raw):
        if escaped:
            escaped = False
            if ch == "n":
                value.append("\n")
            elif ch in '"\\':
                value.append(ch)
            else:
                value.append("\\" + ch)
            continue
        if ch == "\\":
            if idx < last:
                escaped = True
                continue
            value.append("\\")
        elif ch == '"':
            if not expect_trailing_quote or idx < last:
                raise MatcherError(f"matcher value contains unescaped double quote: {original}")
            expect_trailing_quote = False
        else:
            value.append(ch)
    if expect_trailing_quote:
        raise MatcherError(f"matcher value contains unescaped double quote: {original}")
    return Matcher.new(_type_of(op), name, "".join(value))


def _type_of(op: str) -> MatchType:
    return {"=": MatchType.EQUAL, "!=": MatchType.NOT_EQUAL, "=~": MatchType.REGEXP, "!~": MatchType.NOT_REGEXP}[op]


# --------------------------------------------------------------------------------------
# The UTF-8 parser (today's Alertmanager, `matcher/parse`)

_EOF, _OPEN, _CLOSE, _COMMA, _EQ, _NEQ, _RE, _NRE, _QUOTED, _UNQUOTED = range(10)


@dataclass(slots=True)
class _Token:
    kind: int
    value: str
    start: int  # offsets into the input (characters)
    end: int
    col_start: int  # columns (runes), as Alertmanager prints them
    col_end: int


class _Lexer:
    def __init__(self, text: str) -> None:
        self.input = text
        self.start = 0
        self.pos = 0
        self.column = 0
        self.err: MatcherError | None = None

    def _error_expected(self, expected: str) -> MatcherError:
        if self.pos >= len(self.input):
            return MatcherError(f"{self.column}:{self.pos}: unexpected end of input, expected one of '{expected}'")
        return MatcherError(f"{self.column}:{self.pos}: {self.input[self.start:self.pos]}: expected one of '{expected}'")

    def _emit(self, kind: int) -> _Token:
        t = _Token(kind, self.input[self.start : self.pos], self.start, self.pos, self.column, self.pos)
        self.start = self.pos
        self.column = self.pos
        return t

    def scan(self) -> _Token:
        if self.err is not None:
            raise self.err
        text = self.input
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if ch == "{":
                return self._emit(_OPEN)
            if ch == "}":
                return self._emit(_CLOSE)
            if ch == ",":
                return self._emit(_COMMA)
            if ch in "=!":
                self.pos -= 1
                return self._guard(self._scan_operator)
            if ch == '"':
                self.pos -= 1
                return self._guard(self._scan_quoted)
            if not _is_reserved(ch):
                self.pos -= 1
                return self._scan_unquoted()
            if ch in _GO_SPACE:
                self.start = self.pos
                self.column = self.pos
                continue
            self.err = MatcherError(f"{self.column}:{self.pos}: {text[self.start:self.pos]}: invalid input")
            raise self.err
        return _Token(_EOF, "", self.pos, self.pos, self.column, self.pos)

    def _guard(self, scan: object) -> _Token:
        try:
            return scan()  # type: ignore[operator]
        except MatcherError as exc:
            self.err = exc
            raise

    def _accept(self, valid: str) -> bool:
        if self.pos < len(self.input) and self.input[self.pos] in valid:
            self.pos += 1
            return True
        return False

    def _scan_operator(self) -> _Token:
        if self._accept("!"):
            if self._accept("="):
                return self._emit(_NEQ)
            if self._accept("~"):
                return self._emit(_NRE)
            raise self._error_expected("=~")
        if self._accept("="):
            if self._accept("~"):
                return self._emit(_RE)
            return self._emit(_EQ)
        raise self._error_expected("!=")

    def _scan_quoted(self) -> _Token:
        text = self.input
        self.pos += 1  # the opening quote
        escaped = False
        while self.pos < len(text):
            ch = text[self.pos]
            self.pos += 1
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                return self._emit(_QUOTED)
        raise MatcherError(f"{self.column}:{self.pos}: {text[self.start:self.pos]}: missing end \"")

    def _scan_unquoted(self) -> _Token:
        text = self.input
        while self.pos < len(text) and not _is_reserved(text[self.pos]):
            self.pos += 1
        return self._emit(_UNQUOTED)

    def peek(self) -> _Token:
        saved = (self.start, self.pos, self.column)
        try:
            return self.scan()
        finally:
            self.start, self.pos, self.column = saved


class _EndOfInput(Exception):
    pass


class _Utf8Parser:
    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.matchers: list[Matcher] = []
        self.has_open_brace = False

    def parse(self) -> list[Matcher]:
        state = self._open_brace
        while state is not None:
            state = state()
        return self.matchers

    # helpers mirroring accept / acceptPeek / expect / expectPeek
    def _peek_kind(self, kinds: Sequence[int]) -> tuple[_Token, bool]:
        t = self.lexer.peek()
        if t.kind == _EOF:
            raise _EndOfInput
        return t, t.kind in kinds

    def _expect_peek(self, kinds: Sequence[int]) -> _Token:
        t, ok = self._peek_kind(kinds)
        if not ok:
            raise MatcherError(f"{t.col_start}:{t.col_end}: unexpected {t.value}")
        return t

    def _expect(self, kinds: Sequence[int]) -> _Token:
        t = self._expect_peek(kinds)
        self.lexer.scan()
        return t

    def _open_brace(self):  # type: ignore[no-untyped-def]
        try:
            t, ok = self._peek_kind((_OPEN,))
        except _EndOfInput:
            return self._eof
        if ok:
            self.lexer.scan()
            self.has_open_brace = True
        try:
            _, close = self._peek_kind((_CLOSE,))
        except _EndOfInput:
            return self._close_brace
        return self._close_brace if close else self._matcher

    def _close_brace(self):  # type: ignore[no-untyped-def]
        if self.has_open_brace:
            try:
                self._expect((_CLOSE,))
            except _EndOfInput:
                col = self.lexer.pos
                raise MatcherError(f"0:{col}: end of input: expected close brace") from None
            except MatcherError as exc:
                col = self.lexer.pos
                raise MatcherError(f"0:{col}: {exc}: expected close brace") from None
        else:
            try:
                self._expect((_CLOSE,))
            except (_EndOfInput, MatcherError):
                pass
            else:
                raise MatcherError(f"0:{self.lexer.pos}: }}: expected opening brace")
        return self._eof

    def _matcher(self):  # type: ignore[no-untyped-def]
        name_tok = self._expect_wrapped((_QUOTED, _UNQUOTED), "expected label name")
        name = self._unquote(name_tok)
        op_tok = self._expect_wrapped((_EQ, _NEQ, _RE, _NRE), "expected an operator such as '=', '!=', '=~' or '!~'")
        type_ = {_EQ: MatchType.EQUAL, _NEQ: MatchType.NOT_EQUAL, _RE: MatchType.REGEXP, _NRE: MatchType.NOT_REGEXP}[op_tok.kind]
        value_tok = self._expect_wrapped((_UNQUOTED, _QUOTED), "expected label value")
        value = self._unquote(value_tok)
        try:
            self.matchers.append(Matcher.new(type_, name, value))
        except MatcherError as exc:
            raise MatcherError(f"failed to create matcher: {exc}") from None
        return self._end_of_matcher

    def _expect_wrapped(self, kinds: Sequence[int], what: str) -> _Token:
        try:
            return self._expect(kinds)
        except _EndOfInput:
            raise MatcherError(f"end of input: {what}") from None
        except MatcherError as exc:
            raise MatcherError(f"{exc}: {what}") from None

    def _unquote(self, t: _Token) -> str:
        if t.kind != _QUOTED:
            return t.value
        try:
            return _go_unquote(t.value)
        except ValueError:
            raise MatcherError(f"{t.col_start}:{t.col_end}: {t.value}: invalid input") from None

    def _end_of_matcher(self):  # type: ignore[no-untyped-def]
        try:
            t = self._expect_peek((_COMMA, _CLOSE))
        except _EndOfInput:
            return self._close_brace
        except MatcherError as exc:
            raise MatcherError(f"{exc}: expected a comma or close brace") from None
        return self._comma if t.kind == _COMMA else self._close_brace

    def _comma(self):  # type: ignore[no-untyped-def]
        self._expect((_COMMA,))
        try:
            t = self._expect_peek((_CLOSE, _UNQUOTED, _QUOTED))
        except _EndOfInput:
            return self._close_brace
        except MatcherError as exc:
            raise MatcherError(f"{exc}: expected a matcher or close brace after comma") from None
        return self._close_brace if t.kind == _CLOSE else self._matcher

    def _eof(self):  # type: ignore[no-untyped-def]
        try:
            t = self.lexer.scan()
        except MatcherError as exc:
            raise MatcherError(f"{exc}: expected end of input") from None
        if t.kind != _EOF:
            raise MatcherError(f"{t.col_start}:{t.col_end}: {t.value}: expected end of input")
        return None


def parse_matchers_utf8(text: str) -> list[Matcher]:
    return _Utf8Parser(text).parse()


_SIMPLE_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 0x5C, '"': 0x22}


def _go_unquote(quoted: str) -> str:
    """Go's `strconv.Unquote` for a double-quoted literal, then a UTF-8 validity check."""
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        raise ValueError("invalid syntax")
    body = quoted[1:-1]
    if "\n" in body:
        raise ValueError("invalid syntax")
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch == '"':
            raise ValueError("invalid syntax")
        if ch != "\\":
            out += ch.encode("utf-8", "surrogatepass")
            i += 1
            continue
        i += 1
        if i >= n:
            raise ValueError("invalid syntax")
        c = body[i]
        i += 1
        if c in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[c])
        elif c == "x":
            out.append(_hex(body[i : i + 2], 2))
            i += 2
        elif c in "uU":
            width = 4 if c == "u" else 8
            code = _hex(body[i : i + width], width)
            i += width
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError("invalid syntax")
            out += chr(code).encode()
        elif "0" <= c <= "7":
            digits = body[i - 1 : i + 2]
            if len(digits) != 3 or any(not ("0" <= d <= "7") for d in digits):
                raise ValueError("invalid syntax")
            code = int(digits, 8)
            if code > 255:
                raise ValueError("invalid syntax")
            out.append(code)
            i += 2
        else:
            raise ValueError("invalid syntax")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("quoted string contains invalid UTF-8 code points") from None


def _hex(digits: str, width: int) -> int:
    if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
        raise ValueError("invalid syntax")
    return int(digits, 16)


def matchers_from_pairs(pairs: Iterable[tuple[str, str]], type_: MatchType) -> list[Matcher]:
    return [Matcher.new(type_, name, value) for name, value in pairs]
