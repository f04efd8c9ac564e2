"""A port of Go 1.19's regexp/syntax parser (Perl flags, as regexp.Compile uses).

It exists for two reasons: to reject exactly the patterns Go rejects, with
Go's error text, and to hand bot.routing.goregex a parse tree it can render
for RE2. The structure follows Go's parse.go function by function, including
the parts that only look like optimisations (literal concatenation,
alternation factoring, the node free list): Go's size and nesting limits
count allocated nodes, so matching its errors means allocating as it does.

Go works on UTF-8 bytes; this port works on str. Lone surrogates stand for
the bytes of invalid UTF-8 (the 'surrogateescape' convention) and are
reported as Go reports invalid UTF-8. Walks over the tree are iterative:
trees may be up to 1000 deep, more than Python's recursion limit allows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from bot.routing import _goregex_tables as tables

# Operators, in Go's order: the parser compares them (sub.Op >= opPseudo,
# "make re3 the more complex of the two").
NO_MATCH: Final = 1
EMPTY_MATCH: Final = 2
LITERAL: Final = 3
CHAR_CLASS: Final = 4
ANY_CHAR_NOT_NL: Final = 5
ANY_CHAR: Final = 6
BEGIN_LINE: Final = 7
END_LINE: Final = 8
BEGIN_TEXT: Final = 9
END_TEXT: Final = 10
WORD_BOUNDARY: Final = 11
NO_WORD_BOUNDARY: Final = 12
CAPTURE: Final = 13
STAR: Final = 14
PLUS: Final = 15
QUEST: Final = 16
REPEAT: Final = 17
CONCAT: Final = 18
ALTERNATE: Final = 19
PSEUDO: Final = 128
LEFT_PAREN: Final = 128
VERTICAL_BAR: Final = 129

# Parse flags (syntax.Flags).
FOLD_CASE: Final = 1
CLASS_NL: Final = 4
DOT_NL: Final = 8
ONE_LINE: Final = 16
NON_GREEDY: Final = 32
PERL_X: Final = 64
UNICODE_GROUPS: Final = 128
WAS_DOLLAR: Final = 256
PERL: Final = CLASS_NL | ONE_LINE | PERL_X | UNICODE_GROUPS

MAX_RUNE: Final = 0x10FFFF
_MAX_HEIGHT: Final = 1000
_MAX_SIZE: Final = (128 << 20) // 40  # compiled Insts; an Inst is 40 bytes
_MAX_RUNES: Final = (128 << 20) // 4

# Error codes (syntax.ErrorCode); the text is part of Go's error string.
ERR_INTERNAL: Final = "regexp/syntax: internal error"
ERR_INVALID_CHAR_CLASS: Final = "invalid character class"
ERR_INVALID_CHAR_RANGE: Final = "invalid character class range"
ERR_INVALID_ESCAPE: Final = "invalid escape sequence"
ERR_INVALID_NAMED_CAPTURE: Final = "invalid named capture"
ERR_INVALID_PERL_OP: Final = "invalid or unsupported Perl syntax"
ERR_INVALID_REPEAT_OP: Final = "invalid nested repetition operator"
ERR_INVALID_REPEAT_SIZE: Final = "invalid repeat count"
ERR_INVALID_UTF8: Final = "invalid UTF-8"
ERR_MISSING_BRACKET: Final = "missing closing ]"
ERR_MISSING_PAREN: Final = "missing closing )"
ERR_MISSING_REPEAT_ARGUMENT: Final = "missing argument to repetition operator"
ERR_TRAILING_BACKSLASH: Final = "trailing backslash at end of expression"
ERR_UNEXPECTED_PAREN: Final = "unexpected )"
ERR_NESTING_DEPTH: Final = "expression nests too deeply"


class GoRegexError(ValueError):
    """A pattern Go's regexp.Compile rejects; str() is Go's err.Error()."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(code, expr)
        self.code = code
        self.expr = expr

    def __str__(self) -> str:
        return f"error parsing regexp: {self.code}: `{self.expr}`"


class _TooBig(Exception):
    """Go's panic(ErrInternalError / ErrNestingDepth): reported with the whole pattern."""

    def __init__(self, code: str) -> None:
        self.code = code


class Node:
    """syntax.Regexp. Identity matters: the size and height caches key on it."""

    __slots__ = ("op", "flags", "sub", "runes", "min", "max", "cap", "name")

    def __init__(self, op: int) -> None:
        self.op = op
        self.flags = 0
        self.sub: list[Node] = []
        self.runes: list[int] = []
        self.min = 0
        self.max = 0
        self.cap = 0
        self.name = ""


# --- Unicode helpers ---------------------------------------------------------

_FOLD: dict[int, int] = dict(zip(tables.SIMPLE_FOLD_PAIRS[::2], tables.SIMPLE_FOLD_PAIRS[1::2]))


def simple_fold(r: int) -> int:
    """unicode.SimpleFold: the next rune in r's case-folding orbit."""
    return _FOLD.get(r, r)


def fold_orbit(r: int) -> list[int]:
    """r and every rune case-equivalent to it, as Go's folded Inst matches them."""
    orbit = [r]
    f = simple_fold(r)
    while f != r:
        orbit.append(f)
        f = simple_fold(f)
    return orbit


def _min_fold_rune(r: int) -> int:
    if r < tables.MIN_FOLD or r > tables.MAX_FOLD:
        return r
    return min(fold_orbit(r))


def _is_surrogate(c: str) -> bool:
    return "\ud800" <= c <= "\udfff"


def _check_utf8(s: str) -> None:
    for i, c in enumerate(s):
        if _is_surrogate(c):
            raise GoRegexError(ERR_INVALID_UTF8, s[i:])


def _isalnum(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _unhex(c: int) -> int:
    if 0x30 <= c <= 0x39:
        return c - 0x30
    if 0x61 <= c <= 0x66:
        return c - 0x61 + 10
    if 0x41 <= c <= 0x46:
        return c - 0x41 + 10
    return -1


# --- Character class arithmetic (flat [lo, hi, lo, hi, ...] lists) ----------


def clean_class(r: list[int]) -> list[int]:
    """Sort ranges (lo ascending, hi descending) and merge overlapping or abutting ones."""
    pairs = sorted(zip(r[::2], r[1::2]), key=lambda p: (p[0], -p[1]))
    out: list[int] = []
    for lo, hi in pairs:
        if out and lo <= out[-1] + 1:
            if hi > out[-1]:
                out[-1] = hi
            continue
        out += (lo, hi)
    return out


def _append_range(r: list[int], lo: int, hi: int) -> list[int]:
    # Like Go: try to extend the last or the next-to-last range first.
    n = len(r)
    for i in (2, 4):
        if n >= i:
            rlo, rhi = r[n - i], r[n - i + 1]
            if lo <= rhi + 1 and rlo <= hi + 1:
                if lo < rlo:
                    r[n - i] = lo
                if hi > rhi:
                    r[n - i + 1] = hi
                return r
    r += (lo, hi)
    return r


def _append_folded_range(r: list[int], lo: int, hi: int) -> list[int]:
    if lo <= tables.MIN_FOLD and hi >= tables.MAX_FOLD:
        return _append_range(r, lo, hi)
    if hi < tables.MIN_FOLD or lo > tables.MAX_FOLD:
        return _append_range(r, lo, hi)
    if lo < tables.MIN_FOLD:
        r = _append_range(r, lo, tables.MIN_FOLD - 1)
        lo = tables.MIN_FOLD
    if hi > tables.MAX_FOLD:
        r = _append_range(r, tables.MAX_FOLD + 1, hi)
        hi = tables.MAX_FOLD
    fold = _FOLD
    for c in range(lo, hi + 1):
        r = _append_range(r, c, c)
        f = fold.get(c, c)
        while f != c:
            r = _append_range(r, f, f)
            f = fold.get(f, f)
    return r


def _append_literal(r: list[int], x: int, flags: int) -> list[int]:
    if flags & FOLD_CASE:
        return _append_folded_range(r, x, x)
    return _append_range(r, x, x)


def _append_class(r: list[int], x: list[int]) -> list[int]:
    for i in range(0, len(x), 2):
        r = _append_range(r, x[i], x[i + 1])
    return r


def _append_folded_class(r: list[int], x: list[int]) -> list[int]:
    for i in range(0, len(x), 2):
        r = _append_folded_range(r, x[i], x[i + 1])
    return r


def _append_negated_class(r: list[int], x: list[int]) -> list[int]:
    next_lo = 0
    for i in range(0, len(x), 2):
        lo, hi = x[i], x[i + 1]
        if next_lo <= lo - 1:
            r = _append_range(r, next_lo, lo - 1)
        next_lo = hi + 1
    if next_lo <= MAX_RUNE:
        r = _append_range(r, next_lo, MAX_RUNE)
    return r


def _append_table(r: list[int], table: tuple[int, ...]) -> list[int]:
    for i in range(0, len(table), 3):
        lo, hi, stride = table[i], table[i + 1], table[i + 2]
        if stride == 1:
            r = _append_range(r, lo, hi)
            continue
        for c in range(lo, hi + 1, stride):
            r = _append_range(r, c, c)
    return r


def _append_negated_table(r: list[int], table: tuple[int, ...]) -> list[int]:
    next_lo = 0
    for i in range(0, len(table), 3):
        lo, hi, stride = table[i], table[i + 1], table[i + 2]
        if stride == 1:
            if next_lo <= lo - 1:
                r = _append_range(r, next_lo, lo - 1)
            next_lo = hi + 1
            continue
        for c in range(lo, hi + 1, stride):
            if next_lo <= c - 1:
                r = _append_range(r, next_lo, c - 1)
            next_lo = c + 1
    if next_lo <= MAX_RUNE:
        r = _append_range(r, next_lo, MAX_RUNE)
    return r


def _negate_class(r: list[int]) -> list[int]:
    out: list[int] = []
    next_lo = 0
    for i in range(0, len(r), 2):
        lo, hi = r[i], r[i + 1]
        if next_lo <= lo - 1:
            out += (next_lo, lo - 1)
        next_lo = hi + 1
    if next_lo <= MAX_RUNE:
        out += (next_lo, MAX_RUNE)
    return out


_ANY_TABLE: Final = (0, 0xFFFF, 1, 0x10000, MAX_RUNE, 1)


def _unicode_table(name: str) -> tuple[tuple[int, ...] | None, tuple[int, ...] | None]:
    if name == "Any":
        return _ANY_TABLE, _ANY_TABLE
    if name in tables.CATEGORIES:
        return tables.CATEGORIES[name], tables.FOLD_CATEGORY.get(name)
    if name in tables.SCRIPTS:
        return tables.SCRIPTS[name], tables.FOLD_SCRIPT.get(name)
    return None, None


# Go's perl_groups.go: \d \s \w and the POSIX [:name:] classes, all ASCII.
_PERL_GROUPS: Final[dict[str, tuple[int, list[int]]]] = {}
_POSIX_GROUPS: Final[dict[str, tuple[int, list[int]]]] = {}


def _groups() -> None:
    perl = {"d": [0x30, 0x39], "s": [0x9, 0xA, 0xC, 0xD, 0x20, 0x20], "w": [0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A]}
    for k, v in perl.items():
        _PERL_GROUPS["\\" + k] = (+1, v)
        _PERL_GROUPS["\\" + k.upper()] = (-1, v)
    posix = {
        "alnum": [0x30, 0x39, 0x41, 0x5A, 0x61, 0x7A],
        "alpha": [0x41, 0x5A, 0x61, 0x7A],
        "ascii": [0x0, 0x7F],
        "blank": [0x9, 0x9, 0x20, 0x20],
        "cntrl": [0x0, 0x1F, 0x7F, 0x7F],
        "digit": [0x30, 0x39],
        "graph": [0x21, 0x7E],
        "lower": [0x61, 0x7A],
        "print": [0x20, 0x7E],
        "punct": [0x21, 0x2F, 0x3A, 0x40, 0x5B, 0x60, 0x7B, 0x7E],
        "space": [0x9, 0xD, 0x20, 0x20],
        "upper": [0x41, 0x5A],
        "word": [0x30, 0x39, 0x41, 0x5A, 0x5F, 0x5F, 0x61, 0x7A],
        "xdigit": [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
    }
    for k, v in posix.items():
        _POSIX_GROUPS[f"[:{k}:]"] = (+1, v)
        _POSIX_GROUPS[f"[:^{k}:]"] = (-1, v)


_groups()


# --- Tree walks (iterative) --------------------------------------------------


def _memo_walk(root: Node, cache: dict[Node, int], force: bool, combine: Callable[[Node, list[int]], int]) -> int:
    """Go's memoised recursion `f(re, force)`: cached children are not revisited."""
    if not force and root in cache:
        return cache[root]
    # Each frame: node, index of the next child, values of the children so far.
    frames: list[tuple[Node, list[int]]] = [(root, [])]
    while True:
        node, vals = frames[-1]
        if len(vals) < len(node.sub):
            child = node.sub[len(vals)]
            if child in cache:
                vals.append(cache[child])
            else:
                frames.append((child, []))
            continue
        frames.pop()
        value = combine(node, vals)
        cache[node] = value
        if not frames:
            return value
        frames[-1][1].append(value)


def _size_of(re: Node, subs: list[int]) -> int:
    op = re.op
    if op == LITERAL:
        size = len(re.runes)
    elif op in (CAPTURE, STAR):
        size = 2 + subs[0]  # star can be 1+ or 2+; Go assumes 2
    elif op in (PLUS, QUEST):
        size = 1 + subs[0]
    elif op == CONCAT:
        size = sum(subs)
    elif op == ALTERNATE:
        size = sum(subs) + (len(subs) - 1 if len(subs) > 1 else 0)
    elif op == REPEAT:
        sub = subs[0]
        if re.max == -1:
            size = 2 + sub if re.min == 0 else 1 + re.min * sub
        else:
            size = re.max * sub + (re.max - re.min)
    else:
        size = 0
    return max(size, 1)


def _height_of(re: Node, subs: list[int]) -> int:
    return 1 + max(subs, default=0)


def _repeat_is_valid(root: Node, n: int) -> bool:
    """Whether nested repetition counts stay within n copies (Go's repeatIsValid)."""
    todo = [(root, n)]
    while todo:
        re, n = todo.pop()
        if re.op == REPEAT:
            m = re.max
            if m == 0:
                continue
            if m < 0:
                m = re.min
            if m > n:
                return False
            if m > 0:
                n //= m
        todo.extend((sub, n) for sub in re.sub)
    return True


def equal(x: Node | None, y: Node | None) -> bool:
    """syntax.Regexp.Equal: identical structure."""
    todo = [(x, y)]
    while todo:
        a, b = todo.pop()
        if a is None or b is None:
            if a is not b:
                return False
            continue
        if a.op != b.op:
            return False
        op = a.op
        if op == END_TEXT:
            if a.flags & WAS_DOLLAR != b.flags & WAS_DOLLAR:
                return False
        elif op in (LITERAL, CHAR_CLASS):
            if a.runes != b.runes:
                return False
        elif op in (ALTERNATE, CONCAT):
            if len(a.sub) != len(b.sub):
                return False
            todo.extend(zip(a.sub, b.sub))
        elif op in (STAR, PLUS, QUEST):
            if a.flags & NON_GREEDY != b.flags & NON_GREEDY:
                return False
            todo.append((a.sub[0], b.sub[0]))
        elif op == REPEAT:
            if a.flags & NON_GREEDY != b.flags & NON_GREEDY or a.min != b.min or a.max != b.max:
                return False
            todo.append((a.sub[0], b.sub[0]))
        elif op == CAPTURE:
            if a.cap != b.cap or a.name != b.name:
                return False
            todo.append((a.sub[0], b.sub[0]))
    return True


def cap_names(root: Node) -> list[str]:
    """Names of the capturing groups by index; [0] is the whole match ("")."""
    caps: dict[int, str] = {}
    todo = [root]
    while todo:
        re = todo.pop()
        if re.op == CAPTURE:
            caps[re.cap] = re.name
        todo.extend(re.sub)
    names = [""] * (max(caps, default=0) + 1)
    for i, name in caps.items():
        names[i] = name
    return names


def _is_char_class(re: Node) -> bool:
    return (
        (re.op == LITERAL and len(re.runes) == 1)
        or re.op == CHAR_CLASS
        or re.op == ANY_CHAR_NOT_NL
        or re.op == ANY_CHAR
    )


def _match_rune(re: Node, r: int) -> bool:
    if re.op == LITERAL:
        return len(re.runes) == 1 and re.runes[0] == r
    if re.op == CHAR_CLASS:
        return any(re.runes[i] <= r <= re.runes[i + 1] for i in range(0, len(re.runes), 2))
    if re.op == ANY_CHAR_NOT_NL:
        return r != 0x0A
    return re.op == ANY_CHAR


def _merge_char_class(dst: Node, src: Node) -> None:
    """dst = dst|src; the caller ensures dst.op >= src.op."""
    if dst.op == ANY_CHAR_NOT_NL:
        if _match_rune(src, 0x0A):
            dst.op = ANY_CHAR
    elif dst.op == CHAR_CLASS:
        if src.op == LITERAL:
            dst.runes = _append_literal(dst.runes, src.runes[0], src.flags)
        else:
            dst.runes = _append_class(dst.runes, src.runes)
    elif dst.op == LITERAL:
        if src.runes[0] == dst.runes[0] and src.flags == dst.flags:
            return
        dst.op = CHAR_CLASS
        dst.runes = _append_literal([], dst.runes[0], dst.flags)
        dst.runes = _append_literal(dst.runes, src.runes[0], src.flags)


def _clean_alt(re: Node) -> None:
    if re.op == CHAR_CLASS:
        re.runes = clean_class(re.runes)
        if re.runes == [0, MAX_RUNE]:
            re.runes = []
            re.op = ANY_CHAR
        elif re.runes == [0, 0x09, 0x0B, MAX_RUNE]:
            re.runes = []
            re.op = ANY_CHAR_NOT_NL


# --- The parser ---------------------------------------------------------------


class _Parser:
    def __init__(self, s: str) -> None:
        self.s = s
        self.n = len(s)
        self.flags = PERL
        self.stack: list[Node] = []
        self.free: list[Node] = []  # Go's free list (LIFO)
        self.num_cap = 0
        self.num_regexp = 0
        self.num_runes = 0
        self.repeats = 0
        self.height: dict[Node, int] | None = None
        self.size: dict[Node, int] | None = None

    # Node allocation and limits.

    def new_regexp(self, op: int) -> Node:
        if self.free:
            re = self.free.pop()
            re.__init__(op)  # type: ignore[misc]  # reset in place, like *re = Regexp{}
        else:
            re = Node(op)
            self.num_regexp += 1
        return re

    def reuse(self, re: Node) -> None:
        if self.height is not None:
            self.height.pop(re, None)
        self.free.append(re)

    def check_limits(self, re: Node) -> None:
        if self.num_runes > _MAX_RUNES:
            raise _TooBig(ERR_INTERNAL)
        self.check_size(re)
        self.check_height(re)

    def check_size(self, re: Node) -> None:
        if self.size is None:
            # Cheap pre-check: only track sizes once nodes x repeat product could exceed the budget.
            if self.repeats == 0:
                self.repeats = 1
            if re.op == REPEAT:
                n = re.max
                if n == -1:
                    n = re.min
                if n <= 0:
                    n = 1
                if n > _MAX_SIZE // self.repeats:
                    self.repeats = _MAX_SIZE
                else:
                    self.repeats *= n
            if self.num_regexp < _MAX_SIZE // self.repeats:
                return
            self.size = {}
            for r in self.stack:
                self.check_size(r)
        if _memo_walk(re, self.size, True, _size_of) > _MAX_SIZE:
            raise _TooBig(ERR_INTERNAL)

    def check_height(self, re: Node) -> None:
        if self.num_regexp < _MAX_HEIGHT:
            return
        if self.height is None:
            self.height = {}
            for r in self.stack:
                self.check_height(r)
        if _memo_walk(re, self.height, True, _height_of) > _MAX_HEIGHT:
            raise _TooBig(ERR_NESTING_DEPTH)

    # Stack manipulation.

    def push(self, re: Node) -> Node | None:
        self.num_runes += len(re.runes)
        r = re.runes
        if re.op == CHAR_CLASS and len(r) == 2 and r[0] == r[1]:
            # Single rune.
            if self.maybe_concat(r[0], self.flags & ~FOLD_CASE):
                return None
            re.op = LITERAL
            re.runes = r[:1]
            re.flags = self.flags & ~FOLD_CASE
        elif re.op == CHAR_CLASS and (
            (
                len(r) == 4
                and r[0] == r[1]
                and r[2] == r[3]
                and simple_fold(r[0]) == r[2]
                and simple_fold(r[2]) == r[0]
            )
            or (len(r) == 2 and r[0] + 1 == r[1] and simple_fold(r[0]) == r[1] and simple_fold(r[1]) == r[0])
        ):
            # Case-insensitive rune like [Aa] or [Δδ].
            if self.maybe_concat(r[0], self.flags | FOLD_CASE):
                return None
            re.op = LITERAL
            re.runes = r[:1]
            re.flags = self.flags | FOLD_CASE
        else:
            self.maybe_concat(-1, 0)
        self.stack.append(re)
        self.check_limits(re)
        return re

    def maybe_concat(self, r: int, flags: int) -> bool:
        """Merge the top two literals; if r >= 0, reuse the top node for r and report True."""
        if len(self.stack) < 2:
            return False
        re1, re2 = self.stack[-1], self.stack[-2]
        if re1.op != LITERAL or re2.op != LITERAL or re1.flags & FOLD_CASE != re2.flags & FOLD_CASE:
            return False
        re2.runes.extend(re1.runes)  # Go appends in place; copying would be quadratic
        if r >= 0:
            re1.runes = [r]
            re1.flags = flags
            return True
        self.stack.pop()
        self.reuse(re1)
        return False

    def literal(self, r: int) -> None:
        re = self.new_regexp(LITERAL)
        re.flags = self.flags
        if self.flags & FOLD_CASE:
            r = _min_fold_rune(r)
        re.runes = [r]
        self.push(re)

    def op(self, op: int) -> Node:
        re = self.new_regexp(op)
        re.flags = self.flags
        pushed = self.push(re)
        assert pushed is not None  # only single-rune classes are absorbed
        return pushed

    def repeat(self, op: int, lo: int, hi: int, before: int, after: int, last_repeat: int) -> int:
        s = self.s
        flags = self.flags
        if after < self.n and s[after] == "?":
            after += 1
            flags ^= NON_GREEDY
        if last_repeat >= 0:
            # Perl forbids stacked repetition: a** is an error, a++ is possessive (unsupported).
            raise GoRegexError(ERR_INVALID_REPEAT_OP, s[last_repeat:after])
        if not self.stack or self.stack[-1].op >= PSEUDO:
            raise GoRegexError(ERR_MISSING_REPEAT_ARGUMENT, s[before:after])
        sub = self.stack[-1]
        re = self.new_regexp(op)
        re.min, re.max, re.flags = lo, hi, flags
        re.sub = [sub]
        self.stack[-1] = re
        self.check_limits(re)
        if op == REPEAT and (lo >= 2 or hi >= 2) and not _repeat_is_valid(re, 1000):
            raise GoRegexError(ERR_INVALID_REPEAT_SIZE, s[before:after])
        return after

    def _split_stack(self) -> list[Node]:
        """Pop everything above the topmost pseudo-op."""
        i = len(self.stack)
        while i > 0 and self.stack[i - 1].op < PSEUDO:
            i -= 1
        subs = self.stack[i:]
        del self.stack[i:]
        return subs

    def concat(self) -> Node | None:
        self.maybe_concat(-1, 0)
        subs = self._split_stack()
        if not subs:
            return self.push(self.new_regexp(EMPTY_MATCH))
        return self.push(self.collapse(subs, CONCAT))

    def alternate(self) -> Node | None:
        subs = self._split_stack()
        if subs:
            _clean_alt(subs[-1])
        if not subs:
            return self.push(self.new_regexp(NO_MATCH))
        return self.push(self.collapse(subs, ALTERNATE))

    def collapse(self, subs: list[Node], op: int) -> Node:
        if len(subs) == 1:
            return subs[0]
        re = self.new_regexp(op)
        for sub in subs:
            if sub.op == op:
                re.sub.extend(sub.sub)
                self.reuse(sub)
            else:
                re.sub.append(sub)
        if op == ALTERNATE:
            re.sub = self.factor(re.sub)
            if len(re.sub) == 1:
                old = re
                re = re.sub[0]
                self.reuse(old)
        return re

    def factor(self, sub: list[Node]) -> list[Node]:
        """Factor common prefixes out of an alternation, as Go does (ABC|ABD -> AB(?:C|D))."""
        if len(sub) < 2:
            return sub

        # Round 1: common literal prefixes.
        out: list[Node] = []
        prefix_runes: list[int] = []
        prefix_flags = 0
        start = 0
        for i in range(len(sub) + 1):
            irunes: list[int] = []
            iflags = 0
            if i < len(sub):
                irunes, iflags = self.leading_string(sub[i])
                if iflags == prefix_flags:
                    same = 0
                    while same < len(prefix_runes) and same < len(irunes) and prefix_runes[same] == irunes[same]:
                        same += 1
                    if same > 0:
                        prefix_runes = prefix_runes[:same]
                        continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                prefix = self.new_regexp(LITERAL)
                prefix.flags = prefix_flags
                prefix.runes = list(prefix_runes)
                for j in range(start, i):
                    sub[j] = self.remove_leading_string(sub[j], len(prefix_runes))
                    self.check_limits(sub[j])
                suffix = self.collapse(sub[start:i], ALTERNATE)
                re = self.new_regexp(CONCAT)
                re.sub = [prefix, suffix]
                out.append(re)
            start = i
            prefix_runes = irunes
            prefix_flags = iflags
        sub = out

        # Round 2: common leading character classes (or fixed repeats of one).
        out = []
        start = 0
        first: Node | None = None
        for i in range(len(sub) + 1):
            ifirst: Node | None = None
            if i < len(sub):
                ifirst = self.leading_regexp(sub[i])
                if (
                    first is not None
                    and equal(first, ifirst)
                    and (
                        _is_char_class(first)
                        or (first.op == REPEAT and first.min == first.max and _is_char_class(first.sub[0]))
                    )
                ):
                    continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                assert first is not None
                prefix = first
                for j in range(start, i):
                    sub[j] = self.remove_leading_regexp(sub[j], j != start)
                    self.check_limits(sub[j])
                suffix = self.collapse(sub[start:i], ALTERNATE)
                re = self.new_regexp(CONCAT)
                re.sub = [prefix, suffix]
                out.append(re)
            start = i
            first = ifirst
        sub = out

        # Round 3: runs of single literals or classes become one class.
        out = []
        start = 0
        for i in range(len(sub) + 1):
            if i < len(sub) and _is_char_class(sub[i]):
                continue
            if i == start:
                pass
            elif i == start + 1:
                out.append(sub[start])
            else:
                most = start
                for j in range(start + 1, i):
                    if sub[most].op < sub[j].op or (sub[most].op == sub[j].op and len(sub[most].runes) < len(sub[j].runes)):
                        most = j
                sub[start], sub[most] = sub[most], sub[start]
                for j in range(start + 1, i):
                    _merge_char_class(sub[start], sub[j])
                    self.reuse(sub[j])
                _clean_alt(sub[start])
                out.append(sub[start])
            if i < len(sub):
                out.append(sub[i])
            start = i + 1
        sub = out

        # Round 4: runs of empty matches become one.
        return [re for i, re in enumerate(sub) if not (i + 1 < len(sub) and re.op == EMPTY_MATCH and sub[i + 1].op == EMPTY_MATCH)]

    @staticmethod
    def leading_string(re: Node) -> tuple[list[int], int]:
        if re.op == CONCAT and re.sub:
            re = re.sub[0]
        if re.op != LITERAL:
            return [], 0
        return re.runes, re.flags & FOLD_CASE

    def remove_leading_string(self, re: Node, n: int) -> Node:
        if re.op == CONCAT and re.sub:
            sub = self.remove_leading_string(re.sub[0], n)
            re.sub[0] = sub
            if sub.op == EMPTY_MATCH:
                self.reuse(sub)
                if len(re.sub) <= 1:
                    re.op = EMPTY_MATCH
                    re.sub = []
                elif len(re.sub) == 2:
                    old = re
                    re = re.sub[1]
                    self.reuse(old)
                else:
                    del re.sub[0]
            return re
        if re.op == LITERAL:
            re.runes = re.runes[n:]
            if not re.runes:
                re.op = EMPTY_MATCH
        return re

    @staticmethod
    def leading_regexp(re: Node) -> Node | None:
        if re.op == EMPTY_MATCH:
            return None
        if re.op == CONCAT and re.sub:
            sub = re.sub[0]
            return None if sub.op == EMPTY_MATCH else sub
        return re

    def remove_leading_regexp(self, re: Node, reuse: bool) -> Node:
        if re.op == CONCAT and re.sub:
            if reuse:
                self.reuse(re.sub[0])
            del re.sub[0]
            if not re.sub:
                re.op = EMPTY_MATCH
            elif len(re.sub) == 1:
                old = re
                re = re.sub[0]
                self.reuse(old)
            return re
        if reuse:
            self.reuse(re)
        return self.new_regexp(EMPTY_MATCH)

    def swap_vertical_bar(self) -> bool:
        """If the top is an element above a '|', swap them; merge adjacent classes on the way."""
        st = self.stack
        n = len(st)
        if n >= 3 and st[n - 2].op == VERTICAL_BAR and _is_char_class(st[n - 1]) and _is_char_class(st[n - 3]):
            re1, re3 = st[n - 1], st[n - 3]
            if re1.op > re3.op:
                re1, re3 = re3, re1
                st[n - 3] = re3
            _merge_char_class(re3, re1)
            self.reuse(re1)
            st.pop()
            return True
        if n >= 2:
            re1, re2 = st[n - 1], st[n - 2]
            if re2.op == VERTICAL_BAR:
                if n >= 3:
                    _clean_alt(st[n - 3])
                st[n - 2] = re1
                st[n - 1] = re2
                return True
        return False

    def parse_vertical_bar(self) -> None:
        self.concat()
        if not self.swap_vertical_bar():
            self.op(VERTICAL_BAR)

    def parse_right_paren(self) -> None:
        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()
        self.alternate()
        if len(self.stack) < 2:
            raise GoRegexError(ERR_UNEXPECTED_PAREN, self.s)
        re1 = self.stack.pop()
        re2 = self.stack.pop()
        if re2.op != LEFT_PAREN:
            raise GoRegexError(ERR_UNEXPECTED_PAREN, self.s)
        self.flags = re2.flags  # restore flags at the time of the paren
        if re2.cap == 0:
            self.push(re1)
        else:
            re2.op = CAPTURE
            re2.sub = [re1]
            self.push(re2)

    # Lexical pieces. Positions index self.s; Go slices strings instead.

    def next_rune(self, pos: int) -> tuple[int, int]:
        if pos >= self.n:
            return 0xFFFD, pos  # utf8.DecodeRuneInString("") is (RuneError, 0): no error
        c = self.s[pos]
        if _is_surrogate(c):
            raise GoRegexError(ERR_INVALID_UTF8, self.s[pos:])
        return ord(c), pos + 1

    def parse_int(self, pos: int) -> tuple[int, int] | None:
        """A decimal integer without leading zeros; -1 when it is too big. None: not a number."""
        s, n = self.s, self.n
        if pos >= n or not "0" <= s[pos] <= "9":
            return None
        if pos + 1 < n and s[pos] == "0" and "0" <= s[pos + 1] <= "9":
            return None
        end = pos
        while end < n and "0" <= s[end] <= "9":
            end += 1
        value = 0
        for c in s[pos:end]:
            if value >= 100_000_000:
                value = -1
                break
            value = value * 10 + ord(c) - 0x30
        return value, end

    def parse_repeat(self, pos: int) -> tuple[int, int, int] | None:
        """{min}, {min,} or {min,max} at pos: (min, max, end); max -1 is unbounded, min -1 too big."""
        s, n = self.s, self.n
        pos += 1
        parsed = self.parse_int(pos)
        if parsed is None:
            return None
        lo, pos = parsed
        if pos >= n:
            return None
        if s[pos] != ",":
            hi = lo
        else:
            pos += 1
            if pos >= n:
                return None
            if s[pos] == "}":
                hi = -1
            else:
                parsed = self.parse_int(pos)
                if parsed is None:
                    return None
                hi, pos = parsed
                if hi < 0:
                    lo = -1
        if pos >= n or s[pos] != "}":
            return None
        return lo, hi, pos + 1

    def parse_perl_flags(self, t: int) -> int:
        """(?P<name>, (?flags), (?flags: at t (which starts with "(?")."""
        s = self.s
        if self.n - t > 4 and s[t + 2] == "P" and s[t + 3] == "<":
            end = s.find(">", t)
            if end < 0:
                _check_utf8(s[t:])
                raise GoRegexError(ERR_INVALID_NAMED_CAPTURE, s[t:])
            name = s[t + 4 : end]
            _check_utf8(name)
            if not name or not all(c == "_" or _isalnum(ord(c)) for c in name):
                raise GoRegexError(ERR_INVALID_NAMED_CAPTURE, s[t : end + 1])
            self.num_cap += 1
            re = self.op(LEFT_PAREN)
            re.cap = self.num_cap
            re.name = name
            return end + 1

        pos = t + 2
        flags = self.flags
        sign = +1
        saw_flag = False
        while pos < self.n:
            c, pos = self.next_rune(pos)
            ch = chr(c)
            if ch == "i":
                flags |= FOLD_CASE
                saw_flag = True
            elif ch == "m":
                flags &= ~ONE_LINE
                saw_flag = True
            elif ch == "s":
                flags |= DOT_NL
                saw_flag = True
            elif ch == "U":
                flags |= NON_GREEDY
                saw_flag = True
            elif ch == "-":
                if sign < 0:
                    break
                sign = -1
                # Invert so the sets above clear; inverted back at the end.
                flags = ~flags
                saw_flag = False
            elif ch in ":)":
                if sign < 0:
                    if not saw_flag:
                        break
                    flags = ~flags
                if ch == ":":
                    self.op(LEFT_PAREN)
                self.flags = flags
                return pos
            else:
                break
        raise GoRegexError(ERR_INVALID_PERL_OP, s[t:pos])

    def parse_escape(self, t: int) -> tuple[int, int]:
        """An escape sequence at t (a backslash): (rune, end)."""
        s = self.s
        pos = t + 1
        if pos >= self.n:
            raise GoRegexError(ERR_TRAILING_BACKSLASH, "")
        c, pos = self.next_rune(pos)
        ch = chr(c)
        if c < 0x80 and not _isalnum(c):
            return c, pos  # escaped punctuation is itself
        # Octal: \0..., or \1-\7 followed by another octal digit; a lone \1-\7 is a backreference (unsupported).
        if ch == "0" or ("1" <= ch <= "7" and pos < self.n and "0" <= s[pos] <= "7"):
            r = c - 0x30
            for _ in range(2):
                if pos >= self.n or not "0" <= s[pos] <= "7":
                    break
                r = r * 8 + ord(s[pos]) - 0x30
                pos += 1
            return r, pos
        elif ch == "x":
            if pos < self.n:
                c, pos = self.next_rune(pos)
                if c == ord("{"):
                    nhex = 0
                    r = 0
                    while pos < self.n:
                        c, pos = self.next_rune(pos)
                        if c == ord("}"):
                            if nhex:
                                return r, pos
                            break
                        v = _unhex(c)
                        if v < 0:
                            break
                        r = r * 16 + v
                        if r > MAX_RUNE:
                            break
                        nhex += 1
                else:
                    x = _unhex(c)
                    c, pos = self.next_rune(pos)
                    y = _unhex(c)
                    if x >= 0 and y >= 0:
                        return x * 16 + y, pos
        elif ch in _C_ESCAPES:
            return _C_ESCAPES[ch], pos
        raise GoRegexError(ERR_INVALID_ESCAPE, s[t:pos])

    def parse_class_char(self, pos: int, class_start: int) -> tuple[int, int]:
        if pos >= self.n:
            raise GoRegexError(ERR_MISSING_BRACKET, self.s[class_start:])
        if self.s[pos] == "\\":
            return self.parse_escape(pos)
        return self.next_rune(pos)

    def append_group(self, r: list[int], group: tuple[int, list[int]]) -> list[int]:
        sign, cls = group
        if self.flags & FOLD_CASE:
            cls = clean_class(_append_folded_class([], cls))
        return _append_negated_class(r, cls) if sign < 0 else _append_class(r, cls)

    def parse_perl_class_escape(self, pos: int, r: list[int]) -> tuple[list[int], int] | None:
        if pos + 1 >= self.n or self.s[pos] != "\\":
            return None
        group = _PERL_GROUPS.get(self.s[pos : pos + 2])
        if group is None:
            return None
        return self.append_group(r, group), pos + 2

    def parse_named_class(self, pos: int, r: list[int]) -> tuple[list[int], int] | None:
        s = self.s
        if s[pos : pos + 2] != "[:":
            return None
        i = s.find(":]", pos + 2)
        if i < 0:
            return None
        name = s[pos : i + 2]
        group = _POSIX_GROUPS.get(name)
        if group is None:
            raise GoRegexError(ERR_INVALID_CHAR_RANGE, name)
        return self.append_group(r, group), i + 2

    def parse_unicode_class(self, t: int, r: list[int]) -> tuple[list[int], int] | None:
        """\\pX, \\p{Name}, \\PX, \\P{^Name} at t; None if there is none."""
        s = self.s
        if not (t + 1 < self.n and s[t] == "\\" and s[t + 1] in "pP"):
            return None
        sign = -1 if s[t + 1] == "P" else +1
        c, pos = self.next_rune(t + 2)
        if c != ord("{"):
            seq = s[t:pos]
            name = seq[2:]
        else:
            end = s.find("}", t)
            if end < 0:
                _check_utf8(s[t:])
                raise GoRegexError(ERR_INVALID_CHAR_RANGE, s[t:])
            seq, pos = s[t : end + 1], end + 1
            name = s[t + 3 : end]
            _check_utf8(name)
        if name.startswith("^"):
            sign = -sign
            name = name[1:]
        table, fold = _unicode_table(name)
        if table is None:
            raise GoRegexError(ERR_INVALID_CHAR_RANGE, seq)
        if not self.flags & FOLD_CASE or fold is None:
            r = _append_table(r, table) if sign > 0 else _append_negated_table(r, table)
        else:
            tmp = clean_class(_append_table(_append_table([], table), fold))
            r = _append_class(r, tmp) if sign > 0 else _append_negated_class(r, tmp)
        return r, pos

    def parse_class(self, t: int) -> int:
        """A bracketed class at t; pushes it and returns the position after ']'."""
        s, n = self.s, self.n
        pos = t + 1
        re = self.new_regexp(CHAR_CLASS)
        re.flags = self.flags
        sign = +1
        if pos < n and s[pos] == "^":
            sign = -1
            pos += 1
        cls: list[int] = []
        first = True  # ']' is literal as the first character
        while pos >= n or s[pos] != "]" or first:
            first = False
            if n - pos > 2 and s[pos] == "[" and s[pos + 1] == ":":
                named = self.parse_named_class(pos, cls)
                if named is not None:
                    cls, pos = named
                    continue
            found = self.parse_unicode_class(pos, cls)
            if found is None:
                found = self.parse_perl_class_escape(pos, cls)
            if found is not None:
                cls, pos = found
                continue
            rng = pos
            lo, pos = self.parse_class_char(pos, t)
            hi = lo
            if n - pos >= 2 and s[pos] == "-" and s[pos + 1] != "]":  # [a-] means a or -
                hi, pos = self.parse_class_char(pos + 1, t)
                if hi < lo:
                    raise GoRegexError(ERR_INVALID_CHAR_RANGE, s[rng:pos])
            if self.flags & FOLD_CASE:
                cls = _append_folded_range(cls, lo, hi)
            else:
                cls = _append_range(cls, lo, hi)
        pos += 1
        cls = clean_class(cls)
        re.runes = _negate_class(cls) if sign < 0 else cls
        self.push(re)
        return pos

    def parse(self) -> Node:
        s, n = self.s, self.n
        t = 0
        last_repeat = -1
        while t < n:
            repeat = -1
            c = s[t]
            if c == "(":
                if t + 1 < n and s[t + 1] == "?":
                    t = self.parse_perl_flags(t)
                else:
                    self.num_cap += 1
                    self.op(LEFT_PAREN).cap = self.num_cap
                    t += 1
            elif c == "|":
                self.parse_vertical_bar()
                t += 1
            elif c == ")":
                self.parse_right_paren()
                t += 1
            elif c == "^":
                self.op(BEGIN_TEXT if self.flags & ONE_LINE else BEGIN_LINE)
                t += 1
            elif c == "$":
                if self.flags & ONE_LINE:
                    self.op(END_TEXT).flags |= WAS_DOLLAR
                else:
                    self.op(END_LINE)
                t += 1
            elif c == ".":
                self.op(ANY_CHAR if self.flags & DOT_NL else ANY_CHAR_NOT_NL)
                t += 1
            elif c == "[":
                t = self.parse_class(t)
            elif c in "*+?":
                op = STAR if c == "*" else PLUS if c == "+" else QUEST
                after = self.repeat(op, 0, 0, t, t + 1, last_repeat)
                repeat = t
                t = after
            elif c == "{":
                parsed = self.parse_repeat(t)
                if parsed is None:
                    self.literal(ord("{"))  # not a repeat: a literal brace
                    t += 1
                else:
                    lo, hi, after = parsed
                    if lo < 0 or lo > 1000 or hi > 1000 or (hi >= 0 and lo > hi):
                        raise GoRegexError(ERR_INVALID_REPEAT_SIZE, s[t:after])
                    after = self.repeat(REPEAT, lo, hi, t, after, last_repeat)
                    repeat = t
                    t = after
            elif c == "\\":
                t = self.parse_backslash(t)
            else:
                r, t = self.next_rune(t)
                self.literal(r)
            last_repeat = repeat

        self.concat()
        if self.swap_vertical_bar():
            self.stack.pop()
        self.alternate()
        if len(self.stack) != 1:
            raise GoRegexError(ERR_MISSING_PAREN, s)
        return self.stack[0]

    def parse_backslash(self, t: int) -> int:
        s, n = self.s, self.n
        if t + 1 < n:
            c = s[t + 1]
            if c in _ASSERTIONS:
                self.op(_ASSERTIONS[c])
                return t + 2
            if c == "C":
                raise GoRegexError(ERR_INVALID_ESCAPE, s[t : t + 2])  # any byte: unsupported
            if c == "Q":
                # \Q...\E: everything up to \E (or the end) is literal.
                end = s.find("\\E", t + 2)
                lit_end, after = (n, n) if end < 0 else (end, end + 2)
                pos = t + 2
                while pos < lit_end:
                    ch = s[pos]
                    if _is_surrogate(ch):
                        raise GoRegexError(ERR_INVALID_UTF8, s[pos:lit_end])
                    self.literal(ord(ch))
                    pos += 1
                return after

        re = self.new_regexp(CHAR_CLASS)
        re.flags = self.flags
        found = None
        if t + 1 < n and s[t + 1] in "pP":
            found = self.parse_unicode_class(t, [])
        if found is None:
            found = self.parse_perl_class_escape(t, [])
        if found is not None:
            re.runes, t = found
            self.push(re)
            return t
        self.reuse(re)
        r, t = self.parse_escape(t)
        self.literal(r)
        return t


_C_ESCAPES: Final = {"a": 0x07, "f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_ASSERTIONS: Final = {"A": BEGIN_TEXT, "b": WORD_BOUNDARY, "B": NO_WORD_BOUNDARY, "z": END_TEXT}


def parse(expr: str) -> Node:
    """Parse expr as Go's syntax.Parse(expr, syntax.Perl) does, raising GoRegexError like it."""
    try:
        return _Parser(expr).parse()
    except _TooBig as e:
        raise GoRegexError(e.code, expr) from None
