"""Label sets as Alertmanager sees them: names, fingerprints and their printed forms.

Alertmanager's identity of an alert is the FNV-1a 64 fingerprint of its sorted labels
(`prometheus/common` `model.LabelSet.Fingerprint`), and group keys print label sets with
Go's `%q` quoting. Both are reproduced byte for byte here.
"""

from __future__ import annotations

import ctypes
import unicodedata
from collections.abc import Callable, Iterable, Mapping

import fnv_c.ext._fnv as _fnv_ext
from fnv_c import fnv1a_64 as _fnv1a_64_cffi

LabelSet = Mapping[str, str]

EMPTY_FINGERPRINT = 0xCBF29CE484222325  # FNV-1a offset basis: the fingerprint of {}


def _gil_holding_fnv1a_64() -> Callable[[bytes], int]:
    """fnv-c's C function, called without releasing the GIL.

    cffi releases the GIL around every call; for a 0.3 µs hash that handoff is a convoy: while
    the database thread holds the GIL each fingerprint waited for it (measured 5-90 µs per call
    under load instead of 0.4). ctypes.PyDLL calls the same exported C function with the GIL
    held. If the symbol is ever missing, the cffi call is still correct, only slower.
    """
    try:
        c_fnv = ctypes.PyDLL(_fnv_ext.__file__).fnv1a_64
    except (OSError, AttributeError):
        return _fnv1a_64_cffi
    c_fnv.argtypes = (ctypes.c_char_p, ctypes.c_size_t)
    c_fnv.restype = ctypes.c_uint64

    def fnv1a_64(data: bytes) -> int:
        return c_fnv(data, len(data))  # type: ignore[no-any-return]
    return fnv1a_64


fnv1a_64 = _gil_holding_fnv1a_64()


def fingerprint(labels: LabelSet) -> int:
    """Alertmanager's fingerprint: FNV-1a 64 over `name 0xFF value 0xFF` in name order."""
    if not labels:
        return EMPTY_FINGERPRINT
    # 0xFF never occurs in UTF-8, which is why Go uses it as the separator byte.
    parts = []
    for name in sorted(labels):
        parts.append(name.encode())
        parts.append(labels[name].encode())
    return fnv1a_64(b"\xff".join(parts) + b"\xff")


def common_pairs(maps: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The name/value pairs every map has, in the first map's order (Alertmanager's
    CommonLabels and CommonAnnotations)."""
    it = iter(maps)
    first = next(it, None)
    if first is None:
        return {}
    shared = dict(first)
    for m in it:
        if not shared:
            break
        if not m.items() >= shared.items():
            shared = {k: v for k, v in shared.items() if m.get(k) == v}
    return shared


def fingerprint_hex(labels: LabelSet) -> str:
    return f"{fingerprint(labels):016x}"


def is_classic_label_name(name: str) -> bool:
    """Prometheus's classic label name rule: `^[a-zA-Z_][a-zA-Z0-9_]*$`."""
    if not name:
        return False
    first = name[0]
    if not (first == "_" or ("a" <= first <= "z") or ("A" <= first <= "Z")):
        return False
    for ch in name[1:]:
        if not (ch == "_" or ("a" <= ch <= "z") or ("A" <= ch <= "Z") or ("0" <= ch <= "9")):
            return False
    return True


def is_utf8_label_name(name: str) -> bool:
    """Today's Alertmanager (UTF-8 and fallback modes): any non-empty valid UTF-8 string."""
    if not name:
        return False
    if name.isascii():
        return True
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes are not valid UTF-8
        return False
    return True


def go_quote(s: str) -> str:
    """Go's `strconv.Quote`: double-quoted, printable runes kept, the rest escaped."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o < 0x80 or not _is_go_printable(ch):
            out.append(_go_escape(o))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_NAMED_ESCAPES = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}


def _go_escape(o: int) -> str:
    if o in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[o]
    if o < 0x20 or o == 0x7F:
        return f"\\x{o:02x}"
    if 0xD800 <= o <= 0xDFFF:  # not a valid rune: Go prints U+FFFD
        o = 0xFFFD
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def _is_go_printable(ch: str) -> bool:
    # Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space.
    return unicodedata.category(ch)[0] in "LMNPS"


def label_set_string(labels: LabelSet) -> str:
    """`model.LabelSet.String()` as today's Alertmanager prints it in group keys.

    `{a="1", b="2"}`: names in byte order, values Go-quoted, joined by comma and space.
    (Alertmanager 0.25 sorted the whole `name="value"` strings instead; the two orders
    differ only when one name is a prefix of another followed by a character below `=`.)
    """
    return "{" + ", ".join(f"{name}={go_quote(labels[name])}" for name in sorted(labels)) + "}"


def restrict(labels: LabelSet, names: Iterable[str]) -> dict[str, str]:
    """The labels among `names` that the set has (absent names are simply absent)."""
    return {n: labels[n] for n in names if n in labels}
