"""`json.NewDecoder(body).Decode(&v)` as go-openapi runs it: the first JSON value of the body.

`decode_first(data)` returns that value as Python data (objects keep their key order), or
raises `EmptyBody` (Go's io.EOF: nothing but white space) or `GoSyntaxError` with Go's exact
message (`invalid character '}' looking for beginning of value`, `unexpected EOF`, ...).
Bytes after the first value are ignored, as Go's Decoder ignores them; invalid UTF-8 and
lone surrogate escapes become U+FFFD, as Go's decoder does.

Valid input is parsed by orjson; anything orjson refuses goes through a tokenizer that
reproduces Go's scanner, and only the token where the input goes wrong is run through a
byte-for-byte port of Go's state machine (so malformed megabytes cost no more than valid ones).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import orjson

from bot.routing.labels import go_quote

MAX_DEPTH = 10000  # encoding/json maxNestingDepth


class EmptyBody(ValueError):
    """The body holds no JSON value (Go: io.EOF)."""


class GoSyntaxError(ValueError):
    """Malformed JSON; str() is Go's message."""


def _go_replace(err: UnicodeDecodeError) -> tuple[str, int]:
    # Go's utf8.DecodeRune gives one U+FFFD per invalid byte.
    return "\ufffd", err.start + 1


codecs.register_error("go-json-replace", _go_replace)


def decode_first(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    return _Tokenizer(data).parse()


# ---------------------------------------------------------------------------------------------
# Go's scanner (encoding/json/scanner.go), used to name the error at the failing token.

_CONTINUE, _END, _ERROR = 0, 1, 2
_PARSE_OBJECT_KEY, _PARSE_OBJECT_VALUE, _PARSE_ARRAY_VALUE = 0, 1, 2


def _quote_char(c: int) -> str:
    if c == 0x27:
        return "'\\''"
    if c == 0x22:
        return "'\"'"
    return "'" + go_quote(chr(c))[1:-1] + "'"


def _is_space(c: int) -> bool:
    return c in (0x20, 0x09, 0x0D, 0x0A)


def _is_hex(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x61 <= c <= 0x66 or 0x41 <= c <= 0x46


class GoScanner:
    """A port of Go's scanner state machine; `step(c)` returns _CONTINUE, _END or _ERROR."""

    def __init__(self, parse_state: list[int] | None = None, step: str = "begin_value") -> None:
        self.parse_state = list(parse_state or [])
        self.step_name = step
        self.err: str | None = None
        self.end_top = False

    def step(self, c: int) -> int:
        return getattr(self, "_" + self.step_name)(c)

    def _error(self, c: int, context: str) -> int:
        self.step_name = "error_state"
        self.err = f"invalid character {_quote_char(c)} {context}"
        return _ERROR

    def _error_state(self, c: int) -> int:
        return _ERROR

    def _push(self, c: int, state: int) -> int:
        self.parse_state.append(state)
        if len(self.parse_state) <= MAX_DEPTH:
            return _CONTINUE
        return self._error(c, "exceeded max depth")

    def _pop(self) -> None:
        self.parse_state.pop()
        if not self.parse_state:
            self.step_name = "end_top"
            self.end_top = True
        else:
            self.step_name = "end_value"

    def _begin_value_or_empty(self, c: int) -> int:
        if _is_space(c):
            return _CONTINUE
        if c == 0x5D:
            return self._end_value(c)
        return self._begin_value(c)

    def _begin_value(self, c: int) -> int:
        if _is_space(c):
            return _CONTINUE
        if c == 0x7B:
            self.step_name = "begin_string_or_empty"
            return self._push(c, _PARSE_OBJECT_KEY)
        if c == 0x5B:
            self.step_name = "begin_value_or_empty"
            return self._push(c, _PARSE_ARRAY_VALUE)
        nxt = {0x22: "in_string", 0x2D: "neg", 0x30: "zero", 0x74: "t", 0x66: "f", 0x6E: "n"}.get(c)
        if nxt is not None:
            self.step_name = nxt
            return _CONTINUE
        if 0x31 <= c <= 0x39:
            self.step_name = "one"
            return _CONTINUE
        return self._error(c, "looking for beginning of value")

    def _begin_string_or_empty(self, c: int) -> int:
        if _is_space(c):
            return _CONTINUE
        if c == 0x7D:
            self.parse_state[-1] = _PARSE_OBJECT_VALUE
            return self._end_value(c)
        return self._begin_string(c)

    def _begin_string(self, c: int) -> int:
        if _is_space(c):
            return _CONTINUE
        if c == 0x22:
            self.step_name = "in_string"
            return _CONTINUE
        return self._error(c, "looking for beginning of object key string")

    def _end_value(self, c: int) -> int:
        if not self.parse_state:
            self.step_name = "end_top"
            self.end_top = True
            return self._end_top(c)
        if _is_space(c):
            self.step_name = "end_value"
            return _CONTINUE
        ps = self.parse_state[-1]
        if ps == _PARSE_OBJECT_KEY:
            if c == 0x3A:
                self.parse_state[-1] = _PARSE_OBJECT_VALUE
                self.step_name = "begin_value"
                return _CONTINUE
            return self._error(c, "after object key")
        if ps == _PARSE_OBJECT_VALUE:
            if c == 0x2C:
                self.parse_state[-1] = _PARSE_OBJECT_KEY
                self.step_name = "begin_string"
                return _CONTINUE
            if c == 0x7D:
                self._pop()
                return _CONTINUE
            return self._error(c, "after object key:value pair")
        if c == 0x2C:
            self.step_name = "begin_value"
            return _CONTINUE
        if c == 0x5D:
            self._pop()
            return _CONTINUE
        return self._error(c, "after array element")

    def _end_top(self, c: int) -> int:
        if not _is_space(c):
            self._error(c, "after top-level value")
        return _END

    def _in_string(self, c: int) -> int:
        if c == 0x22:
            self.step_name = "end_value"
            return _CONTINUE
        if c == 0x5C:
            self.step_name = "in_string_esc"
            return _CONTINUE
        if c < 0x20:
            return self._error(c, "in string literal")
        return _CONTINUE

    def _in_string_esc(self, c: int) -> int:
        if c in b'bfnrt\\/"':
            self.step_name = "in_string"
            return _CONTINUE
        if c == 0x75:
            self.step_name = "esc_u1"
            return _CONTINUE
        return self._error(c, "in string escape code")

    def _esc_u(self, c: int, nxt: str) -> int:
        if _is_hex(c):
            self.step_name = nxt
            return _CONTINUE
        return self._error(c, "in \\u hexadecimal character escape")

    def _esc_u1(self, c: int) -> int:
        return self._esc_u(c, "esc_u2")

    def _esc_u2(self, c: int) -> int:
        return self._esc_u(c, "esc_u3")

    def _esc_u3(self, c: int) -> int:
        return self._esc_u(c, "esc_u4")

    def _esc_u4(self, c: int) -> int:
        return self._esc_u(c, "in_string")

    def _neg(self, c: int) -> int:
        if c == 0x30:
            self.step_name = "zero"
            return _CONTINUE
        if 0x31 <= c <= 0x39:
            self.step_name = "one"
            return _CONTINUE
        return self._error(c, "in numeric literal")

    def _one(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return _CONTINUE
        return self._zero(c)

    def _zero(self, c: int) -> int:
        if c == 0x2E:
            self.step_name = "dot"
            return _CONTINUE
        if c in (0x65, 0x45):
            self.step_name = "e"
            return _CONTINUE
        return self._end_value(c)

    def _dot(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            self.step_name = "dot0"
            return _CONTINUE
        return self._error(c, "after decimal point in numeric literal")

    def _dot0(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return _CONTINUE
        if c in (0x65, 0x45):
            self.step_name = "e"
            return _CONTINUE
        return self._end_value(c)

    def _e(self, c: int) -> int:
        if c in (0x2B, 0x2D):
            self.step_name = "e_sign"
            return _CONTINUE
        return self._e_sign(c)

    def _e_sign(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            self.step_name = "e0"
            return _CONTINUE
        return self._error(c, "in exponent of numeric literal")

    def _e0(self, c: int) -> int:
        if 0x30 <= c <= 0x39:
            return _CONTINUE
        return self._end_value(c)

    def _literal(self, c: int, want: str, word: str, nxt: str) -> int:
        if c == ord(want):
            self.step_name = nxt
            return _CONTINUE
        return self._error(c, f"in literal {word} (expecting '{want}')")

    def _t(self, c: int) -> int:
        return self._literal(c, "r", "true", "tr")

    def _tr(self, c: int) -> int:
        return self._literal(c, "u", "true", "tru")

    def _tru(self, c: int) -> int:
        return self._literal(c, "e", "true", "end_value")

    def _f(self, c: int) -> int:
        return self._literal(c, "a", "false", "fa")

    def _fa(self, c: int) -> int:
        return self._literal(c, "l", "false", "fal")

    def _fal(self, c: int) -> int:
        return self._literal(c, "s", "false", "fals")

    def _fals(self, c: int) -> int:
        return self._literal(c, "e", "false", "end_value")

    def _n(self, c: int) -> int:
        return self._literal(c, "u", "null", "nu")

    def _nu(self, c: int) -> int:
        return self._literal(c, "l", "null", "nul")

    def _nul(self, c: int) -> int:
        return self._literal(c, "l", "null", "end_value")


# ---------------------------------------------------------------------------------------------
# The tokenizer: Go's grammar by regular expressions, values built without recursion.

_WS = re.compile(rb"[ \t\r\n]*")
_STRING = re.compile(rb'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPE = re.compile(rb'\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))')
_SIMPLE_ESCAPES = {b'"': '"', b"\\": "\\", b"/": "/", b"b": "\b", b"f": "\f", b"n": "\n", b"r": "\r", b"t": "\t"}

# What the tokenizer expects next, and the Go scanner step that corresponds to it.
_VALUE, _VALUE_OR_CLOSE, _KEY, _KEY_OR_CLOSE, _COLON, _AFTER = range(6)
_GO_STEP = {_VALUE: "begin_value", _VALUE_OR_CLOSE: "begin_value_or_empty", _KEY: "begin_string",
            _KEY_OR_CLOSE: "begin_string_or_empty", _COLON: "end_value", _AFTER: "end_value"}


def _unquote(raw: bytes) -> str:
    """Go's `unquote` of a string token (quotes included)."""
    body = raw[1:-1]
    if b"\\" not in body:
        return body.decode("utf-8", "go-json-replace")
    out: list[str] = []
    pos = 0
    n = len(body)
    while pos < n:
        m = _ESCAPE.search(body, pos)
        if m is None:
            out.append(body[pos:].decode("utf-8", "go-json-replace"))
            break
        out.append(body[pos:m.start()].decode("utf-8", "go-json-replace"))
        pos = m.end()
        if m.group(2) is not None:
            out.append(_SIMPLE_ESCAPES[m.group(2)])
            continue
        r = int(m.group(1), 16)
        if 0xD800 <= r <= 0xDFFF:
            nxt = _ESCAPE.match(body, pos)
            if 0xD800 <= r < 0xDC00 and nxt is not None and nxt.group(1) is not None:
                r2 = int(nxt.group(1), 16)
                if 0xDC00 <= r2 <= 0xDFFF:
                    out.append(chr(0x10000 + ((r - 0xD800) << 10) + (r2 - 0xDC00)))
                    pos = nxt.end()
                    continue
            r = 0xFFFD
        out.append(chr(r))
    return "".join(out)


def _number(raw: bytes) -> int | float:
    text = raw.decode()
    if "." in text or "e" in text or "E" in text:
        return float(text)
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.int_info); still a number, as for Go
        return float(text)


class _Frame:
    __slots__ = ("container", "key")

    def __init__(self, container: Any) -> None:
        self.container = container
        self.key: str | None = None


class _Tokenizer:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.stack: list[_Frame] = []

    def parse(self) -> Any:
        data = self.data
        n = len(data)
        pos = _WS.match(data, 0).end()  # type: ignore[union-attr]
        if pos >= n:
            raise EmptyBody("EOF")
        expect = _VALUE
        stack = self.stack
        while True:
            pos = _WS.match(data, pos).end()  # type: ignore[union-attr]
            if pos >= n:
                raise GoSyntaxError("unexpected EOF")
            c = data[pos]
            start = pos
            value: Any = None
            have_value = False
            if expect in (_VALUE, _VALUE_OR_CLOSE):
                if c == 0x5D and expect == _VALUE_OR_CLOSE:
                    frame = stack.pop()
                    value, have_value, pos = frame.container, True, pos + 1
                elif c == 0x7B or c == 0x5B:
                    if len(stack) + 1 > MAX_DEPTH:
                        self._fail(start, expect)
                    stack.append(_Frame({} if c == 0x7B else []))
                    expect = _KEY_OR_CLOSE if c == 0x7B else _VALUE_OR_CLOSE
                    pos += 1
                    continue
                elif c == 0x22:
                    m = _STRING.match(data, pos)
                    if m is None:
                        self._fail(start, expect)
                    value, have_value, pos = _unquote(m.group()), True, m.end()  # type: ignore[union-attr]
                elif c == 0x2D or 0x30 <= c <= 0x39:
                    m = _NUMBER.match(data, pos)
                    if m is None or (m.end() < n and data[m.end()] in b".eE0123456789"):
                        self._fail(start, expect)
                    value, have_value, pos = _number(m.group()), True, m.end()  # type: ignore[union-attr]
                else:
                    for word, lit in ((b"true", True), (b"false", False), (b"null", None)):
                        if data.startswith(word, pos):
                            value, have_value, pos = lit, True, pos + len(word)
                            break
                    else:
                        self._fail(start, expect)
            elif expect in (_KEY, _KEY_OR_CLOSE):
                if c == 0x7D and expect == _KEY_OR_CLOSE:
                    frame = stack.pop()
                    value, have_value, pos = frame.container, True, pos + 1
                elif c == 0x22:
                    m = _STRING.match(data, pos)
                    if m is None:
                        self._fail(start, expect)
                    stack[-1].key = _unquote(m.group())  # type: ignore[union-attr]
                    pos = m.end()  # type: ignore[union-attr]
                    expect = _COLON
                    continue
                else:
                    self._fail(start, expect)
            elif expect == _COLON:
                if c != 0x3A:
                    self._fail(start, expect)
                pos += 1
                expect = _VALUE
                continue
            else:  # _AFTER: a value ended inside a container
                top = stack[-1]
                if c == 0x2C:
                    expect = _KEY if isinstance(top.container, dict) else _VALUE
                    pos += 1
                    continue
                if (c == 0x7D and isinstance(top.container, dict)) or (c == 0x5D and isinstance(top.container, list)):
                    stack.pop()
                    value, have_value, pos = top.container, True, pos + 1
                else:
                    self._fail(start, expect)
            if have_value:
                if not stack:
                    return value
                top = stack[-1]
                if isinstance(top.container, dict):
                    top.container[top.key] = value
                else:
                    top.container.append(value)
                expect = _AFTER

    def _go_parse_state(self, expect: int) -> list[int]:
        states = []
        for i, frame in enumerate(self.stack):
            if isinstance(frame.container, list):
                states.append(_PARSE_ARRAY_VALUE)
            elif i == len(self.stack) - 1 and expect in (_KEY, _KEY_OR_CLOSE, _COLON):
                states.append(_PARSE_OBJECT_KEY)
            else:
                states.append(_PARSE_OBJECT_VALUE)
        return states

    def _fail(self, start: int, expect: int) -> None:
        """Runs Go's scanner from the token that starts at `start` to name the error."""
        scanner = GoScanner(self._go_parse_state(expect), _GO_STEP[expect])
        data = self.data
        for i in range(start, len(data)):
            r = scanner.step(data[i])
            if r == _ERROR:
                raise GoSyntaxError(scanner.err)
            if r == _END or scanner.end_top:
                break
        raise GoSyntaxError("unexpected EOF")
