"""Go's fmt package over our Go value model: Sprint, Sprintln, Sprintf with Go's verbs, flags and error forms.

Templates print every value through fmt (`{{ .X }}` is fmt.Fprint; `print`, `printf`
and `println` are Sprint, Sprintf and Sprintln), so the exact text of `%v` for maps,
slices, structs, floats and times — and of mistakes like `%!d(string=x)` — matters.
"""

from __future__ import annotations

import math
from typing import Any

from bot.templates import gostrconv
from bot.templates.gotypes import (
    COMPLEX_KINDS,
    FLOAT_KINDS,
    INT_KINDS,
    NIL_INTERFACE,
    UINT_KINDS,
    GoFloat,
    GoType,
    Kind,
    Map,
    Nil,
    Ptr,
    Slice,
    Struct,
    T_STRING,
    type_of,
)

go_quote = gostrconv.quote

_LDIGITS = "0123456789abcdefx"
_UDIGITS = "0123456789ABCDEFX"


def _string_method(t: GoType) -> Any:
    m = t.methods.get("String")
    if m is not None and not m.params and m.results[0] is T_STRING:
        return m
    return None


def sort_map_keys(m: Map) -> list[Any]:
    """internal/fmtsort ordering for the key kinds our maps use."""
    try:
        return sorted(m.keys())
    except TypeError:
        return list(m.keys())


class _Printer:
    __slots__ = (
        "buf",
        "wid",
        "prec",
        "wid_present",
        "prec_present",
        "minus",
        "plus",
        "sharp",
        "space",
        "zero",
        "plus_v",
        "sharp_v",
        "erroring",
        "arg",
        "value",
        "reordered",
        "good_arg_num",
        "panicking",
    )

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.clear_flags()
        self.erroring = False
        self.arg: Any = None
        self.value: Any = None
        self.reordered = False
        self.good_arg_num = True
        self.panicking = False

    def clear_flags(self) -> None:
        self.wid = 0
        self.prec = 0
        self.wid_present = False
        self.prec_present = False
        self.minus = False
        self.plus = False
        self.sharp = False
        self.space = False
        self.zero = False
        self.plus_v = False
        self.sharp_v = False

    # -- padding ---------------------------------------------------------
    def write_padding(self, n: int) -> None:
        if n > 0:
            self.buf.append(("0" if self.zero else " ") * n)

    def pad(self, s: str) -> None:
        if not self.wid_present or self.wid == 0:
            self.buf.append(s)
            return
        width = self.wid - len(s)
        if not self.minus:
            self.write_padding(width)
            self.buf.append(s)
        else:
            self.buf.append(s)
            self.write_padding(width)

    # -- basic formatters --------------------------------------------------
    def fmt_boolean(self, v: bool) -> None:
        self.pad("true" if v else "false")

    def fmt_unicode(self, u: int) -> None:
        prec = 4
        if self.prec_present and self.prec > 4:
            prec = self.prec
        digits = f"{u:X}"
        if len(digits) < prec:
            digits = "0" * (prec - len(digits)) + digits
        text = "U+" + digits
        if self.sharp and u <= 0x10FFFF and not (0xD800 <= u <= 0xDFFF) and gostrconv.is_print(chr(u)):
            text += " '" + chr(u) + "'"
        old_zero = self.zero
        self.zero = False
        self.pad(text)
        self.zero = old_zero

    def fmt_integer(self, u: int, base: int, signed: bool, verb: str, digits: str) -> None:
        negative = signed and u < 0
        if negative:
            u = -u
        prec = 0
        if self.prec_present:
            prec = self.prec
            if prec == 0 and u == 0:
                old_zero = self.zero
                self.zero = False
                self.write_padding(self.wid)
                self.zero = old_zero
                return
        elif self.zero and self.wid_present:
            prec = self.wid
            if negative or self.plus or self.space:
                prec -= 1
        if base == 10:
            body = str(u)
        elif base == 16:
            body = format(u, "x")
            if digits is _UDIGITS:
                body = body.upper()
        elif base == 8:
            body = format(u, "o")
        else:
            body = format(u, "b")
        if len(body) < prec:
            body = "0" * (prec - len(body)) + body
        if self.sharp:
            if base == 2:
                body = "0b" + body
            elif base == 8:
                if body[0] != "0":
                    body = "0" + body
            elif base == 16:
                body = "0" + digits[16] + body
        if verb == "O":
            body = "0o" + body
        if negative:
            body = "-" + body
        elif self.plus:
            body = "+" + body
        elif self.space:
            body = " " + body
        old_zero = self.zero
        self.zero = False
        self.pad(body)
        self.zero = old_zero

    def truncate_string(self, s: str) -> str:
        if self.prec_present and self.prec < len(s):
            return s[: self.prec]
        return s

    def fmt_s(self, s: str) -> None:
        self.pad(self.truncate_string(s))

    def fmt_sbx(self, data: bytes, digits: str) -> None:
        length = len(data)
        if self.prec_present and self.prec < length:
            length = self.prec
        width = 2 * length
        if width > 0:
            if self.space:
                if self.sharp:
                    width *= 2
                width += length - 1
            elif self.sharp:
                width += 2
        else:
            if self.wid_present:
                self.write_padding(self.wid)
            return
        if self.wid_present and self.wid > width and not self.minus:
            self.write_padding(self.wid - width)
        out = []
        if self.sharp:
            out.append("0" + digits[16])
        for i in range(length):
            if self.space and i > 0:
                out.append(" ")
                if self.sharp:
                    out.append("0" + digits[16])
            c = data[i]
            out.append(digits[c >> 4] + digits[c & 0xF])
        self.buf.append("".join(out))
        if self.wid_present and self.wid > width and self.minus:
            self.write_padding(self.wid - width)

    def fmt_q(self, s: str) -> None:
        s = self.truncate_string(s)
        if self.sharp and gostrconv.can_backquote(s):
            self.pad("`" + s + "`")
            return
        if self.plus:
            self.pad(gostrconv.quote_to_ascii(s))
        else:
            self.pad(gostrconv.quote(s))

    def fmt_c(self, c: int) -> None:
        if c > 0x10FFFF or c < 0 or 0xD800 <= c <= 0xDFFF:
            c = 0xFFFD
        self.pad(chr(c))

    def fmt_qc(self, c: int) -> None:
        if c > 0x10FFFF or c < 0:
            c = 0xFFFD
        self.pad(gostrconv.quote_rune(c, ascii_only=self.plus))

    def fmt_float(self, v: float, size: int, verb: str, prec: int) -> None:
        if self.prec_present:
            prec = self.prec
        if verb in "eEfFgG":
            num = gostrconv.format_float(v, "f" if verb == "F" else verb, prec)
        elif verb == "b":
            num = _format_float_b(v)
        elif verb in "xX":
            num = _format_float_x(v, prec, verb)
        else:
            num = gostrconv.format_float(v, "g", prec)
        if num[0] in "-+":
            sign, body = num[0], num[1:]
        else:
            sign, body = "+", num
        if self.space and sign == "+" and not self.plus:
            sign = " "
        if body[:1] in ("I", "N"):
            old_zero = self.zero
            self.zero = False
            text = sign + body
            if body[0] == "N" and not self.space and not self.plus:
                text = body
            self.pad(text)
            self.zero = old_zero
            return
        if self.sharp and verb != "b":
            digits = 0
            if verb in "vgGx":
                digits = prec
                if digits == -1:
                    digits = 6
            tail = ""
            has_point = False
            saw_nonzero = False
            chars = list(body)
            i = 0
            while i < len(chars):
                ch = chars[i]
                if ch == ".":
                    has_point = True
                elif ch in "pP":
                    tail = "".join(chars[i:])
                    chars = chars[:i]
                    break
                elif ch in "eE" and verb not in "xX":
                    tail = "".join(chars[i:])
                    chars = chars[:i]
                    break
                else:
                    if ch != "0":
                        saw_nonzero = True
                    if saw_nonzero:
                        digits -= 1
                i += 1
            body = "".join(chars)
            if not has_point:
                if body == "0":
                    digits -= 1
                body += "."
            if digits > 0:
                body += "0" * digits
            body += tail
        if self.plus or sign != "+":
            if self.zero and self.wid_present and self.wid > len(body) + 1:
                self.buf.append(sign)
                self.write_padding(self.wid - len(body) - 1)
                self.buf.append(body)
                return
            self.pad(sign + body)
            return
        self.pad(body)

    # -- pp methods -----------------------------------------------------------
    def bad_verb(self, verb: str) -> None:
        self.erroring = True
        self.buf.append("%!" + verb + "(")
        if self.arg is not None and self.arg is not NIL_INTERFACE:
            self.buf.append(type_name(self.arg) + "=")
            self.print_arg(self.arg, "v")
        elif self.value is not None:
            self.buf.append(type_name(self.value) + "=")
            self.print_value(self.value, "v", 0)
        else:
            self.buf.append("<nil>")
        self.buf.append(")")
        self.erroring = False

    def fmt_bool(self, v: bool, verb: str) -> None:
        if verb in "tv":
            self.fmt_boolean(v)
        else:
            self.bad_verb(verb)

    def fmt_0x64(self, v: int, leading0x: bool) -> None:
        sharp = self.sharp
        self.sharp = leading0x
        self.fmt_integer(v, 16, False, "v", _LDIGITS)
        self.sharp = sharp

    def fmt_int(self, v: int, signed: bool, verb: str) -> None:
        if not signed and v < 0:
            v &= (1 << 64) - 1
        if verb == "v":
            if self.sharp_v and not signed:
                self.fmt_0x64(v, True)
            else:
                self.fmt_integer(v, 10, signed, verb, _LDIGITS)
        elif verb == "d":
            self.fmt_integer(v, 10, signed, verb, _LDIGITS)
        elif verb == "b":
            self.fmt_integer(v, 2, signed, verb, _LDIGITS)
        elif verb in "oO":
            self.fmt_integer(v, 8, signed, verb, _LDIGITS)
        elif verb == "x":
            self.fmt_integer(v, 16, signed, verb, _LDIGITS)
        elif verb == "X":
            self.fmt_integer(v, 16, signed, verb, _UDIGITS)
        elif verb == "c":
            self.fmt_c(v)
        elif verb == "q":
            self.fmt_qc(v)
        elif verb == "U":
            self.fmt_unicode(v if v >= 0 else v & ((1 << 64) - 1))
        else:
            self.bad_verb(verb)

    def fmt_float_verb(self, v: float, size: int, verb: str) -> None:
        if verb == "v":
            self.fmt_float(v, size, "g", -1)
        elif verb in "bgGxX":
            self.fmt_float(v, size, verb, -1)
        elif verb in "feE":
            self.fmt_float(v, size, verb, 6)
        elif verb == "F":
            self.fmt_float(v, size, "f", 6)
        else:
            self.bad_verb(verb)

    def fmt_complex(self, v: complex, size: int, verb: str) -> None:
        if verb in "vbgGxXfFeE":
            old_plus = self.plus
            self.buf.append("(")
            self.fmt_float_verb(v.real, size // 2, verb)
            self.plus = True
            self.fmt_float_verb(v.imag, size // 2, verb)
            self.buf.append("i)")
            self.plus = old_plus
        else:
            self.bad_verb(verb)

    def fmt_string(self, v: str, verb: str) -> None:
        if verb == "v":
            if self.sharp_v:
                self.fmt_q(v)
            else:
                self.fmt_s(v)
        elif verb == "s":
            self.fmt_s(v)
        elif verb == "x":
            self.fmt_sbx(gostrconv.to_bytes(v), _LDIGITS)
        elif verb == "X":
            self.fmt_sbx(gostrconv.to_bytes(v), _UDIGITS)
        elif verb == "q":
            self.fmt_q(v)
        else:
            self.bad_verb(verb)

    def fmt_bytes(self, v: Slice, verb: str, type_string: str) -> None:
        data = bytes(int(b) for b in v)
        if verb in "vd":
            if self.sharp_v:
                self.buf.append(type_string)
                if v.nil:
                    self.buf.append("(nil)")
                    return
                self.buf.append("{")
                for i, c in enumerate(data):
                    if i > 0:
                        self.buf.append(", ")
                    self.fmt_0x64(c, True)
                self.buf.append("}")
            else:
                self.buf.append("[")
                for i, c in enumerate(data):
                    if i > 0:
                        self.buf.append(" ")
                    self.fmt_integer(c, 10, False, verb, _LDIGITS)
                self.buf.append("]")
        elif verb == "s":
            text = gostrconv.from_bytes(data)
            self.pad(self.truncate_string(text))
        elif verb == "x":
            self.fmt_sbx(data, _LDIGITS)
        elif verb == "X":
            self.fmt_sbx(data, _UDIGITS)
        elif verb == "q":
            self.fmt_q(gostrconv.from_bytes(data))
        else:
            self.print_value(v, verb, 0, skip_bytes=True)

    def fmt_pointer(self, value: Any, verb: str) -> None:
        kind = type_of(value).kind
        if kind not in (Kind.CHAN, Kind.FUNC, Kind.MAP, Kind.POINTER, Kind.SLICE):
            self.bad_verb(verb)
            return
        # Addresses are not reproducible; a nil one prints as Go prints it, others as a fixed token.
        u = 0 if isinstance(value, Nil) or getattr(value, "nil", False) else 0xC000010000
        if verb == "v":
            if self.sharp_v:
                self.buf.append("(" + type_name(value) + ")(")
                if u == 0:
                    self.buf.append("nil")
                else:
                    self.fmt_0x64(u, True)
                self.buf.append(")")
            elif u == 0:
                self.pad("<nil>")
            else:
                self.fmt_0x64(u, not self.sharp)
        elif verb == "p":
            self.fmt_0x64(u, not self.sharp)
        elif verb in "bodxX":
            self.fmt_int(u, False, verb)
        else:
            self.bad_verb(verb)

    def handle_methods(self, verb: str) -> bool:
        if self.erroring:
            return False
        arg = self.arg
        if arg is None or arg is NIL_INTERFACE:
            return False
        t = type_of(arg)
        if not t.methods:
            return False
        if self.sharp_v:
            method = t.methods.get("GoString")
            if method is not None:
                self.fmt_s(method.impl(arg))
                return True
            return False
        if verb in "vsxXq":
            method = _string_method(t)
            if method is not None:
                self.fmt_string(method.impl(arg), verb)
                return True
        return False

    def print_arg(self, arg: Any, verb: str) -> None:
        self.arg = arg
        self.value = None
        if arg is None or arg is NIL_INTERFACE:
            if verb in "Tv":
                self.pad("<nil>")
            else:
                self.bad_verb(verb)
            return
        if verb == "T":
            self.fmt_s(type_name(arg))
            return
        if verb == "p":
            self.fmt_pointer(arg, "p")
            return
        cls = arg.__class__
        if cls is str:
            self.fmt_string(arg, verb)
            return
        if cls is int:
            self.fmt_int(arg, True, verb)
            return
        if cls is bool:
            self.fmt_bool(arg, verb)
            return
        if cls is float:
            self.fmt_float_verb(arg, 64, verb)
            return
        if cls is complex:
            self.fmt_complex(arg, 128, verb)
            return
        t = type_of(arg)
        if t.name is None and t.kind == Kind.SLICE and t.elem.kind == Kind.UINT8 and t.elem.name == "uint8":
            self.fmt_bytes(arg, verb, "[]byte")
            return
        if not self.handle_methods(verb):
            self.print_value(arg, verb, 0)

    def print_value(self, value: Any, verb: str, depth: int, skip_bytes: bool = False) -> None:
        if depth > 0 and value is not None:
            self.arg = value
            if self.handle_methods(verb):
                return
        self.arg = None
        self.value = value
        if value is None:
            if depth == 0:
                self.buf.append("<invalid reflect.Value>")
            elif verb == "v":
                self.buf.append("<nil>")
            else:
                self.bad_verb(verb)
            return
        if value is NIL_INTERFACE:
            if self.sharp_v:
                self.buf.append("interface {}(nil)")
            else:
                self.buf.append("<nil>")
            return
        t = type_of(value)
        kind = t.kind
        if kind == Kind.BOOL:
            self.fmt_bool(bool(value), verb)
        elif kind in INT_KINDS:
            self.fmt_int(int(value), True, verb)
        elif kind in UINT_KINDS:
            self.fmt_int(int(value), False, verb)
        elif kind in FLOAT_KINDS:
            self.fmt_float_verb(float(value), 32 if isinstance(value, GoFloat) else 64, verb)
        elif kind in COMPLEX_KINDS:
            self.fmt_complex(complex(value), 128, verb)
        elif kind == Kind.STRING:
            self.fmt_string(str(value), verb)
        elif kind == Kind.MAP:
            if self.sharp_v:
                self.buf.append(str(t))
                if value.nil:
                    self.buf.append("(nil)")
                    return
                self.buf.append("{")
            else:
                self.buf.append("map[")
            for i, key in enumerate(sort_map_keys(value)):
                if i > 0:
                    self.buf.append(", " if self.sharp_v else " ")
                self.print_value(key, verb, depth + 1)
                self.buf.append(":")
                self.print_value(value[key], verb, depth + 1)
            self.buf.append("}" if self.sharp_v else "]")
        elif kind == Kind.STRUCT:
            if self.sharp_v:
                self.buf.append(str(t))
            self.buf.append("{")
            if isinstance(value, Struct) and hasattr(value, "sec"):
                # time.Time {wall ext loc} without a monotonic reading: wall holds the nanoseconds,
                # ext the seconds since year 1, loc is nil for UTC (other zones print an address).
                fields = value.go_fields()  # type: ignore[attr-defined]
                for i, (fname, fvalue) in enumerate(fields):
                    if i > 0:
                        self.buf.append(", " if self.sharp_v else " ")
                    if self.plus_v or self.sharp_v:
                        self.buf.append(fname + ":")
                    self.print_value(fvalue, verb, depth + 1)
            else:
                for i, (fname, _ftype) in enumerate(t.fields):
                    if i > 0:
                        self.buf.append(", " if self.sharp_v else " ")
                    if self.plus_v or self.sharp_v:
                        self.buf.append(fname + ":")
                    self.print_value(getattr(value, fname), verb, depth + 1)
            self.buf.append("}")
        elif kind == Kind.INTERFACE:
            if isinstance(value, Nil):
                if self.sharp_v:
                    self.buf.append(str(t) + "(nil)")
                else:
                    self.buf.append("<nil>")
        elif kind == Kind.SLICE or kind == Kind.ARRAY:
            if not skip_bytes and verb in "sqxX" and t.elem.kind == Kind.UINT8:
                self.fmt_bytes(value, verb, str(t))
                return
            if self.sharp_v:
                self.buf.append(str(t))
                if value.nil:
                    self.buf.append("(nil)")
                    return
                self.buf.append("{")
                for i, item in enumerate(value):
                    if i > 0:
                        self.buf.append(", ")
                    self.print_value(item, verb, depth + 1)
                self.buf.append("}")
            else:
                self.buf.append("[")
                for i, item in enumerate(value):
                    if i > 0:
                        self.buf.append(" ")
                    self.print_value(item, verb, depth + 1)
                self.buf.append("]")
        elif kind == Kind.POINTER:
            if depth == 0 and isinstance(value, Ptr):
                elem_kind = type_of(value.elem).kind
                if elem_kind in (Kind.ARRAY, Kind.SLICE, Kind.STRUCT, Kind.MAP):
                    self.buf.append("&")
                    self.print_value(value.elem, verb, depth + 1)
                    return
            self.fmt_pointer(value, verb)
        elif kind in (Kind.CHAN, Kind.FUNC):
            self.fmt_pointer(value, verb)
        else:
            self.buf.append("?" + str(t) + "?")

    # -- entry points ---------------------------------------------------------
    def do_print(self, args: list[Any]) -> None:
        prev_string = False
        for i, arg in enumerate(args):
            is_string = arg is not None and arg is not NIL_INTERFACE and type_of(arg).kind == Kind.STRING
            if i > 0 and not is_string and not prev_string:
                self.buf.append(" ")
            self.print_arg(arg, "v")
            prev_string = is_string

    def do_println(self, args: list[Any]) -> None:
        for i, arg in enumerate(args):
            if i > 0:
                self.buf.append(" ")
            self.print_arg(arg, "v")
        self.buf.append("\n")

    def do_printf(self, fmt: str, args: list[Any]) -> None:
        end = len(fmt)
        arg_num = 0
        after_index = False
        self.reordered = False
        i = 0
        while i < end:
            self.good_arg_num = True
            lasti = i
            j = fmt.find("%", i)
            if j < 0:
                j = end
            i = j
            if i > lasti:
                self.buf.append(fmt[lasti:i])
            if i >= end:
                break
            i += 1
            self.clear_flags()
            simple_done = False
            while i < end:
                c = fmt[i]
                if c == "#":
                    self.sharp = True
                elif c == "0":
                    self.zero = not self.minus
                elif c == "+":
                    self.plus = True
                elif c == "-":
                    self.minus = True
                    self.zero = False
                elif c == " ":
                    self.space = True
                else:
                    if "a" <= c <= "z" and arg_num < len(args):
                        if c == "v":
                            self.sharp_v = self.sharp
                            self.sharp = False
                            self.plus_v = self.plus
                            self.plus = False
                        self.print_arg(args[arg_num], c)
                        arg_num += 1
                        i += 1
                        simple_done = True
                    break
                i += 1
            if simple_done:
                continue
            arg_num, i, after_index = self._arg_number(arg_num, fmt, i, len(args))
            if i < end and fmt[i] == "*":
                i += 1
                self.wid, self.wid_present, arg_num = _int_from_arg(args, arg_num)
                if not self.wid_present:
                    self.buf.append("%!(BADWIDTH)")
                if self.wid < 0:
                    self.wid = -self.wid
                    self.minus = True
                    self.zero = False
                after_index = False
            else:
                self.wid, self.wid_present, i = _parse_num(fmt, i, end)
                if after_index and self.wid_present:
                    self.good_arg_num = False
            if i + 1 < end and fmt[i] == ".":
                i += 1
                if after_index:
                    self.good_arg_num = False
                arg_num, i, after_index = self._arg_number(arg_num, fmt, i, len(args))
                if i < end and fmt[i] == "*":
                    i += 1
                    self.prec, self.prec_present, arg_num = _int_from_arg(args, arg_num)
                    if self.prec < 0:
                        self.prec = 0
                        self.prec_present = False
                    if not self.prec_present:
                        self.buf.append("%!(BADPREC)")
                    after_index = False
                else:
                    self.prec, self.prec_present, i = _parse_num(fmt, i, end)
                    if not self.prec_present:
                        self.prec = 0
                        self.prec_present = True
            if not after_index:
                arg_num, i, after_index = self._arg_number(arg_num, fmt, i, len(args))
            if i >= end:
                self.buf.append("%!(NOVERB)")
                break
            verb = fmt[i]
            i += 1
            if verb == "%":
                self.buf.append("%")
            elif not self.good_arg_num:
                self.buf.append("%!" + verb + "(BADINDEX)")
            elif arg_num >= len(args):
                self.buf.append("%!" + verb + "(MISSING)")
            else:
                if verb == "v":
                    self.sharp_v = self.sharp
                    self.sharp = False
                    self.plus_v = self.plus
                    self.plus = False
                self.print_arg(args[arg_num], verb)
                arg_num += 1
        if not self.reordered and arg_num < len(args):
            self.clear_flags()
            self.buf.append("%!(EXTRA ")
            for k, arg in enumerate(args[arg_num:]):
                if k > 0:
                    self.buf.append(", ")
                if arg is None or arg is NIL_INTERFACE:
                    self.buf.append("<nil>")
                else:
                    self.buf.append(type_name(arg) + "=")
                    self.print_arg(arg, "v")
            self.buf.append(")")

    def _arg_number(self, arg_num: int, fmt: str, i: int, num_args: int) -> tuple[int, int, bool]:
        if len(fmt) <= i or fmt[i] != "[":
            return arg_num, i, False
        self.reordered = True
        index, wid, ok = _parse_arg_number(fmt[i:])
        if ok and 0 <= index < num_args:
            return index, i + wid, True
        self.good_arg_num = False
        return arg_num, i + wid, ok


def _too_large(x: int) -> bool:
    return x > 1_000_000 or x < -1_000_000


def _parse_num(s: str, start: int, end: int) -> tuple[int, bool, int]:
    if start >= end:
        return 0, False, end
    num = 0
    isnum = False
    i = start
    while i < end and "0" <= s[i] <= "9":
        if _too_large(num):
            return 0, False, end
        num = num * 10 + ord(s[i]) - 48
        isnum = True
        i += 1
    return num, isnum, i


def _parse_arg_number(fmt: str) -> tuple[int, int, bool]:
    if len(fmt) < 3:
        return 0, 1, False
    for i in range(1, len(fmt)):
        if fmt[i] == "]":
            width, ok, newi = _parse_num(fmt, 1, i)
            if not ok or newi != i:
                return 0, i + 1, False
            return width - 1, i + 1, True
    return 0, 1, False


def _int_from_arg(args: list[Any], arg_num: int) -> tuple[int, bool, int]:
    num, is_int, new_arg_num = 0, False, arg_num
    if arg_num < len(args):
        arg = args[arg_num]
        if arg is not None and arg is not NIL_INTERFACE and not isinstance(arg, bool):
            kind = type_of(arg).kind
            if kind in INT_KINDS or kind in UINT_KINDS:
                num = int(arg)
                is_int = -(1 << 63) <= num < (1 << 63)
                if not is_int:
                    num = 0
        new_arg_num = arg_num + 1
        if _too_large(num):
            num, is_int = 0, False
    return num, is_int, new_arg_num


def _format_float_b(v: float) -> str:
    if v == 0:
        return ("-" if math.copysign(1, v) < 0 else "") + "0p-1074"
    mant, exp = math.frexp(abs(v))
    m = int(mant * (1 << 53))
    e = exp - 53
    if e < -1074:
        m >>= -1074 - e
        e = -1074
    return ("-" if v < 0 else "") + f"{m}p{e:+d}"


def _format_float_x(v: float, prec: int, verb: str) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    neg = math.copysign(1, v) < 0
    if v == 0:
        mant_text, exp = "0", 0
        frac = ""
    else:
        text = float.hex(abs(v))  # 0x1.8000000000000p+0
        mant_part, exp_part = text[2:].split("p")
        lead, _, frac = mant_part.partition(".")
        exp = int(exp_part)
        if lead == "0":  # subnormal: normalize to a leading 1
            bits = int(frac, 16)
            nbits = 52
            while bits and not bits >> (nbits - 1) & 1:
                bits <<= 1
                exp -= 1
            bits = (bits << 1) & ((1 << 52) - 1)
            exp -= 1
            frac = f"{bits:013x}"
        mant_text = "1"
    if prec >= 0 and v != 0:
        bits = int(frac or "0", 16)
        full = (1 << 52) | bits
        shift = 52 - 4 * prec
        if shift > 0:
            half = 1 << (shift - 1)
            rem = full & ((1 << shift) - 1)
            full >>= shift
            if rem > half or (rem == half and full & 1):
                full += 1
            if full >> (4 * prec + 1):
                full >>= 1
                exp += 1
            frac = f"{full & ((1 << (4 * prec)) - 1):0{prec}x}" if prec > 0 else ""
        else:
            frac = (frac + "0" * (prec - len(frac)))[:prec]
    elif prec < 0:
        frac = frac.rstrip("0")
    elif prec > 0:
        frac = "0" * prec
    text = "0x" + mant_text + ("." + frac if frac else "") + "p" + ("-" if exp < 0 else "+") + f"{abs(exp):02d}"
    if verb == "X":
        text = text.upper()
    return ("-" if neg else "") + text


def type_name(value: Any) -> str:
    if value is None or value is NIL_INTERFACE:
        return "<nil>"
    return str(type_of(value))


def sprint(args: list[Any]) -> str:
    p = _Printer()
    p.do_print(args)
    return "".join(p.buf)


def sprintln(args: list[Any]) -> str:
    p = _Printer()
    p.do_println(args)
    return "".join(p.buf)


_SIMPLE_FORMATS: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {}


def _simple_format(fmt: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Split a format made only of plain %s/%v/%d verbs into literals and verbs (None otherwise)."""
    parts = fmt.split("%")
    literals = [parts[0]]
    verbs = []
    for part in parts[1:]:
        if not part or part[0] not in "svd":
            return None
        verbs.append(part[0])
        literals.append(part[1:])
    return tuple(literals), tuple(verbs)


def sprintf(fmt: str, args: list[Any]) -> str:
    simple = _SIMPLE_FORMATS.get(fmt, False)
    if simple is False:
        simple = _SIMPLE_FORMATS[fmt] = _simple_format(fmt) if len(_SIMPLE_FORMATS) < 4096 else None
    if simple is not None and len(simple[1]) == len(args):
        # Fast path: strings under %s/%v and ints under %d/%v print as themselves.
        literals, verbs = simple
        out = [literals[0]]
        for i, arg in enumerate(args):
            cls = arg.__class__
            verb = verbs[i]
            if cls is str and verb != "d":
                out.append(arg)
            elif cls is int and verb != "s":
                out.append(str(arg))
            else:
                break
            out.append(literals[i + 1])
        else:
            return "".join(out)
    p = _Printer()
    p.do_printf(fmt, args)
    return "".join(p.buf)


def sprint_value(value: Any) -> str:
    """fmt.Fprint of one value, as `{{ . }}` prints (the caller handles the invalid value)."""
    cls = value.__class__
    if cls is str:
        return value
    if cls is int:
        return str(value)
    if cls is bool:
        return "true" if value else "false"
    p = _Printer()
    p.print_arg(value, "v")
    return "".join(p.buf)
