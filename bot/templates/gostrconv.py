"""The parts of Go's strconv that templates can observe: quoting, unquoting, number parsing and float formatting.

Strings are Python `str`; a byte that is not valid UTF-8 (which Go strings may hold,
for example after `slice` cuts a rune in half or `"\\xff"`) is carried as a
surrogate-escaped code point (U+DC80..U+DCFF), as `bytes.decode("utf-8", "surrogateescape")`
would produce it.
"""

from __future__ import annotations

import math
import re


class StrconvError(ValueError):
    """A conversion failed; the message is Go's (for example "invalid syntax")."""


def utf8_len(s: str) -> int:
    """len(s) as Go counts it: bytes of the UTF-8 encoding."""
    if s.isascii():
        return len(s)
    return len(s.encode("utf-8", "surrogateescape"))


def to_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def from_bytes(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def is_print(ch: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space."""
    if ch == " ":
        return True
    if 0xDC80 <= ord(ch) <= 0xDCFF:
        return False
    return ch.isprintable()


_SIMPLE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def _quote_with(s: str, quote: str, ascii_only: bool) -> str:
    out = [quote]
    for ch in s:
        code = ord(ch)
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
            continue
        if 0xDC80 <= code <= 0xDCFF:  # a raw byte that is not UTF-8
            out.append(f"\\x{code - 0xDC00:02x}")
            continue
        if ascii_only:
            if code < 0x80 and is_print(ch):
                out.append(ch)
                continue
        elif is_print(ch):
            out.append(ch)
            continue
        if ch in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
            out.append("\\ufffd")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append(quote)
    return "".join(out)


def quote(s: str) -> str:
    """strconv.Quote."""
    return _quote_with(s, '"', False)


def quote_to_ascii(s: str) -> str:
    """strconv.QuoteToASCII."""
    return _quote_with(s, '"', True)


def quote_rune(code: int, ascii_only: bool = False) -> str:
    """strconv.QuoteRune / QuoteRuneToASCII."""
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        code = 0xFFFD
    return _quote_with(chr(code), "'", ascii_only)


def can_backquote(s: str) -> bool:
    """strconv.CanBackquote."""
    for ch in s:
        code = ord(ch)
        if ch == "`" or ch == "\ufeff":
            return False
        if 0xDC80 <= code <= 0xDCFF:
            return False
        if code < 0x20 and ch != "\t":
            return False
        if code == 0x7F:
            return False
    return True


_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def unquote_char(s: str, i: int, quote: str) -> tuple[str, int]:
    """strconv.UnquoteChar on s[i:]: returns the decoded text and the next index."""
    if i >= len(s):
        raise StrconvError("invalid syntax")
    ch = s[i]
    if ch == quote and quote in "'\"":
        raise StrconvError("invalid syntax")
    if ch != "\\":
        return ch, i + 1
    if i + 1 >= len(s):
        raise StrconvError("invalid syntax")
    c = s[i + 1]
    i += 2
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    if c in simple:
        return simple[c], i
    if c in "xuU":
        n = {"x": 2, "u": 4, "U": 8}[c]
        digits = s[i : i + n]
        if len(digits) < n or any(d not in _HEX for d in digits):
            raise StrconvError("invalid syntax")
        value = int(digits, 16)
        i += n
        if c == "x":
            # A single byte: printable as itself if ASCII, otherwise a raw byte.
            return (chr(value) if value < 0x80 else chr(0xDC00 + value)), i
        if value > 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            raise StrconvError("invalid syntax")
        return chr(value), i
    if c in _OCTAL:
        digits = s[i - 1 : i + 2]
        if len(digits) < 3 or any(d not in _OCTAL for d in digits):
            raise StrconvError("invalid syntax")
        value = int(digits, 8)
        if value > 255:
            raise StrconvError("invalid syntax")
        return (chr(value) if value < 0x80 else chr(0xDC00 + value)), i + 2
    if c in "'\"":
        if c != quote:
            raise StrconvError("invalid syntax")
        return c, i
    raise StrconvError("invalid syntax")


def unquote(s: str) -> str:
    """strconv.Unquote for the three Go quote forms."""
    if len(s) < 2:
        raise StrconvError("invalid syntax")
    q = s[0]
    if q != s[-1]:
        raise StrconvError("invalid syntax")
    body = s[1:-1]
    if q == "`":
        if "`" in body:
            raise StrconvError("invalid syntax")
        return body.replace("\r", "")
    if q not in "\"'":
        raise StrconvError("invalid syntax")
    if "\n" in body:
        raise StrconvError("invalid syntax")
    if "\\" not in body and q not in body:
        if q == '"':
            return body
        if q == "'" and len(body) == 1:
            return body
    out = []
    i = 0
    while i < len(body):
        text, i = unquote_char(body, i, q)
        out.append(text)
        if q == "'" and i < len(body):
            raise StrconvError("invalid syntax")
    result = "".join(out)
    if q == "'" and len(out) != 1:
        raise StrconvError("invalid syntax")
    return result


# -- integers ---------------------------------------------------------------


def _underscore_ok(s: str) -> bool:
    saw = "^"
    i = 0
    if s and s[0] in "+-":
        s = s[1:]
    hexa = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "box":
        i = 2
        saw = "0"
        hexa = s[1].lower() == "x"
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9" or (hexa and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
        i += 1
    return saw != "_"


def parse_uint(s: str) -> int:
    """strconv.ParseUint(s, 0, 64)."""
    if not s:
        raise StrconvError("invalid syntax")
    base = 10
    body = s
    if s[0] == "0":
        if len(s) >= 3 and s[1].lower() == "b":
            base, body = 2, s[2:]
        elif len(s) >= 3 and s[1].lower() == "o":
            base, body = 8, s[2:]
        elif len(s) >= 3 and s[1].lower() == "x":
            base, body = 16, s[2:]
        else:
            base, body = 8, s[1:]
    if "_" in body or "_" in s:
        if not _underscore_ok(s):
            raise StrconvError("invalid syntax")
        body = body.replace("_", "")
    if body == "" and base == 8 and s.replace("_", "") == "0":
        return 0
    digits = "0123456789abcdef"[:base]
    if not body or any(c.lower() not in digits for c in body):
        raise StrconvError("invalid syntax")
    value = int(body, base)
    if value >= 1 << 64:
        raise StrconvError("value out of range")
    return value


def parse_int(s: str) -> int:
    """strconv.ParseInt(s, 0, 64)."""
    if not s:
        raise StrconvError("invalid syntax")
    neg = False
    body = s
    if s[0] in "+-":
        neg = s[0] == "-"
        body = s[1:]
    value = parse_uint(body)
    if neg:
        if value > 1 << 63:
            raise StrconvError("value out of range")
        return -value
    if value >= 1 << 63:
        raise StrconvError("value out of range")
    return value


_DEC_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_HEX_FLOAT = re.compile(r"[+-]?0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+")


def parse_float(s: str) -> float:
    """strconv.ParseFloat(s, 64) for the literal forms the template lexer produces."""
    if "_" in s:
        if not _underscore_ok(s):
            raise StrconvError("invalid syntax")
        s = s.replace("_", "")
    lowered = s.lower().lstrip("+-")
    if lowered in ("inf", "infinity", "nan"):
        value = float(s)
        return value
    if _DEC_FLOAT.fullmatch(s):
        value = float(s)
    elif _HEX_FLOAT.fullmatch(s):
        sign = -1.0 if s.startswith("-") else 1.0
        value = sign * float.fromhex(s.lstrip("+-"))
    else:
        raise StrconvError("invalid syntax")
    if math.isinf(value):
        raise StrconvError("value out of range")
    return value


# -- float formatting -------------------------------------------------------


def _shortest_digits(v: float) -> tuple[str, int]:
    """Shortest decimal digits that round-trip, and the decimal point position (Go's decimalSlice)."""
    text = repr(abs(v))
    if "e" in text:
        mant, exp_text = text.split("e")
        exp = int(exp_text)
    else:
        mant, exp = text, 0
    if "." in mant:
        int_part, frac_part = mant.split(".")
    else:
        int_part, frac_part = mant, ""
    digits = int_part + frac_part
    dp = len(int_part) + exp
    stripped = digits.lstrip("0")
    dp -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return "", 0
    return digits, dp


def _rounded_digits(v: float, ndigits: int) -> tuple[str, int]:
    """v rounded to `ndigits` significant digits (trailing zeros trimmed, as Go's decimal does)."""
    if v == 0:
        return "", 0
    if ndigits <= 0:
        ndigits = 1
    text = f"{abs(v):.{ndigits - 1}e}"
    mant, exp_text = text.split("e")
    digits = mant.replace(".", "")
    dp = int(exp_text) + 1
    digits = digits.rstrip("0")
    return digits, dp


def _fixed_digits(v: float, prec: int) -> tuple[str, int]:
    """v rounded to `prec` digits after the decimal point."""
    text = f"{abs(v):.{prec}f}"
    int_part, _, frac_part = text.partition(".")
    digits = (int_part + frac_part).lstrip("0")
    dp = len(int_part) if int_part != "0" else 0
    if int_part == "0":
        # Leading zeros of the fraction move the decimal point.
        stripped = frac_part.lstrip("0")
        dp = -(len(frac_part) - len(stripped))
        digits = stripped
    digits = digits.rstrip("0")
    if not digits:
        return "", 0
    return digits, dp


def _fmt_e(neg: bool, digits: str, dp: int, prec: int, ch: str) -> str:
    out = ["-"] if neg else []
    out.append(digits[0] if digits else "0")
    if prec > 0:
        out.append(".")
        frac = digits[1 : prec + 1]
        out.append(frac + "0" * (prec - len(frac)))
    exp = dp - 1 if digits else 0
    out.append(ch)
    out.append("-" if exp < 0 else "+")
    exp = abs(exp)
    out.append(f"{exp:02d}")
    return "".join(out)


def _fmt_f(neg: bool, digits: str, dp: int, prec: int) -> str:
    out = ["-"] if neg else []
    if dp > 0:
        head = digits[:dp]
        out.append(head + "0" * (dp - len(head)))
    else:
        out.append("0")
    if prec > 0:
        out.append(".")
        for i in range(prec):
            j = dp + i
            out.append(digits[j] if 0 <= j < len(digits) else "0")
    return "".join(out)


def format_float(v: float, fmt: str, prec: int) -> str:
    """strconv.FormatFloat(v, fmt, prec, 64) for fmt in 'e', 'E', 'f', 'g', 'G'."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    neg = math.copysign(1.0, v) < 0
    shortest = prec < 0
    if fmt in "eE":
        if shortest:
            digits, dp = _shortest_digits(v)
            prec = max(len(digits) - 1, 0)
        else:
            digits, dp = _rounded_digits(v, prec + 1)
        return _fmt_e(neg, digits, dp, prec, fmt)
    if fmt == "f":
        if shortest:
            digits, dp = _shortest_digits(v)
            prec = max(len(digits) - dp, 0)
        else:
            digits, dp = _fixed_digits(v, prec)
        return _fmt_f(neg, digits, dp, prec)
    if fmt in "gG":
        if shortest:
            digits, dp = _shortest_digits(v)
            eprec = 6
            prec = len(digits)
        else:
            if prec == 0:
                prec = 1
            digits, dp = _rounded_digits(v, prec)
            eprec = prec
            if eprec > len(digits) and len(digits) >= dp:
                eprec = len(digits)
        exp = dp - 1
        if exp < -4 or exp >= eprec:
            if prec > len(digits):
                prec = len(digits)
            return _fmt_e(neg, digits, dp, prec - 1, "e" if fmt == "g" else "E")
        if prec > dp:
            prec = len(digits)
        return _fmt_f(neg, digits, dp, max(prec - dp, 0))
    raise ValueError(f"unsupported float format {fmt!r}")
