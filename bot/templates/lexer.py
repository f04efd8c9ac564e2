"""Tokenizer for Go's text/template language (the Go 1.19 grammar Alertmanager 0.25 is built with).

The scanner works on a Python string; positions are character indices into that
string (error messages convert them to Go's byte columns). Lexing is eager: the
token list ends with either an EOF token or a single ERROR token carrying Go's
message, which the parser reports when it reaches it — exactly where Go's
lazily-run lexer would have reported it.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

# Token types. Keywords sort after KEYWORD so `typ > KEYWORD` tells them apart.
ERROR = 0
BOOL = 1
CHAR = 2
CHAR_CONSTANT = 3
COMMENT = 4
COMPLEX = 5
ASSIGN = 6
DECLARE = 7
EOF = 8
FIELD = 9
IDENTIFIER = 10
LEFT_DELIM = 11
LEFT_PAREN = 12
NUMBER = 13
PIPE = 14
RAW_STRING = 15
RIGHT_DELIM = 16
RIGHT_PAREN = 17
SPACE = 18
STRING = 19
TEXT = 20
VARIABLE = 21
KEYWORD = 22
BLOCK = 23
BREAK = 24
CONTINUE = 25
DOT = 26
DEFINE = 27
ELSE = 28
END = 29
IF = 30
NIL = 31
RANGE = 32
TEMPLATE = 33
WITH = 34

KEYWORDS = {
    ".": DOT,
    "block": BLOCK,
    "break": BREAK,
    "continue": CONTINUE,
    "define": DEFINE,
    "else": ELSE,
    "end": END,
    "if": IF,
    "range": RANGE,
    "nil": NIL,
    "template": TEMPLATE,
    "with": WITH,
}

LEFT_DELIM_TEXT = "{{"
RIGHT_DELIM_TEXT = "}}"
_LEFT_COMMENT = "/*"
_RIGHT_COMMENT = "*/"
_SPACE_CHARS = " \t\r\n"


class Token(NamedTuple):
    typ: int
    pos: int
    val: str
    line: int

    def describe(self) -> str:
        """The token as Go's item.String() prints it in parse errors."""
        from bot.templates.gofmt import go_quote

        if self.typ == EOF:
            return "EOF"
        if self.typ == ERROR:
            return self.val
        if self.typ > KEYWORD:
            return f"<{self.val}>"
        if len(self.val) > 10:
            # Go's %.10q: quote the first ten runes, then an ellipsis.
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def is_space(ch: str) -> bool:
    return ch in _SPACE_CHARS and ch != ""


def is_alphanumeric(ch: str) -> bool:
    """Go's isAlphaNumeric: '_' or a Unicode letter or a decimal digit (category Nd)."""
    if ch == "_":
        return True
    if ch == "":
        return False
    if ch.isascii():
        return ch.isalnum()
    cat = unicodedata.category(ch)
    return cat.startswith("L") or cat == "Nd"


def _is_ascii_printable(ch: str) -> bool:
    return " " <= ch <= "~"


def _go_rune_repr(ch: str) -> str:
    """Go's %#U: U+0041 'A' (the quoted form only for printable runes)."""
    code = ord(ch)
    text = f"U+{code:04X}"
    if ch.isprintable() and not (0xD800 <= code <= 0xDFFF):
        text += f" '{ch}'"
    return text


def _has_left_trim_marker(text: str, i: int) -> bool:
    return i + 1 < len(text) and text[i] == "-" and text[i + 1] in _SPACE_CHARS


def _has_right_trim_marker(text: str, i: int) -> bool:
    return i + 1 < len(text) and text[i] in _SPACE_CHARS and text[i + 1] == "-"


class _Lexer:
    def __init__(self, text: str, break_ok: bool, continue_ok: bool) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.line = 1
        self.start_line = 1
        self.paren_depth = 0
        self.break_ok = break_ok
        self.continue_ok = continue_ok
        self.tokens: list[Token] = []
        self.done = False

    # -- primitives -------------------------------------------------------
    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        if self.pos >= len(self.text):
            self.pos = len(self.text) + 1  # remember that EOF was consumed (Go's atEOF)
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        if ch == "\n":
            self.line += 1
        return ch

    def backup(self) -> None:
        if self.pos > len(self.text):
            self.pos = len(self.text)
            return
        if self.pos > 0:
            self.pos -= 1
            if self.text[self.pos] == "\n":
                self.line -= 1

    def emit(self, typ: int) -> None:
        self.tokens.append(Token(typ, self.start, self.text[self.start : self.pos], self.start_line))
        self.start = self.pos
        self.start_line = self.line

    def ignore(self) -> None:
        self.line += self.text.count("\n", self.start, self.pos)
        self.start = self.pos
        self.start_line = self.line

    def error(self, message: str) -> None:
        self.tokens.append(Token(ERROR, self.start, message, self.start_line))
        self.done = True

    def at_right_delim(self) -> tuple[bool, bool]:
        text, pos = self.text, self.pos
        if _has_right_trim_marker(text, pos) and text.startswith(RIGHT_DELIM_TEXT, pos + 2):
            return True, True
        if text.startswith(RIGHT_DELIM_TEXT, pos):
            return True, False
        return False, False

    def at_terminator(self) -> bool:
        ch = self.peek()
        if ch == "" or ch in _SPACE_CHARS or ch in ".,|:)(":
            return True
        return self.text.startswith(RIGHT_DELIM_TEXT, self.pos)

    # -- states -----------------------------------------------------------
    def run(self) -> list[Token]:
        state = self.lex_text
        while state is not None and not self.done:
            state = state()
        return self.tokens

    def lex_text(self):
        text = self.text
        x = text.find(LEFT_DELIM_TEXT, self.pos)
        if x >= 0:
            self.pos = x
            trim = 0
            if _has_left_trim_marker(text, x + len(LEFT_DELIM_TEXT)):
                segment = text[self.start : x]
                trim = len(segment) - len(segment.rstrip(_SPACE_CHARS))
            self.pos -= trim
            if self.pos > self.start:
                self.line += text.count("\n", self.start, self.pos)
                self.emit(TEXT)
            self.pos += trim
            self.ignore()
            return self.lex_left_delim
        self.pos = len(text)
        if self.pos > self.start:
            self.line += text.count("\n", self.start, self.pos)
            self.emit(TEXT)
        self.emit(EOF)
        return None

    def lex_left_delim(self):
        self.pos += len(LEFT_DELIM_TEXT)
        trim = _has_left_trim_marker(self.text, self.pos)
        after_marker = 2 if trim else 0
        if self.text.startswith(_LEFT_COMMENT, self.pos + after_marker):
            self.pos += after_marker
            self.ignore()
            return self.lex_comment
        self.emit(LEFT_DELIM)
        self.pos += after_marker
        self.ignore()
        self.paren_depth = 0
        return self.lex_inside_action

    def lex_comment(self):
        self.pos += len(_LEFT_COMMENT)
        i = self.text.find(_RIGHT_COMMENT, self.pos)
        if i < 0:
            self.error("unclosed comment")
            return None
        self.pos = i + len(_RIGHT_COMMENT)
        delim, trim = self.at_right_delim()
        if not delim:
            self.error("comment ends before closing delimiter")
            return None
        if trim:
            self.pos += 2
        self.pos += len(RIGHT_DELIM_TEXT)
        if trim:
            rest = self.text[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
        self.ignore()
        return self.lex_text

    def lex_right_delim(self):
        trim = _has_right_trim_marker(self.text, self.pos)
        if trim:
            self.pos += 2
            self.ignore()
        self.pos += len(RIGHT_DELIM_TEXT)
        self.emit(RIGHT_DELIM)
        if trim:
            rest = self.text[self.pos :]
            self.pos += len(rest) - len(rest.lstrip(_SPACE_CHARS))
            self.ignore()
        return self.lex_text

    def lex_inside_action(self):
        delim, _ = self.at_right_delim()
        if delim:
            if self.paren_depth == 0:
                return self.lex_right_delim
            self.error("unclosed left paren")
            return None
        ch = self.next()
        if ch == "":
            self.error("unclosed action")
            return None
        if ch in _SPACE_CHARS:
            self.backup()
            return self.lex_space
        if ch == "=":
            self.emit(ASSIGN)
        elif ch == ":":
            if self.next() != "=":
                self.error("expected :=")
                return None
            self.emit(DECLARE)
        elif ch == "|":
            self.emit(PIPE)
        elif ch == '"':
            return self.lex_quote
        elif ch == "`":
            return self.lex_raw_quote
        elif ch == "$":
            return self.lex_variable
        elif ch == "'":
            return self.lex_char
        elif ch == "." and self.pos < len(self.text) and not ("0" <= self.text[self.pos] <= "9"):
            return self.lex_field
        elif ch == "." or ch == "+" or ch == "-" or "0" <= ch <= "9":
            self.backup()
            return self.lex_number
        elif is_alphanumeric(ch):
            self.backup()
            return self.lex_identifier
        elif ch == "(":
            self.emit(LEFT_PAREN)
            self.paren_depth += 1
        elif ch == ")":
            self.emit(RIGHT_PAREN)
            self.paren_depth -= 1
            if self.paren_depth < 0:
                self.error(f"unexpected right paren {_go_rune_repr(ch)}")
                return None
        elif ord(ch) < 128 and _is_ascii_printable(ch):
            self.emit(CHAR)
        else:
            self.error(f"unrecognized character in action: {_go_rune_repr(ch)}")
            return None
        return self.lex_inside_action

    def lex_space(self):
        num_spaces = 0
        while True:
            ch = self.peek()
            if ch == "" or ch not in _SPACE_CHARS:
                break
            self.next()
            num_spaces += 1
        # A trim-marked right delimiter starts with a space; leave it for lex_right_delim.
        if _has_right_trim_marker(self.text, self.pos - 1) and self.text.startswith(RIGHT_DELIM_TEXT, self.pos + 1):
            self.backup()
            if num_spaces == 1:
                return self.lex_right_delim
        self.emit(SPACE)
        return self.lex_inside_action

    def lex_identifier(self):
        while True:
            ch = self.next()
            if is_alphanumeric(ch):
                continue
            self.backup()
            word = self.text[self.start : self.pos]
            if not self.at_terminator():
                self.error(f"bad character {_go_rune_repr(ch) if ch else 'U+FFFFFFFF'}")
                return None
            keyword = KEYWORDS.get(word)
            if keyword is not None and keyword > KEYWORD:
                if (keyword == BREAK and not self.break_ok) or (keyword == CONTINUE and not self.continue_ok):
                    self.emit(IDENTIFIER)
                else:
                    self.emit(keyword)
            elif word[0] == ".":
                self.emit(FIELD)
            elif word in ("true", "false"):
                self.emit(BOOL)
            else:
                self.emit(IDENTIFIER)
            return self.lex_inside_action

    def lex_field(self):
        return self._lex_field_or_variable(FIELD)

    def lex_variable(self):
        if self.at_terminator():
            self.emit(VARIABLE)
            return self.lex_inside_action
        return self._lex_field_or_variable(VARIABLE)

    def _lex_field_or_variable(self, typ: int):
        if self.at_terminator():
            self.emit(VARIABLE if typ == VARIABLE else DOT)
            return self.lex_inside_action
        while True:
            ch = self.next()
            if not is_alphanumeric(ch):
                self.backup()
                break
        if not self.at_terminator():
            self.error(f"bad character {_go_rune_repr(ch) if ch else 'U+FFFFFFFF'}")
            return None
        self.emit(typ)
        return self.lex_inside_action

    def lex_char(self):
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt != "" and nxt != "\n":
                    continue
                self.error("unterminated character constant")
                return None
            if ch == "" or ch == "\n":
                self.error("unterminated character constant")
                return None
            if ch == "'":
                break
        self.emit(CHAR_CONSTANT)
        return self.lex_inside_action

    def lex_number(self):
        if not self._scan_number():
            self.error(f"bad number syntax: {_quote(self.text[self.start : self.pos])}")
            return None
        sign = self.peek()
        if sign in ("+", "-") and sign != "":
            if not self._scan_number() or self.text[self.pos - 1] != "i":
                self.error(f"bad number syntax: {_quote(self.text[self.start : self.pos])}")
                return None
            self.emit(COMPLEX)
        else:
            self.emit(NUMBER)
        return self.lex_inside_action

    def _accept(self, valid: str) -> bool:
        ch = self.next()
        if ch != "" and ch in valid:
            return True
        self.backup()
        return False

    def _accept_run(self, valid: str) -> None:
        while True:
            ch = self.next()
            if ch == "" or ch not in valid:
                break
        self.backup()

    def _scan_number(self) -> bool:
        self._accept("+-")
        digits = "0123456789_"
        if self._accept("0"):
            if self._accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif self._accept("oO"):
                digits = "01234567_"
            elif self._accept("bB"):
                digits = "01_"
        self._accept_run(digits)
        if self._accept("."):
            self._accept_run(digits)
        if len(digits) == 11 and self._accept("eE"):
            self._accept("+-")
            self._accept_run("0123456789_")
        if len(digits) == 23 and self._accept("pP"):
            self._accept("+-")
            self._accept_run("0123456789_")
        self._accept("i")
        if is_alphanumeric(self.peek()):
            self.next()
            return False
        return True

    def lex_quote(self):
        while True:
            ch = self.next()
            if ch == "\\":
                nxt = self.next()
                if nxt != "" and nxt != "\n":
                    continue
                self.error("unterminated quoted string")
                return None
            if ch == "" or ch == "\n":
                self.error("unterminated quoted string")
                return None
            if ch == '"':
                break
        self.emit(STRING)
        return self.lex_inside_action

    def lex_raw_quote(self):
        while True:
            ch = self.next()
            if ch == "":
                self.error("unterminated raw quoted string")
                return None
            if ch == "`":
                break
        self.emit(RAW_STRING)
        return self.lex_inside_action


def _quote(text: str) -> str:
    from bot.templates.gofmt import go_quote

    return go_quote(text)


def lex(text: str, *, break_ok: bool = True, continue_ok: bool = True) -> list[Token]:
    """Scan `text` into tokens; the list ends with an EOF or an ERROR token."""
    return _Lexer(text, break_ok, continue_ok).run()
