"""Go `regexp` semantics in Python, in linear time.

Alertmanager compiles label-matcher values with Go's
`regexp.Compile("^(?:" + value + ")$")` and its templates call
`regexp.MatchString` and `Regexp.ReplaceAllString`. Python's `re` reads many
patterns differently (and can backtrack exponentially), so this module:

1. parses the pattern with a port of Go 1.19's regexp/syntax parser
   (bot.routing._goregex_syntax), raising GoRegexError with Go's exact
   error text for every pattern Go rejects;
2. renders the parse tree back into RE2 syntax in which every character
   class is spelled out as explicit code-point ranges built from Go's own
   Unicode tables (bot.routing._goregex_tables), and every flag-dependent
   construct (., ^, $, (?i), (?U)) is made explicit, so that RE2-C++
   cannot read anything differently from Go;
3. executes with google-re2 (linear time), reimplementing Go's
   ReplaceAllString / Expand loop on top of RE2's byte offsets.

Text is handled as UTF-8, like Go. A lone surrogate in an input string (which
is what invalid UTF-8 decodes to under 'surrogateescape') matches as U+FFFD,
as Go matches each invalid byte; results slice the original string.
"""

from __future__ import annotations

import bisect
import codecs
import functools
from collections.abc import Callable
from typing import Final

# The pybind11 core of google-re2: its public wrapper converts offsets and
# builds match objects on every call, which costs more than the match itself
# on alert routing's hot path. Both ship in the pinned google-re2 wheel.
from re2 import _re2

from bot.routing import _goregex_syntax as syn
from bot.routing import _goregex_tables as tables
from bot.routing._goregex_syntax import GoRegexError

__all__ = ["GoRegexError", "GoRegexLimitError", "GoRegexp", "compile", "match_string"]

_UNANCHORED: Final = _re2.RE2.Anchor.UNANCHORED
_NO_MATCH: Final = r"[^\x{0}-\x{10FFFF}]"
# RE2's default memory budget (8 MiB) cannot hold some programs Go accepts,
# e.g. \pL{1000}; retry with a larger one. Beyond 64 MiB (\pL{1000} four
# times over) give up rather than let one pattern take gigabytes.
_MAX_MEM_STEPS: Final = (8 << 20, 64 << 20)


class GoRegexLimitError(GoRegexError):
    """A pattern Go accepts but RE2 cannot hold in memory (a documented difference)."""

    def __str__(self) -> str:
        return f"regexp too large to execute: {self.code}: `{self.expr}`"


# --- Rendering a Go parse tree as RE2 syntax ---------------------------------


def _char(r: int) -> str:
    if r < 0x80 and (chr(r).isalnum() or r == 0x5F):
        return chr(r)
    return f"\\x{{{r:X}}}"


def _class(runes: list[int]) -> str:
    """A class from flat ranges. Surrogates are dropped: Go never decodes one from input."""
    parts = []
    for i in range(0, len(runes), 2):
        lo, hi = runes[i], runes[i + 1]
        for a, b in ((lo, min(hi, 0xD7FF)), (max(lo, 0xE000), hi)):
            if a <= b:
                parts.append(_char(a) if a == b else f"{_char(a)}-{_char(b)}")
    return f"[{''.join(parts)}]" if parts else _NO_MATCH


def _rune(r: int, fold: bool) -> str:
    if 0xD800 <= r <= 0xDFFF:
        return _NO_MATCH
    if fold:
        orbit = syn.fold_orbit(r)
        if len(orbit) > 1:
            return _class(syn.clean_class([x for c in orbit for x in (c, c)]))
    return _char(r)


_SIMPLE: Final = {
    syn.NO_MATCH: _NO_MATCH,
    syn.EMPTY_MATCH: "(?:)",
    syn.ANY_CHAR_NOT_NL: r"[^\n]",
    syn.ANY_CHAR: "(?s:.)",
    syn.BEGIN_LINE: "(?m:^)",
    syn.END_LINE: "(?m:$)",
    syn.BEGIN_TEXT: r"\A",
    syn.END_TEXT: r"\z",
    syn.WORD_BOUNDARY: r"\b",
    syn.NO_WORD_BOUNDARY: r"\B",
}
_REPEAT_OPS: Final = {syn.STAR: "*", syn.PLUS: "+", syn.QUEST: "?"}


def _is_atom(re: syn.Node) -> bool:
    """Whether re renders as one RE2 atom a repetition operator can follow."""
    return (
        (re.op == syn.LITERAL and len(re.runes) == 1)
        or re.op in (syn.CHAR_CLASS, syn.ANY_CHAR_NOT_NL, syn.ANY_CHAR, syn.CAPTURE, syn.NO_MATCH)
    )


def render(root: syn.Node) -> str:
    """RE2 syntax meaning exactly what the Go parse tree means, with no flags left implicit.

    Capturing groups stay in order and unnamed (Go allows duplicate names, RE2 does not).
    """
    out: list[str] = []
    todo: list[syn.Node | str] = [root]  # a stack: nodes to render, or text to emit
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        re = item
        op = re.op
        if op in _SIMPLE:
            out.append(_SIMPLE[op])
        elif op == syn.LITERAL:
            fold = bool(re.flags & syn.FOLD_CASE)
            out.extend(_rune(r, fold) for r in re.runes)
        elif op == syn.CHAR_CLASS:
            out.append(_class(re.runes))
        elif op == syn.CAPTURE:
            todo += [")", re.sub[0], "("]
        elif op in (syn.STAR, syn.PLUS, syn.QUEST, syn.REPEAT):
            if op == syn.REPEAT:
                suffix = f"{{{re.min}}}" if re.min == re.max else f"{{{re.min},{'' if re.max < 0 else re.max}}}"
            else:
                suffix = _REPEAT_OPS[op]
            if re.flags & syn.NON_GREEDY:
                suffix += "?"
            sub = re.sub[0]
            todo += [suffix, sub] if _is_atom(sub) else [")" + suffix, sub, "(?:"]
        elif op == syn.CONCAT:
            for sub in reversed(re.sub):
                todo += ([")", sub, "(?:"] if sub.op == syn.ALTERNATE else [sub])
        elif op == syn.ALTERNATE:
            for i, sub in enumerate(reversed(re.sub)):
                todo += [sub, "|"] if i < len(re.sub) - 1 else [sub]
        else:  # pragma: no cover - the parser leaves no pseudo-ops behind
            raise AssertionError(f"unexpected op {op}")
    return "".join(out)


def _has_op(root: syn.Node, op: int) -> bool:
    todo = [root]
    while todo:
        re = todo.pop()
        if re.op == op:
            return True
        todo.extend(re.sub)
    return False


# --- Fast path: anchored patterns with a small finite language ------------------

_FINITE_LIMIT: Final = 1024  # strings
_FINITE_CHARS: Final = 1024  # characters in the longest string
_FINITE_DEPTH: Final = 40


def _product(parts: list[set[str]]) -> set[str] | None:
    """All concatenations, or None past _FINITE_LIMIT strings or _FINITE_CHARS characters."""
    out = {""}
    longest = 0
    for part in parts:
        longest += max(map(len, part), default=0)
        if len(out) * len(part) > _FINITE_LIMIT or longest > _FINITE_CHARS:
            return None
        out = {a + b for a in out for b in part}
    return out


def _language(re: syn.Node, depth: int = 0) -> set[str] | None:
    """Every string re matches, if that is a small finite set of text (no assertions)."""
    if depth > _FINITE_DEPTH:
        return None
    op = re.op
    if op == syn.EMPTY_MATCH:
        return {""}
    if op == syn.NO_MATCH:
        return set()
    if op == syn.LITERAL:
        fold = bool(re.flags & syn.FOLD_CASE)
        return _product([{chr(c) for c in (syn.fold_orbit(r) if fold else [r]) if not 0xD800 <= c <= 0xDFFF} for r in re.runes])
    if op == syn.CHAR_CLASS:
        pairs = list(zip(re.runes[::2], re.runes[1::2]))
        if sum(hi - lo + 1 for lo, hi in pairs) > _FINITE_LIMIT:
            return None
        return {chr(c) for lo, hi in pairs for c in range(lo, hi + 1) if not 0xD800 <= c <= 0xDFFF}
    if op == syn.CAPTURE:
        return _language(re.sub[0], depth + 1)
    if op in (syn.CONCAT, syn.ALTERNATE):
        acc: set[str] | None = {""} if op == syn.CONCAT else set()
        for sub in re.sub:  # combining as we go, to give up early on long patterns
            lang = _language(sub, depth + 1)
            if lang is None or acc is None:
                return None
            acc = _product([acc, lang]) if op == syn.CONCAT else acc | lang
            if acc is not None and len(acc) > _FINITE_LIMIT:
                return None
        return acc
    if op == syn.QUEST or (op == syn.REPEAT and re.max >= 0):
        lo, hi = (0, 1) if op == syn.QUEST else (re.min, re.max)
        sub_lang = _language(re.sub[0], depth + 1)
        if sub_lang is None or hi * max(map(len, sub_lang), default=0) > _FINITE_CHARS:
            return None
        out: set[str] = set()
        power: set[str] | None = {""}  # sub_lang repeated k times
        for k in range(hi + 1):
            if power is None or len(out) > _FINITE_LIMIT:
                return None
            if k >= lo:
                out |= power
            power = _product([power, sub_lang])
        return out if len(out) <= _FINITE_LIMIT else None
    return None  # unbounded repetition, any-character, or an assertion


def _flatten(nodes: list[syn.Node]) -> list[syn.Node]:
    """Concatenated items, with captures unwrapped (groups do not change what matches)."""
    out: list[syn.Node] = []
    todo = list(reversed(nodes))
    while todo:
        re = todo.pop()
        if re.op == syn.CAPTURE:
            todo.append(re.sub[0])
        elif re.op == syn.CONCAT:
            todo.extend(reversed(re.sub))
        else:
            out.append(re)
    return out


def _glob_matcher(pieces: tuple[str, ...], newline_ok: bool) -> Callable[[str], bool]:
    """Whether s is pieces[0] + * + pieces[1] + ... + * + pieces[-1], each * any text (without newlines
    unless newline_ok)."""
    first, last = pieces[0], pieces[-1]
    least = len(first) + len(last)
    if len(pieces) == 2:  # the common prefix-.* and .*-suffix shapes, kept to a few operations
        if newline_ok:
            return lambda s: len(s) >= least and s.startswith(first) and s.endswith(last)
        return lambda s: len(s) >= least and s.startswith(first) and s.endswith(last) and "\n" not in s

    def match(s: str) -> bool:
        if len(s) < least or not s.startswith(first) or not s.endswith(last):
            return False
        if not newline_ok and "\n" in s:
            return False
        pos, end = len(first), len(s) - len(last)
        for piece in pieces[1:-1]:
            i = s.find(piece, pos, end)  # leftmost is always right for literal globs
            if i < 0:
                return False
            pos = i + len(piece)
        return True

    return match


def _fast_matcher(tree: syn.Node) -> Callable[[str], bool] | None:
    """A pure-Python MatchString for the commonest matcher values, or None.

    Alertmanager anchors every value ("^(?:" + v + ")$"); when v is a small
    finite set of strings (foo|bar, (?i)critical) MatchString is set
    membership, and when it is literals around .* (prod-.*, .*-canary) it is
    a glob. Both skip a call into RE2, whose fixed cost dominates here.
    Patterns with U+FFFD are left to RE2: Go also matches U+FFFD against
    invalid UTF-8, which these shortcuts do not model.
    """
    subs = tree.sub if tree.op == syn.CONCAT else []
    if len(subs) < 2 or subs[0].op != syn.BEGIN_TEXT or subs[-1].op != syn.END_TEXT:
        return None
    middle = syn.Node(syn.CONCAT)
    middle.sub = subs[1:-1]
    lang = _language(middle)
    if lang is not None:
        return None if any("\ufffd" in x for x in lang) else frozenset(lang).__contains__

    pieces = [""]
    stars: set[int] = set()
    for item in _flatten(middle.sub):
        any_char = _flatten([item.sub[0]]) if item.op == syn.STAR else []
        if len(any_char) == 1 and any_char[0].op in (syn.ANY_CHAR, syn.ANY_CHAR_NOT_NL):
            stars.add(any_char[0].op)
            pieces.append("")
            continue
        lang = _language(item)
        if lang is None or len(lang) != 1:
            return None
        pieces[-1] += next(iter(lang))
        if len(pieces[-1]) > _FINITE_CHARS:
            return None
    if len(stars) != 1 or any("\ufffd" in p for p in pieces):
        return None
    newline_ok = stars == {syn.ANY_CHAR}
    if not newline_ok and any("\n" in p for p in pieces):
        return None
    return _glob_matcher(tuple(pieces), newline_ok)


def _re2_compile(pattern: str, expr: str, *, capture: bool) -> _re2.RE2:
    code = "unsupported by RE2"
    for max_mem in _MAX_MEM_STEPS:
        options = _re2.RE2.Options()
        options.log_errors = False  # RE2 would print parse errors to stderr
        options.max_mem = max_mem
        options.never_capture = not capture
        compiled = _re2.RE2(pattern.encode(), options)
        if compiled.ok():
            return compiled
        code = compiled.error().decode(errors="replace")
        if "too large" not in code:
            break
    raise GoRegexLimitError(code, expr)


# --- Text: str <-> the UTF-8 bytes RE2 matches ------------------------------


def _fffd(err: UnicodeError) -> tuple[bytes, int]:
    """Encode each lone surrogate as U+FFFD (bytes: the UTF-8 encoder takes only ASCII str)."""
    assert isinstance(err, UnicodeEncodeError)
    return "\ufffd".encode() * (err.end - err.start), err.end


_FFFD_ERRORS: Final = "alertbot.goregex.fffd"
codecs.register_error(_FFFD_ERRORS, _fffd)


def _utf8(s: str) -> bytes:
    try:
        return s.encode()
    except UnicodeEncodeError:
        return s.encode("utf-8", _FFFD_ERRORS)


class _Text:
    """A str with its UTF-8 encoding; maps RE2 byte offsets back to str slices."""

    __slots__ = ("s", "b", "ascii", "exact", "_byte", "_char")

    def __init__(self, s: str) -> None:
        self.s = s
        try:
            self.b = s.encode()
            self.exact = True  # byte slices decode back to the very same text
        except UnicodeEncodeError:
            self.b = s.encode("utf-8", _FFFD_ERRORS)
            self.exact = False
        self.ascii = len(self.b) == len(s)
        self._byte = self._char = 0

    def char(self, offset: int) -> int:
        """The str index of a byte offset (cheap when called with increasing offsets)."""
        if self.ascii:
            return offset
        if offset < self._byte:
            self._byte = self._char = 0
        self._char += _re2.BytesToCharLen(self.b, self._byte, offset)
        self._byte = offset
        return self._char

    def slice(self, start: int, end: int) -> str:
        if self.ascii:
            return self.s[start:end]
        if self.exact:
            return self.b[start:end].decode()
        return self.s[self.char(start) : self.char(end)]  # keep the original surrogates


def _rune_width(b: bytes, i: int) -> int:
    """Width of the UTF-8 sequence at b[i]; 0 at the end (Go's DecodeRuneInString)."""
    if i >= len(b):
        return 0
    c = b[i]
    return 1 if c < 0x80 else 2 if c < 0xE0 else 3 if c < 0xF0 else 4


# --- Expand ($1, ${name}) --------------------------------------------------------


def _in_ranges(ranges: tuple[int, ...], r: int) -> bool:
    i = bisect.bisect_right(ranges, r)
    return i % 2 == 1 or (i > 0 and ranges[i - 1] == r)


def _is_name_char(c: str) -> bool:
    """Go's unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_'."""
    if c < "\x80":
        return c.isalnum() or c == "_"
    r = ord(c)
    return _in_ranges(tables.LETTER_RANGES, r) or _in_ranges(tables.DIGIT_RANGES, r)


def _extract(template: str, i: int) -> tuple[str, int, int] | None:
    """Go's extract: the name or number after a '$' at template[i:], and where it ends."""
    n = len(template)
    if i >= n:
        return None
    brace = template[i] == "{"
    if brace:
        i += 1
    start = i
    while i < n and _is_name_char(template[i]):
        i += 1
    if i == start:
        return None
    name = template[start:i]
    if brace:
        if i >= n or template[i] != "}":
            return None
        i += 1
    num = 0
    for c in name:
        if not "0" <= c <= "9" or num >= 100_000_000:
            num = -1
            break
        num = num * 10 + ord(c) - 0x30
    if name[0] == "0" and len(name) > 1:
        num = -1  # no leading zeros
    return name, num, i


# --- The compiled regexp ---------------------------------------------------------


class GoRegexp:
    """A compiled Go regexp: Go's results, RE2's linear-time execution."""

    __slots__ = ("expr", "num_subexp", "subexp_names", "re2_pattern", "_full", "_test", "_mid_char", "_fast")

    def __init__(self, expr: str) -> None:
        tree = syn.parse(expr)
        names = syn.cap_names(tree)
        self.expr = expr
        self.num_subexp = len(names) - 1
        self.subexp_names: tuple[str, ...] = tuple(names)
        self.re2_pattern = render(tree)
        self._mid_char = _has_op(tree, syn.NO_WORD_BOUNDARY)
        self._fast = _fast_matcher(tree)
        self._full = _re2_compile(self.re2_pattern, expr, capture=True)
        # match_string needs no submatches; a capture-free program lets RE2 stay in its DFA.
        self._test = self._full if self.num_subexp == 0 else _re2_compile(self.re2_pattern, expr, capture=False)

    def __repr__(self) -> str:
        return f"GoRegexp({self.expr!r})"

    def __str__(self) -> str:
        return self.expr

    def match_string(self, s: str) -> bool:
        """Go's MatchString: whether s contains any match (unanchored)."""
        fast = self._fast
        if fast is not None:
            return fast(s)
        try:
            b = s.encode()
        except UnicodeEncodeError:
            b = s.encode("utf-8", _FFFD_ERRORS)
        if self._mid_char:
            return self._search(self._test, b, 0) is not None
        return self._test.Match(_UNANCHORED, b, 0, len(b))[0][0] >= 0

    def _search(self, program: _re2.RE2, b: bytes, pos: int) -> list[tuple[int, int]] | None:
        """The leftmost match at or after byte pos that starts on a character boundary.

        RE2 steps through UTF-8 bytes, Go through characters: only an empty
        match made of \\B can start inside a multi-byte character, and Go never
        looks there, so such matches are skipped.
        """
        while True:
            spans: list[tuple[int, int]] = program.Match(_UNANCHORED, b, pos, len(b))
            start = spans[0][0]
            if start < 0:
                return None
            if not self._mid_char or start >= len(b) or not 0x80 <= b[start] < 0xC0:
                return spans
            pos = start + 1
            while pos < len(b) and 0x80 <= b[pos] < 0xC0:
                pos += 1

    def _spans(self, text: _Text, pos: int = 0) -> list[tuple[int, int]] | None:
        return self._search(self._full, text.b, pos)

    def find_string_submatch(self, s: str) -> list[str] | None:
        """Go's FindStringSubmatch: the leftmost match and its groups ("" when a group did not take part)."""
        text = _Text(s)
        spans = self._spans(text)
        if spans is None:
            return None
        return [text.slice(a, b) if a >= 0 else "" for a, b in spans]

    def find_string_submatch_index(self, s: str) -> list[int] | None:
        """Go's FindStringSubmatchIndex, in str indices (-1 for groups that did not take part)."""
        text = _Text(s)
        spans = self._spans(text)
        if spans is None:
            return None
        offsets = sorted({x for span in spans for x in span if x >= 0})
        index = {x: text.char(x) for x in offsets}
        return [index[x] if x >= 0 else -1 for span in spans for x in span]

    def replace_all_string(self, src: str, repl: str) -> str:
        """Go's ReplaceAllString: replace every match, expanding $1, ${1}, $name, ${name}, $$ in repl."""
        text = _Text(src)
        b = text.b
        end = len(b)
        expand = "$" in repl
        out: list[str] = []
        last_end = 0  # end of the most recent match
        pos = 0  # where to look for the next one
        while pos <= end:
            spans = self._spans(text, pos)
            if spans is None:
                break
            start, stop = spans[0]
            out.append(text.slice(last_end, start))
            # No replacement for an empty match right after the previous match:
            # a pattern matching both "x" and "" would otherwise replace twice.
            if stop > last_end or start == 0:
                out.append(self._expand(repl, text, spans) if expand else repl)
            last_end = stop
            # Advance past this match, and always by at least one character.
            width = _rune_width(b, pos)
            if pos + width > stop:
                pos += width
            elif pos + 1 > stop:
                pos += 1
            else:
                pos = stop
        out.append(text.slice(last_end, end))
        return "".join(out)

    def _expand(self, template: str, text: _Text, spans: list[tuple[int, int]]) -> str:
        out: list[str] = []
        i = 0
        while True:
            j = template.find("$", i)
            if j < 0:
                break
            out.append(template[i:j])
            i = j + 1
            if template.startswith("$", i):
                out.append("$")  # $$ is a literal $
                i += 1
                continue
            extracted = _extract(template, i)
            if extracted is None:
                out.append("$")  # malformed: the $ is literal
                continue
            name, num, i = extracted
            if num >= 0:
                group = num if num < len(spans) else -1
            else:
                group = next((k for k, n in enumerate(self.subexp_names) if n == name and spans[k][0] >= 0), -1)
            if group >= 0 and spans[group][0] >= 0:
                out.append(text.slice(*spans[group]))
        out.append(template[i:])
        return "".join(out)


@functools.lru_cache(maxsize=4096)
def _compile_cached(expr: str) -> GoRegexp:
    return GoRegexp(expr)


def compile(expr: str) -> GoRegexp:  # noqa: A001 - mirrors Go's regexp.Compile
    """Go's regexp.Compile(expr); raises GoRegexError with Go's message. Cached and thread-safe."""
    return _compile_cached(expr)


def match_string(pattern: str, s: str) -> bool:
    """Go's regexp.MatchString(pattern, s), as the `match` template function uses it."""
    return compile(pattern).match_string(s)
