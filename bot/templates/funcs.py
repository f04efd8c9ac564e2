"""Template functions: text/template's builtins and Alertmanager's function map.

Each function is a `GoFunc` carrying its Go signature, so argument checking and
conversion follow Go's rules (`toUpper 3` fails exactly as in Go). `and`/`or` are
special-cased by the evaluator (they short-circuit).
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Callable
from typing import Any

from bot.templates import gocase, gofmt, gojson, gostrconv
from bot.templates.gotime import T_DURATION, T_TIME, GoTime, load_location
from bot.templates.gotypes import (
    COMPLEX_KINDS,
    FLOAT_KINDS,
    INT_KINDS,
    NIL_INTERFACE,
    T_BOOL,
    T_EMPTY_INTERFACE,
    T_INT,
    T_REFLECT_VALUE,
    T_STRING,
    T_STRING_SLICE,
    UINT_KINDS,
    GoCallError,
    GoFunc,
    GoStr,
    GoType,
    Kind,
    Nil,
    Ptr,
    Slice,
    Struct,
    Uint8,
    assignable,
    is_nil,
    named,
    register_scalar_class,
    type_of,
    zero_value,
)

T_HTML = named("template.HTML", T_STRING)
T_URL = named("template.URL", T_STRING)


class HTML(GoStr):
    gotype = T_HTML
    __slots__ = ()


class URL(GoStr):
    gotype = T_URL
    __slots__ = ()


register_scalar_class(HTML)
register_scalar_class(URL)


class ReflectPanic(GoCallError):
    """A reflect panic inside a builtin, reported as Go's safeCall reports it."""


# -- helpers shared with the evaluator ---------------------------------------


def indirect(value: Any) -> tuple[Any, bool]:
    """Go's indirect: follow pointers; (value, True) when a nil pointer is reached."""
    while isinstance(value, Ptr):
        value = value.elem
    if isinstance(value, Nil) and value.gotype.kind in (Kind.POINTER, Kind.INTERFACE):
        return value, True
    return value, False


def indirect_interface(value: Any) -> Any:
    if value is NIL_INTERFACE:
        return None
    return value


def is_true(value: Any) -> tuple[bool, bool]:
    """Go's isTrue: (truth, ok)."""
    if value is None:
        return False, True
    cls = value.__class__
    if cls is bool:
        return value, True
    if cls is str:
        return value != "", True
    if cls is int or cls is float or cls is complex:
        return value != 0, True
    kind = type_of(value).kind
    if kind in (Kind.ARRAY, Kind.MAP, Kind.SLICE, Kind.STRING):
        return len(value) > 0, True
    if kind == Kind.BOOL:
        return bool(value), True
    if kind in INT_KINDS or kind in UINT_KINDS or kind in FLOAT_KINDS or kind in COMPLEX_KINDS:
        return value != 0, True
    if kind in (Kind.CHAN, Kind.FUNC, Kind.POINTER, Kind.INTERFACE):
        return not is_nil(value), True
    if kind == Kind.STRUCT:
        return True, True
    return False, False


def truth(value: Any) -> bool:
    return is_true(indirect_interface(value))[0]


def printable(value: Any) -> Any:
    """Go's printableValue for fmt: pointers followed, the invalid value shown as <no value>."""
    if isinstance(value, Ptr):
        value, _ = indirect(value)
    if value is None or value is NIL_INTERFACE:
        return "<no value>"
    return value


def eval_args(args: list[Any]) -> str:
    if len(args) == 1 and args[0].__class__ is str:
        return args[0]
    return gofmt.sprint([printable(a) for a in args])


# -- builtins ---------------------------------------------------------------------


def _index_arg(index: Any, cap: int) -> int:
    if index is None:
        raise GoCallError("cannot index slice/array with nil")
    kind = type_of(index).kind if index is not NIL_INTERFACE else Kind.INVALID
    if kind == Kind.INVALID:
        raise GoCallError("cannot index slice/array with nil")
    if kind not in INT_KINDS and kind not in UINT_KINDS or isinstance(index, bool):
        raise GoCallError(f"cannot index slice/array with type {type_of(index)}")
    x = int(index)
    if x < 0 or x > cap:
        raise GoCallError(f"index out of range: {x}")
    return x


def _prepare_arg(value: Any, arg_type: GoType) -> Any:
    if value is None:
        if arg_type.kind not in (Kind.CHAN, Kind.FUNC, Kind.INTERFACE, Kind.MAP, Kind.POINTER, Kind.SLICE):
            raise GoCallError(f"value is nil; should be of type {arg_type}")
        return zero_value(arg_type)
    vt = type_of(value)
    if assignable(vt, arg_type):
        return value
    int_like = INT_KINDS | UINT_KINDS
    if vt.kind in int_like and arg_type.kind in int_like:
        return value
    raise GoCallError(f"value has type {vt}; should be {arg_type}")


def builtin_index(item: Any, *indexes: Any) -> Any:
    item = indirect_interface(item)
    if item is None:
        raise GoCallError("index of untyped nil")
    for index in indexes:
        index = indirect_interface(index)
        item, nil = indirect(item)
        if nil:
            raise GoCallError("index of nil pointer")
        t = type_of(item)
        kind = t.kind
        if kind == Kind.STRING:
            data = gostrconv.to_bytes(item)
            x = _index_arg(index, len(data))
            if x == len(data):
                raise ReflectPanic("reflect: string index out of range")
            item = Uint8(data[x])
        elif kind in (Kind.SLICE, Kind.ARRAY):
            x = _index_arg(index, len(item))
            if x == len(item):
                raise ReflectPanic("reflect: slice index out of range")
            item = item[x]
        elif kind == Kind.MAP:
            key = _prepare_arg(index, t.key)
            if key in item:
                item = item[key]
            else:
                item = zero_value(t.elem)
        else:
            raise GoCallError(f"can't index item of type {t}")
    return item


def builtin_slice(item: Any, *indexes: Any) -> Any:
    item = indirect_interface(item)
    if item is None:
        raise GoCallError("slice of untyped nil")
    if len(indexes) > 3:
        raise GoCallError(f"too many slice indexes: {len(indexes)}")
    t = type_of(item)
    if t.kind == Kind.STRING:
        if len(indexes) == 3:
            raise GoCallError("cannot 3-index slice a string")
        data = gostrconv.to_bytes(item)
        length = len(data)
    elif t.kind in (Kind.SLICE, Kind.ARRAY):
        data = None
        length = len(item)
    else:
        raise GoCallError(f"can't slice item of type {t}")
    # Go slices have a capacity; ours is their length (see docs/templates.md).
    cap = length
    idx = [0, length, 0]
    for i, index in enumerate(indexes):
        idx[i] = _index_arg(indirect_interface(index), cap)
    if idx[0] > idx[1]:
        raise GoCallError(f"invalid slice index: {idx[0]} > {idx[1]}")
    if len(indexes) == 3 and idx[1] > idx[2]:
        raise GoCallError(f"invalid slice index: {idx[1]} > {idx[2]}")
    if data is not None:
        text = gostrconv.from_bytes(data[idx[0] : idx[1]])
        return text if t.name == "string" else type(item)(text)
    result = Slice(item[idx[0] : idx[1]], t if t.kind == Kind.SLICE else _slice_type_of_array(t))
    return result


def _slice_type_of_array(t: GoType) -> GoType:
    from bot.templates.gotypes import slice_of

    return slice_of(t.elem)


def builtin_len(item: Any) -> int:
    item, nil = indirect(item)
    if nil:
        raise GoCallError("len of nil pointer")
    if item is None or item is NIL_INTERFACE:
        raise ReflectPanic("reflect: call of reflect.Value.Type on zero Value")
    t = type_of(item)
    if t.kind == Kind.STRING:
        return gostrconv.utf8_len(item)
    if t.kind in (Kind.ARRAY, Kind.CHAN, Kind.MAP, Kind.SLICE):
        return len(item)
    raise GoCallError(f"len of type {t}")


def builtin_call(fn: Any, *args: Any) -> Any:
    fn = indirect_interface(fn)
    if fn is None:
        raise GoCallError("call of nil")
    raise GoCallError(f"non-function of type {type_of(fn)}")


def builtin_not(arg: Any) -> bool:
    return not truth(arg)


_BOOL, _COMPLEX, _INT, _FLOAT, _STRING, _UINT, _INVALID = range(7)


def _basic_kind(value: Any) -> int:
    if value is None:
        return _INVALID
    cls = value.__class__
    if cls is str:
        return _STRING
    if cls is bool:
        return _BOOL
    if cls is int:
        return _INT
    if cls is float:
        return _FLOAT
    kind = type_of(value).kind
    if kind == Kind.BOOL:
        return _BOOL
    if kind in INT_KINDS:
        return _INT
    if kind in UINT_KINDS:
        return _UINT
    if kind in FLOAT_KINDS:
        return _FLOAT
    if kind in COMPLEX_KINDS:
        return _COMPLEX
    if kind == Kind.STRING:
        return _STRING
    return _INVALID


_BAD_TYPE = "invalid type for comparison"
_BAD_COMPARISON = "incompatible types for comparison"


def _kind_name(value: Any) -> Kind:
    return Kind.INVALID if value is None else type_of(value).kind


def _go_equal(a: Any, b: Any) -> bool:
    """Go's == on two interface values of comparable type."""
    ta, tb = type_of(a), type_of(b)
    if ta is not tb:
        return False
    if isinstance(a, Struct):
        return all(_go_equal(a.field(i), b.field(i)) for i in range(len(ta.fields))) if not hasattr(a, "sec") else a == b
    if isinstance(a, (Ptr, Nil)):
        return a is b or (isinstance(a, Nil) and isinstance(b, Nil))
    return a == b


def builtin_eq(arg1: Any, *arg2: Any) -> bool:
    arg1 = indirect_interface(arg1)
    if not arg2:
        raise GoCallError("missing argument for comparison")
    k1 = _basic_kind(arg1)
    for arg in arg2:
        arg = indirect_interface(arg)
        k2 = _basic_kind(arg)
        result = False
        if k1 != k2:
            if k1 == _INT and k2 == _UINT:
                result = arg1 >= 0 and int(arg1) == int(arg)
            elif k1 == _UINT and k2 == _INT:
                result = arg >= 0 and int(arg1) == int(arg)
            elif arg1 is not None and arg is not None:
                raise GoCallError(_BAD_COMPARISON)
        elif k1 == _INVALID:
            if not (_kind_name(arg1) == _kind_name(arg) or arg1 is None or arg is None):
                raise GoCallError(
                    f"non-comparable types {gofmt.sprint([arg1])}: {type_of(arg1)}, {type_of(arg)}: {gofmt.sprint([arg])}"
                )
            if is_nil(arg1) or is_nil(arg):
                result = is_nil(arg) == is_nil(arg1)
            else:
                if not type_of(arg).comparable:
                    raise GoCallError(f"non-comparable type {gofmt.sprint([arg])}: {type_of(arg)}")
                result = _go_equal(arg1, arg)
        else:
            result = arg1 == arg
        if result:
            return True
    return False


def builtin_ne(arg1: Any, arg2: Any) -> bool:
    return not builtin_eq(arg1, arg2)


def builtin_lt(arg1: Any, arg2: Any) -> bool:
    arg1 = indirect_interface(arg1)
    k1 = _basic_kind(arg1)
    if k1 == _INVALID:
        raise GoCallError(_BAD_TYPE)
    arg2 = indirect_interface(arg2)
    k2 = _basic_kind(arg2)
    if k2 == _INVALID:
        raise GoCallError(_BAD_TYPE)
    if k1 != k2:
        if k1 == _INT and k2 == _UINT:
            return arg1 < 0 or int(arg1) < int(arg2)
        if k1 == _UINT and k2 == _INT:
            return arg2 >= 0 and int(arg1) < int(arg2)
        raise GoCallError(_BAD_COMPARISON)
    if k1 in (_BOOL, _COMPLEX):
        raise GoCallError(_BAD_TYPE)
    if k1 == _STRING:
        return gostrconv.to_bytes(arg1) < gostrconv.to_bytes(arg2)
    return arg1 < arg2


def builtin_le(arg1: Any, arg2: Any) -> bool:
    if builtin_lt(arg1, arg2):
        return True
    return builtin_eq(arg1, arg2)


def builtin_gt(arg1: Any, arg2: Any) -> bool:
    return not builtin_le(arg1, arg2)


def builtin_ge(arg1: Any, arg2: Any) -> bool:
    return not builtin_lt(arg1, arg2)


def html_escape(s: str) -> str:
    """template.HTMLEscapeString."""
    if not any(c in s for c in "'\"&<>\x00"):
        return s
    return (
        s.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\x00", "\ufffd")
    )


_JS_SIMPLE = {"\\": "\\\\", "'": "\\'", '"': '\\"', "<": "\\u003C", ">": "\\u003E", "&": "\\u0026", "=": "\\u003D"}


def js_escape(s: str) -> str:
    """template.JSEscapeString."""
    out = []
    for ch in s:
        code = ord(ch)
        if ch in _JS_SIMPLE:
            out.append(_JS_SIMPLE[ch])
        elif code < 0x20:
            out.append(f"\\u00{code:02X}")
        elif code < 0x80:
            out.append(ch)
        elif 0xDC80 <= code <= 0xDCFF or gostrconv.is_print(ch):
            out.append(ch)
        else:
            out.append(f"\\u{code:04X}")
    return "".join(out)


def url_query_escape(s: str) -> str:
    """url.QueryEscape."""
    return urllib.parse.quote_plus(gostrconv.to_bytes(s), safe="-_.~")


def _builtin_html(*args: Any) -> str:
    return html_escape(eval_args(list(args)))


def _builtin_js(*args: Any) -> str:
    return js_escape(eval_args(list(args)))


def _builtin_urlquery(*args: Any) -> str:
    return url_query_escape(eval_args(list(args)))


def _unreachable(*args: Any) -> Any:
    raise AssertionError("and/or are evaluated by the executor")


V = T_REFLECT_VALUE
ANY = T_EMPTY_INTERFACE

BUILTINS: dict[str, GoFunc] = {
    f.name: f
    for f in (
        GoFunc("and", (V, V), V, _unreachable, variadic=True, builtin=True),
        GoFunc("call", (V, V), V, builtin_call, variadic=True, returns_error=True, builtin=True),
        GoFunc("html", (ANY,), T_STRING, _builtin_html, variadic=True, builtin=True),
        GoFunc("index", (V, V), V, builtin_index, variadic=True, returns_error=True, builtin=True),
        GoFunc("slice", (V, V), V, builtin_slice, variadic=True, returns_error=True, builtin=True),
        GoFunc("js", (ANY,), T_STRING, _builtin_js, variadic=True, builtin=True),
        GoFunc("len", (V,), T_INT, builtin_len, returns_error=True, builtin=True),
        GoFunc("not", (V,), T_BOOL, builtin_not, builtin=True),
        GoFunc("or", (V, V), V, _unreachable, variadic=True, builtin=True),
        GoFunc("print", (ANY,), T_STRING, lambda *a: gofmt.sprint(list(a)), variadic=True, builtin=True),
        GoFunc("printf", (T_STRING, ANY), T_STRING, lambda f, *a: gofmt.sprintf(f, list(a)), variadic=True,
               builtin=True),
        GoFunc("println", (ANY,), T_STRING, lambda *a: gofmt.sprintln(list(a)), variadic=True, builtin=True),
        GoFunc("urlquery", (ANY,), T_STRING, _builtin_urlquery, variadic=True, builtin=True),
        GoFunc("eq", (V, V), T_BOOL, builtin_eq, variadic=True, returns_error=True, builtin=True),
        GoFunc("ge", (V, V), T_BOOL, builtin_ge, returns_error=True, builtin=True),
        GoFunc("gt", (V, V), T_BOOL, builtin_gt, returns_error=True, builtin=True),
        GoFunc("le", (V, V), T_BOOL, builtin_le, returns_error=True, builtin=True),
        GoFunc("lt", (V, V), T_BOOL, builtin_lt, returns_error=True, builtin=True),
        GoFunc("ne", (V, V), T_BOOL, builtin_ne, returns_error=True, builtin=True),
    )
}


# -- Alertmanager's functions ----------------------------------------------------


def _go_regex():
    # Go's RE2 syntax and messages, not Python's `re` (bot.routing.goregex).
    from bot.routing import goregex

    return goregex


def _regexp_quote(s: str) -> str:
    """The quoting regexp.MustCompile uses in its panic message."""
    return "`" + s + "`" if gostrconv.can_backquote(s) else gostrconv.quote(s)


def am_match(pattern: str, s: str) -> bool:
    goregex = _go_regex()
    try:
        compiled = goregex.compile(pattern)
    except goregex.GoRegexError as exc:
        raise GoCallError(str(exc)) from None
    return compiled.match_string(s)


def am_re_replace_all(pattern: str, repl: str, text: str) -> str:
    goregex = _go_regex()
    try:
        compiled = goregex.compile(pattern)
    except goregex.GoRegexError as exc:
        raise GoCallError(f"regexp: Compile({_regexp_quote(pattern)}): {exc}") from None
    return compiled.replace_all_string(text, repl)


def am_join(sep: str, items: list[str]) -> str:
    return sep.join(items)


def am_string_slice(*items: str) -> Slice:
    return Slice(items, T_STRING_SLICE)


def am_date(layout: str, t: GoTime) -> str:
    return t.format(layout)


def am_tz(name: str, t: GoTime) -> GoTime:
    return t.in_location(load_location(name))


def am_url_unescape(s: str) -> str:
    """url.QueryUnescape."""
    data = gostrconv.to_bytes(s)
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c == 0x25:  # %
            chunk = data[i : i + 3]
            if len(chunk) < 3 or not all(chr(b) in "0123456789abcdefABCDEF" for b in chunk[1:]):
                bad = data[i : i + 3].decode("utf-8", "surrogateescape")
                raise GoCallError(f"invalid URL escape {gostrconv.quote(bad)}")
            out.append(int(chunk[1:].decode(), 16))
            i += 3
        elif c == 0x2B:  # +
            out.append(0x20)
            i += 1
        else:
            out.append(c)
            i += 1
    return gostrconv.from_bytes(bytes(out))


def _convert_to_float(value: Any) -> float:
    """prometheus/common's convertToFloat (the type switch is on exact types)."""
    value = indirect_interface(value)
    if value is None:
        raise GoCallError("can't convert <nil> to float")
    cls = value.__class__
    if cls is float:
        return value
    if cls is str:
        try:
            return _parse_float_like_go(value)
        except ValueError:
            raise GoCallError(f'strconv.ParseFloat: parsing {gostrconv.quote(value)}: invalid syntax') from None
    if cls is int:
        return float(value)
    t = type_of(value)
    if t.name in ("uint", "int64", "uint64"):
        return float(int(value))
    if t is T_DURATION:
        return int(value) / 1e9
    raise GoCallError(f"can't convert {t} to float")


def _parse_float_like_go(s: str) -> float:
    lowered = s.lower()
    if lowered in ("inf", "+inf", "infinity", "+infinity"):
        return math.inf
    if lowered in ("-inf", "-infinity"):
        return -math.inf
    if lowered == "nan":
        return math.nan
    return gostrconv.parse_float(s)


def _g4(v: float) -> str:
    return gostrconv.format_float(v, "g", 4)


def am_humanize_duration(value: Any) -> str:
    v = _convert_to_float(value)
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return _g4(v) + "s"
    if abs(v) >= 1:
        sign = ""
        if v < 0:
            sign = "-"
            v = -v
        duration = int(v)
        seconds = duration % 60
        minutes = (duration // 60) % 60
        hours = (duration // 3600) % 24
        days = duration // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(v) >= 1:
            break
        prefix = p
        v *= 1000
    return f"{_g4(v)}{prefix}s"


def alertmanager_funcs(now: Callable[[], GoTime] | None = None) -> dict[str, GoFunc]:
    """Alertmanager 0.25's function map plus the additions today's Alertmanager has.

    0.25: toUpper toLower title join match safeHtml reReplaceAll stringSlice.
    Later versions: trimSpace, safeUrl, urlUnescape, date, tz, since, humanizeDuration, toJson.
    `now` supplies the current time for `since` (tests pass a fixed clock).
    """
    from bot.templates.gotime import current_time

    clock = now or current_time
    return {
        f.name: f
        for f in (
            GoFunc("toUpper", (T_STRING,), T_STRING, gocase.to_upper),
            GoFunc("toLower", (T_STRING,), T_STRING, gocase.to_lower),
            GoFunc("title", (T_STRING,), T_STRING, gocase.title),
            GoFunc("join", (T_STRING, T_STRING_SLICE), T_STRING, am_join),
            GoFunc("match", (T_STRING, T_STRING), T_BOOL, am_match, returns_error=True),
            GoFunc("safeHtml", (T_STRING,), T_HTML, HTML),
            GoFunc("reReplaceAll", (T_STRING, T_STRING, T_STRING), T_STRING, am_re_replace_all),
            GoFunc("stringSlice", (T_STRING,), T_STRING_SLICE, am_string_slice, variadic=True),
            # Beyond 0.25:
            GoFunc("trimSpace", (T_STRING,), T_STRING, gocase.trim_space),
            GoFunc("safeUrl", (T_STRING,), T_URL, URL),
            GoFunc("urlUnescape", (T_STRING,), T_STRING, am_url_unescape, returns_error=True),
            GoFunc("date", (T_STRING, T_TIME), T_STRING, am_date),
            GoFunc("tz", (T_STRING, T_TIME), T_TIME, am_tz, returns_error=True),
            GoFunc("since", (T_TIME,), T_DURATION, lambda t: clock().sub(t)),
            GoFunc("humanizeDuration", (ANY,), T_STRING, am_humanize_duration, returns_error=True),
            GoFunc("toJson", (ANY,), T_STRING, gojson.marshal, returns_error=True),
        )
    }


FUNCS_0_25 = ("toUpper", "toLower", "title", "join", "match", "safeHtml", "reReplaceAll", "stringSlice")
FUNCS_ADDED = ("trimSpace", "safeUrl", "urlUnescape", "date", "tz", "since", "humanizeDuration", "toJson")
