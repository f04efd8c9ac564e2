#!/usr/bin/env python3
"""Generates the routing conformance data from the real amtool (Alertmanager 0.25, Debian).

Writes, under ../data/:
  valid/cNNN-<theme>.yml     generated Alertmanager configs that amtool accepts
  valid/cNNN-<theme>.json    for each: amtool's exact stdout/stderr/exit for `check-config`,
                             `config routes show` and every `config routes test` case
  invalid/iNNN-<what>.yml    configs amtool rejects (and a few edge inputs)
  invalid/expected.json      amtool's exact outputs for each of them
  multi/expected.json        `check-config` with several files at once
  manifest.json              amtool version, seed, counts, sizes, coverage tags

Every expected output comes from running amtool; nothing here writes one by hand. The inputs
are generated from a fixed seed, so running this twice gives byte-identical data.

Needs: /usr/bin/amtool (prometheus-alertmanager 0.25), and for the label-argument table Go with
golang-github-prometheus-alertmanager-dev (GOPATH mode, see labelparse/main.go).
Usage:  python3 tests/routing/conformance/gen/generate.py [--jobs N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

SEED = 20250425
GEN_VERSION = 1
HERE = Path(__file__).resolve().parent
SUITE = HERE.parent
DATA = SUITE / "data"
AM_SRC = Path("/usr/share/gocode/src/github.com/prometheus/alertmanager")
GO_ENV = {"GO111MODULE": "off", "GOPATH": "/usr/share/gocode"}

# Go's regexp `\s` (the class amtool's matcher parser trims with) is exactly these five.
GO_SPACE = "\t\n\f\r "

# --------------------------------------------------------------------------------------------
# Route model
# --------------------------------------------------------------------------------------------


@dataclass
class M:
    """One matcher: name, operator, decoded value, and candidate label values to try against it."""

    name: str
    op: str
    value: str
    probes: list[str] = field(default_factory=list)
    text: str | None = None  # explicit classic-syntax text (a parser quirk); rendered alone
    legacy: bool = True  # may be written as match:/match_re: when the operator allows
    tags: tuple[str, ...] = ()


@dataclass
class R:
    receiver: str | None = None
    ms: list[M] = field(default_factory=list)
    form: str = "matchers"  # matchers | legacy | mixed
    cont: bool = False
    group_by: list[str] | None = None
    timers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    children: list[R] = field(default_factory=list)
    explicit_false_continue: bool = False


@dataclass
class ConfigSpec:
    theme: str
    description: str
    text: str  # YAML text
    root: R | None = None
    labelsets: list[list[str]] = field(default_factory=list)  # explicit label argv lists
    random_labelsets: int = 0
    covers: list[str] = field(default_factory=list)
    differs_in_head: list[dict[str, str]] = field(default_factory=list)
    verify: int = 2  # how many label sets also get --verify.receivers cases
    extra_files: dict[str, str] = field(default_factory=dict)


@dataclass
class InvalidSpec:
    what: str
    text: str | bytes | None  # None: the path does not exist / is a directory (see kind)
    covers: str
    differs_in_head: list[dict[str, str]] = field(default_factory=list)
    expect_failure: bool = True
    kind: str = "file"  # file | missing | directory
    suffix: str = ".yml"


# --------------------------------------------------------------------------------------------
# YAML emitter with varied scalar styles (the configs must exercise the YAML loader too)
# --------------------------------------------------------------------------------------------


class Raw(str):
    """A scalar already rendered as YAML text."""


class Flow(list):
    """A list written in flow style: [a, b]."""


YAML11_SPECIAL = {
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "", "...", "---", "=",
}
PLAIN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_\-./]*(?: [A-Za-z0-9_\-./]+)*")
PLAIN_MATCHER_RE = re.compile(
    r'[A-Za-z_][A-Za-z0-9_]*(?:=|!=|=~|!~)(?:"[A-Za-z0-9_.*|()+\-]*"|[A-Za-z0-9_.\-]*)'
)


def _printable_for_yaml(s: str) -> bool:
    for ch in s:
        o = ord(ch)
        if o < 0x20 or 0x7F <= o <= 0x9F or o in (0x2028, 0x2029, 0xFEFF) or 0xD800 <= o < 0xE000:
            return False
    return True


def yaml_dq(s: str, ascii_only: bool = False) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif o < 0x20 or 0x7F <= o <= 0x9F:
            out.append("\\x%02x" % o)
        elif o in (0x2028, 0x2029, 0xFEFF):
            out.append("\\u%04x" % o)
        elif ascii_only and o > 0x7E:
            out.append("\\u%04x" % o if o <= 0xFFFF else "\\U%08x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def yaml_sq(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def scalar(v: Any, rng: Random, flow: bool = False, key: bool = False) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    s = str(v)
    styles: list[str] = []
    if PLAIN_RE.fullmatch(s) and s.lower() not in YAML11_SPECIAL:
        styles += ["plain"] * (6 if key else 3)
    elif not flow and not key and PLAIN_MATCHER_RE.fullmatch(s):
        styles += ["plain"] * 2
    if _printable_for_yaml(s):
        styles += ["single"] * 2
    styles += ["double"]
    if not s.isascii():
        styles += ["double-ascii"]
    style = rng.choice(styles)
    if style == "plain":
        return s
    if style == "single":
        return yaml_sq(s)
    return yaml_dq(s, ascii_only=(style == "double-ascii"))


def _inline(v: Any, rng: Random) -> str:
    if isinstance(v, (list, Flow)):
        return "[" + ", ".join(scalar(x, rng, flow=True) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{scalar(k, rng, flow=True, key=True)}: {scalar(x, rng, flow=True)}" for k, x in v.items()) + "}"
    return scalar(v, rng)


def _is_inline(v: Any) -> bool:
    return not isinstance(v, (list, dict)) or isinstance(v, Flow) or not v


def emit(obj: Any, rng: Random, indent: int = 0, compact: bool = False, out: list[str] | None = None) -> list[str]:
    out = [] if out is None else out
    pad = " " * indent
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = scalar(k, rng, key=True)
            if _is_inline(v):
                out.append(f"{pad}{key}: {_inline(v, rng)}")
            elif isinstance(v, dict):
                out.append(f"{pad}{key}:")
                emit(v, rng, indent + 2, compact, out)
            else:
                out.append(f"{pad}{key}:")
                emit(v, rng, indent if compact else indent + 2, compact, out)
    elif isinstance(obj, list):
        for item in obj:
            if _is_inline(item):
                out.append(f"{pad}- {_inline(item, rng)}")
            else:
                sub: list[str] = []
                emit(item, rng, indent + 2, compact, sub)
                sub[0] = pad + "- " + sub[0][indent + 2 :]
                out.extend(sub)
    else:
        out.append(pad + scalar(obj, rng))
    return out


def dump_yaml(doc: dict[str, Any], rng: Random) -> str:
    compact = rng.random() < 0.5
    return "\n".join(emit(doc, rng, 0, compact)) + "\n"


# --------------------------------------------------------------------------------------------
# Classic matcher syntax (pkg/labels/parse.go) and amtool label arguments
# --------------------------------------------------------------------------------------------


def can_unquote(value: str, op: str) -> bool:
    if '"' in value or "," in value:
        return False
    if value and (value[0] in GO_SPACE or value[-1] in GO_SPACE):
        return False
    if value.endswith("}"):
        return False  # ParseMatchers trims one trailing '}' of the whole element
    if op == "=" and value.startswith("~"):
        return False  # "foo=~x" is the regex operator
    return True


def unquoted_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def quote_classic(value: str, rng: Random) -> str:
    v = value.replace("\\", "\\\\").replace('"', '\\"')
    if "\n" in v and rng.random() < 0.25:
        pass  # a literal line feed inside quotes is tolerated by the classic parser
    else:
        v = v.replace("\n", "\\n")
    return '"' + v + '"'


def matcher_text(m: M, rng: Random) -> str:
    if m.text is not None:
        return m.text
    sp1 = rng.choice(["", "", "", " "])
    sp2 = rng.choice(["", "", "", " "]) if sp1 else ""
    if can_unquote(m.value, m.op) and rng.random() < 0.35:
        vt = unquoted_escape(m.value)
    else:
        vt = quote_classic(m.value, rng)
    return f"{m.name}{sp1}{m.op}{sp2}{vt}"


def matcher_elements(ms: list[M], rng: Random) -> list[str]:
    elems: list[str] = []
    i = 0
    while i < len(ms):
        if ms[i].text is not None:
            elems.append(ms[i].text)
            i += 1
            continue
        k = rng.choice([1, 1, 1, 2, 2, 3])
        chunk: list[M] = []
        while i < len(ms) and len(chunk) < k and ms[i].text is None:
            chunk.append(ms[i])
            i += 1
        s = rng.choice([",", ", ", " , ", ",  "]).join(matcher_text(m, rng) for m in chunk)
        r = rng.random()
        if r < 0.15:
            s = "{" + s + "}"
        elif r < 0.22:
            s = "{" + s + ",}"
        elif r < 0.27:
            s = s + ","
        elif r < 0.30:
            s = "{ " + s + " }"
        elems.append(s)
    return elems


LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def go_quote_meta(s: str) -> str:
    """A Go RE2 pattern matching exactly s (like regexp.QuoteMeta, plus escapes for control characters)."""
    out = []
    for ch in s:
        if ch in "\\.+*?()|[]{}^$":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\x{%x}" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def label_arg(name: str, value: str, rng: Random, fancy: float = 0.15) -> str:
    """An amtool label argument that ParseMatcher decodes to (name, "=", value)."""
    unq = '"' not in value and not (value and (value[0] in GO_SPACE or value[-1] in GO_SPACE)) and not value.startswith("~")
    if unq and rng.random() >= fancy:
        return f"{name}={unquoted_escape(value)}"
    sp = rng.choice(["", " "]) if rng.random() < 0.5 else ""
    v = value.replace("\\", "\\\\").replace('"', '\\"')
    if not (rng.random() < 0.2):
        v = v.replace("\n", "\\n")
    return f'{name}{sp}={sp}"{v}"'


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

NAMES = ["alertname", "env", "team", "severity", "service", "cluster", "region", "job", "owner", "tier", "app", "namespace", "priority"]
VALUES: dict[str, list[str]] = {
    "alertname": ["HighLatency", "ModelFeatureDrift", "PipelineFailed", "PipelineStalled", "DiskFull", "Watchdog"],
    "env": ["prod", "production", "staging", "dev", "test", "prod-eu"],
    "team": ["team-A", "team-B", "team-C", "infra", "ml", "data"],
    "severity": ["critical", "warning", "info", "page", "none"],
    "service": ["api", "db", "cache", "registry", "scheduler", "tracking"],
    "cluster": ["aa", "bb", "eu-1", "us-2"],
    "region": ["eu-west-1", "us-east-1", "ap-south-1"],
    "job": ["node", "mlflow", "airflow", "kube-state-metrics"],
    "owner": ["team-A", "team-B", "team-C", "team-X"],
    "tier": ["frontend", "backend", "batch"],
    "app": ["web", "worker", "trainer"],
    "namespace": ["default", "kube-system", "ml-prod"],
    "priority": ["P1", "P2", "P3", "p1"],
}
SPECIAL_VALUES = [
    "", " ", "a b", "a,b", "a=b", 'say "hi"', "back\\slash", "line\nbreak", "tab\there", "{braces}", "x}",
    "ünïcödé", "日本語", "🙂", "עברית", "e\u0301", "\u00a0nbsp", "trailing ", " leading", "~tilde", "!bang",
    "a|b", "*", ".", "$", "^x", "'single'", "`tick`", "#hash", "a: b", "- dash", "%", "@at", "null", "yes",
    "0x1F", "1e3", "\\n literal", '\\"', "}{", "\u2028sep", "x\v", "\u00a0", "K", "\u212a", "ß", "ẞ", "ſ",
]
RECEIVERS = ["default", "team-A", "team-B", "team-C", "infra", "ml-team-slack", "data-team-slack", "pagerduty", "db", "oncall", "blackhole", "webhook"]

# Regexes where Go RE2 and Python's re differ, with label values that tell them apart.
RE2_POOL: list[tuple[str, list[str], str]] = [
    (r"foo(?i)bar", ["fooBAR", "foobar", "FOObar", "fooBar"], "re2-midpattern-flag"),
    (r"(?i)foo", ["FOO", "fOo", "foo", "fo"], "re2-case-insensitive"),
    (r"(?i)k", ["\u212a", "K", "k", "x"], "re2-unicode-casefold"),
    (r"(?i)s", ["ſ", "S", "s"], "re2-unicode-casefold"),
    (r"(?i)ß", ["ẞ", "ß", "SS"], "re2-unicode-casefold"),
    (r"(?i)σ+", ["Σ", "ς", "σΣς", "s"], "re2-unicode-casefold"),
    (r"(?i)İ", ["i", "İ", "I", "ı"], "re2-unicode-casefold"),
    (r"(?i)ǅ", ["Ǆ", "ǆ", "ǅ"], "re2-unicode-casefold"),
    (r"abc\z", ["abc", "abc\n"], "re2-backslash-z"),
    (r"\Qa.b*c\E", ["a.b*c", "aXbbc", "a.bc"], "re2-quote-meta"),
    (r"\Q(x)\E|y", ["(x)", "y", "x"], "re2-quote-meta"),
    (r"[[:alpha:]]+", ["abc", "ABC", "é", "a]", "l]", "abc1"], "re2-posix-class"),
    (r"[[:^digit:]]+", ["abc", "123", "a1"], "re2-posix-class"),
    (r"[[:word:]]+", ["a_1", "é", "a-b"], "re2-posix-class"),
    (r"x[[:space:]]y", ["x y", "x\ty", "x\u00a0y", "x\vy"], "re2-posix-class"),
    (r"[[:upper:]][[:lower:]]+", ["Abc", "ABC", "Éte"], "re2-posix-class"),
    (r"[[:alpha:]-z]+", ["a-z", "-", "é"], "re2-posix-class"),
    (r"\pL+", ["abc", "αβγ", "日本", "a1", "١"], "re2-unicode-class"),
    (r"\p{Greek}+", ["αβγ", "Ωmega", "abc"], "re2-unicode-class"),
    (r"\PL+", ["123", "-_-", "a"], "re2-unicode-class"),
    (r"\p{Lu}\p{Ll}*", ["Émile", "émile", "A"], "re2-unicode-class"),
    (r"\pN+", ["123", "١٢٣", "Ⅻ", "½"], "re2-unicode-class"),
    (r"\p{Han}+", ["日本", "カタ"], "re2-unicode-class"),
    (r"\d+", ["123", "١٢٣", "１２３", "12a"], "re2-ascii-digit"),
    (r"\w+", ["abc_1", "héllo", "日本", "a-b"], "re2-ascii-word"),
    (r"\s", [" ", "\t", "\v", "\u00a0", "\u2003", "\n", "\f"], "re2-ascii-space"),
    (r"\S+", ["a\u00a0b", "ab"], "re2-ascii-space"),
    (r".*\bfoo\b.*", ["a foo b", "éfooé", "xfoox", "foo"], "re2-ascii-word-boundary"),
    (r"a$", ["a", "a\n"], "re2-dollar-newline"),
    (r"(?m)^a$", ["a", "a\nb", "b\na"], "re2-multiline"),
    (r".*", ["a\nb", "anything", ""], "re2-dot-newline"),
    (r"(?s).*", ["a\nb", ""], "re2-dotall"),
    (r"(?s:a.b)", ["a\nb", "aXb"], "re2-dotall"),
    (r"a.b", ["a\nb", "aXb", "a🙂b"], "re2-dot-newline"),
    (r"(?U)a+", ["aaa", "a", ""], "re2-ungreedy"),
    (r"(?U)(a+?)b", ["aab", "b"], "re2-ungreedy"),
    (r"(?i)a(?-i)b", ["Ab", "AB", "ab"], "re2-midpattern-flag"),
    (r"(?i:ab)c", ["ABc", "ABC"], "re2-scoped-flag"),
    (r"a|bc", ["a", "bc", "abc", "ac"], "anchored-alternation"),
    (r"ab|cd", ["ab", "cd", "abcd", "ad"], "anchored-alternation"),
    (r"foo|foobar", ["foo", "foobar", "foob"], "anchored-alternation"),
    (r"|x", ["", "x"], "anchored-alternation"),
    (r"x|", ["", "x"], "anchored-alternation"),
    (r"^a|b$", ["a", "b", "ab"], "anchored-alternation"),
    (r"a{,2}", ["a{,2}", "aa", ""], "re2-literal-brace"),
    (r"a{2,3}", ["aa", "aaaa"], "re2-repeat"),
    (r"x{0}", ["", "x"], "re2-repeat"),
    (r"x{1000}", ["x" * 1000, "x"], "re2-repeat"),
    (r"\x41\x{1F642}", ["A🙂", "A"], "re2-hex-escape"),
    (r"\x{263a}+", ["☺☺", "x"], "re2-hex-escape"),
    (r"\101", ["A", "\\101"], "re2-octal-escape"),
    (r"\0", ["0", "\\0", ""], "re2-octal-escape"),
    (r"a\tb", ["a\tb", "a\\tb"], "re2-escape"),
    (r"\_x", ["_x"], "re2-escape"),
    (r"(?i)[a-c]+", ["ABC", "abc", "AbD"], "re2-case-insensitive"),
    (r"(?P<n>x+)", ["xx", ""], "re2-named-group"),
    (r"[]a]+", ["]a", "a", "["], "re2-class-bracket"),
    (r"[^]a]", ["b", "]", "\n"], "re2-class-bracket"),
    (r"[a-]+", ["a-", "-", "b"], "re2-class-bracket"),
    (r"\.", [".", "a"], "re2-escape"),
    (r"\Aabc", ["abc"], "re2-anchor"),
    (r"(a+)+b", ["a" * 32 + "c", "aab"], "catastrophic-backtracking"),
    (r"(x|x)*y", ["x" * 32, "xy"], "catastrophic-backtracking"),
    (r"(.*a){12}", ["a" * 11 + "b" * 20, "a" * 12], "catastrophic-backtracking"),
    (r"[α-ω]+", ["αβ", "Ω"], "unicode-range"),
    (r"é", ["é", "e\u0301"], "unicode-normalization"),
    (r".", ["🙂", "é", "e\u0301", ""], "unicode-dot"),
    (r"()", [""], "empty-group"),
    (r"(|a)", ["", "a"], "empty-group"),
    (r"\Q\E", [""], "re2-quote-meta"),
]


def general_regex(name: str, rng: Random) -> tuple[str, list[str]]:
    vals = VALUES.get(name, ["x", "y"])
    a, b = rng.sample(vals, 2) if len(vals) >= 2 else (vals[0], vals[0])
    kind = rng.randrange(9)
    if kind == 0:
        return f"{go_quote_meta(a)}|{go_quote_meta(b)}", [a, b, a + b, rng.choice(vals)]
    if kind == 1:
        p = a[: max(1, len(a) // 2)]
        return f"{p}.*", [a, p, "x" + a, ""]
    if kind == 2:
        s = a[-2:]
        return f".*{s}", [a, s, a + "x"]
    if kind == 3:
        return ".+", [a, ""]
    if kind == 4:
        return ".*", ["", a]
    if kind == 5:
        return "[a-z]+", [a, a.upper(), ""]
    if kind == 6:
        return f"({a[:1]}|{b[:1]}).*".replace("\\", ""), [a, b, "zz"]
    if kind == 7:
        return f"(?i){go_quote_meta(a)}", [a.upper(), a, a + "!"]
    return "", ["", a]


def random_matcher(rng: Random, names: list[str] | None = None, special: float = 0.1, re2: float = 0.1) -> M:
    name = rng.choice(names or NAMES)
    op = rng.choices(["=", "!=", "=~", "!~"], weights=[40, 20, 26, 14])[0]
    vals = VALUES.get(name, ["x"])
    if op in ("=", "!="):
        if rng.random() < special:
            v = rng.choice(SPECIAL_VALUES)
        else:
            v = rng.choice(vals)
        others = [x for x in vals if x != v]
        probes = [v, rng.choice(others) if others else "other", ""]
        return M(name, op, v, probes, tags=("special-value",) if v not in vals else ())
    if rng.random() < re2:
        regex, probes, tag = rng.choice(RE2_POOL)
        return M(name, op, regex, list(probes), tags=(tag,))
    regex, probes = general_regex(name, rng)
    return M(name, op, regex, probes)


# --------------------------------------------------------------------------------------------
# Rendering a route tree into a config document
# --------------------------------------------------------------------------------------------


def route_doc(r: R, rng: Random, root: bool = False) -> dict[str, Any]:
    d: dict[str, Any] = {}
    items: list[tuple[str, Any]] = []
    if r.receiver is not None:
        items.append(("receiver", r.receiver))
    if r.group_by is not None:
        gb = r.group_by
        items.append(("group_by", Flow(gb) if (rng.random() < 0.6 or not gb) else list(gb)))
    matchers: list[M] = []
    match: dict[str, str] = {}
    match_re: dict[str, str] = {}
    for m in r.ms:
        legacy_ok = m.legacy and m.text is None and LEGACY_NAME.fullmatch(m.name) and m.op in ("=", "=~")
        use_legacy = legacy_ok and (r.form == "legacy" or (r.form == "mixed" and rng.random() < 0.5))
        target = match if m.op == "=" else match_re
        if use_legacy and m.name not in target:
            target[m.name] = m.value
        else:
            matchers.append(m)
    if match:
        items.append(("match", match))
    if match_re:
        items.append(("match_re", match_re))
    if matchers:
        elems = matcher_elements(matchers, rng)
        items.append(("matchers", Flow(elems) if rng.random() < 0.3 and all(_flow_ok(e) for e in elems) else elems))
    if r.cont:
        items.append(("continue", True))
    elif r.explicit_false_continue:
        items.append(("continue", False))
    for k, v in r.timers.items():
        items.append((k, v))
    for k, v in r.extra.items():
        items.append((k, v))
    if rng.random() < 0.3:
        rng.shuffle(items)
    d.update(items)
    if r.children:
        d["routes"] = [route_doc(c, rng) for c in r.children]
    return d


def _flow_ok(s: str) -> bool:
    return _printable_for_yaml(s)


def config_doc(root: R, receivers: list[str], rng: Random, extra_top: dict[str, Any] | None = None,
               receiver_bodies: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    rec_list = []
    for name in receivers:
        body = {"name": name}
        if receiver_bodies and name in receiver_bodies:
            body.update(receiver_bodies[name])
        rec_list.append(body)
    parts = [("route", route_doc(root, rng, root=True)), ("receivers", rec_list)]
    if rng.random() < 0.25:
        parts.reverse()
    if extra_top:
        for k, v in extra_top.items():
            if k == "global":
                parts.insert(0, (k, v))
            else:
                parts.append((k, v))
    doc.update(parts)
    return doc


def walk(r: R, path: tuple[R, ...] = ()) -> list[tuple[R, tuple[R, ...]]]:
    out = [(r, path + (r,))]
    for c in r.children:
        out.extend(walk(c, path + (r,)))
    return out


def receivers_of(r: R) -> list[str]:
    names: list[str] = []
    for node, _ in walk(r):
        if node.receiver is not None and node.receiver not in names:
            names.append(node.receiver)
    return names


def random_tree(rng: Random, depth: int, fanout: int, receivers: list[str], p_cont: float = 0.3,
                form: str | None = None, special: float = 0.1, re2: float = 0.08, names: list[str] | None = None,
                max_ms: int = 3) -> R:
    root = R(receiver=rng.choice(receivers))
    if rng.random() < 0.5:
        root.group_by = rng.sample(["alertname", "service", "cluster", "env"], rng.randint(1, 3))

    def grow(node: R, d: int) -> None:
        if d >= depth:
            return
        for _ in range(rng.randint(1, fanout)):
            c = R(
                receiver=rng.choice(receivers) if rng.random() < 0.75 else None,
                ms=[random_matcher(rng, names, special, re2) for _ in range(rng.randint(1, max_ms))],
                form=form or rng.choice(["matchers", "legacy", "mixed"]),
                cont=rng.random() < p_cont,
                explicit_false_continue=rng.random() < 0.05,
            )
            if rng.random() < 0.15:
                c.group_by = rng.choice([["..."], ["alertname"], ["alertname", "env"], ["job"], []])
            if rng.random() < 0.1:
                c.timers = {"group_wait": rng.choice(["0s", "10s", "1m"]), "repeat_interval": rng.choice(["1h", "4h", "1d"])}
            node.children.append(c)
            if rng.random() < 0.55:
                grow(c, d + 1)

    grow(root, 0)
    return root


def has_empty_group_by_child(r: R) -> bool:
    return any(node.group_by == [] for node, path in walk(r) if len(path) > 1)


GROUP_BY_EMPTY_NOTE = {
    "key": "group_by_empty_override",
    "reason": "A child route has `group_by: []`. Alertmanager 0.25 treats it as unset (inherits the parent's "
    "group_by); Alertmanager >= 0.31 (HEAD) treats it as an explicit empty override (PR #4825). amtool's "
    "routes output does not show group_by, so these outputs agree; the engine's grouping differs.",
}


# --------------------------------------------------------------------------------------------
# Label sets
# --------------------------------------------------------------------------------------------


def satisfy(path: tuple[R, ...], rng: Random) -> dict[str, str]:
    labels: dict[str, str] = {}
    for node in path:
        for m in node.ms:
            probes = m.probes or [m.value]
            if m.op == "=":
                v = m.value if rng.random() < 0.85 else rng.choice(probes)
                labels[m.name] = v
            elif m.op == "!=":
                if rng.random() < 0.5:
                    labels.pop(m.name, None)
                else:
                    labels[m.name] = rng.choice(probes)
            elif m.op == "=~":
                labels[m.name] = probes[0] if rng.random() < 0.6 else rng.choice(probes)
            else:
                if rng.random() < 0.4:
                    labels.pop(m.name, None)
                else:
                    labels[m.name] = rng.choice(probes)
    return labels


def random_labelsets(root: R, rng: Random, n: int) -> list[list[str]]:
    nodes = walk(root)[1:]
    sets: list[list[str]] = []
    for _ in range(n):
        if nodes and rng.random() < 0.8:
            _, path = rng.choice(nodes)
            labels = satisfy(path, rng)
        else:
            labels = {}
        for _ in range(rng.choice([0, 0, 1, 1, 2])):
            name = rng.choice(NAMES)
            labels.setdefault(name, rng.choice(VALUES[name] + [rng.choice(SPECIAL_VALUES)]))
        if labels and rng.random() < 0.2:
            labels.pop(rng.choice(sorted(labels)))
        items = list(labels.items())
        rng.shuffle(items)
        sets.append([label_arg(k, v, rng) for k, v in items])
    return sets


# --------------------------------------------------------------------------------------------
# Themes: valid configs
# --------------------------------------------------------------------------------------------


def extract_go_raw_string(path: Path, func: str) -> str:
    src = path.read_text()
    start = src.index(f"func {func}(")
    body = src[start:]
    m = re.search(r"in := `(.*?)`", body, re.S)
    assert m, func
    return m.group(1)


def indent(text: str, n: int) -> str:
    return "\n".join((" " * n + line) if line.strip() else "" for line in text.splitlines())


def theme_reference(rng: Random) -> list[ConfigSpec]:
    specs: list[ConfigSpec] = []
    route_test = AM_SRC / "dispatch" / "route_test.go"
    receivers = ["notify-def", "notify-A", "notify-testing", "notify-productionA", "notify-productionB", "notify-BC"]
    labelsets = [
        ["owner=team-A"],
        ["owner=team-A", "env=unset"],
        ["owner=team-C"],
        ["owner=team-A", "env=testing"],
        ["owner=team-A", "env=production"],
        ["group_by=role"],
        ["env=testing", "group_by=role"],
        ["env=testing", "group_by=role", "wait=long"],
        ["owner=team-A", "level=critical", "env=production"],
        ["owner=team-A", "env=testing", "baz=quux"],
        ["owner=team-A", "env=testing", "baz=xquux"],
        ["owner=team-B", "env=production"],
        ["owner=team-A", "env=produce", "job=x"],
        [],
        ["foo=bar"],
    ]
    for func, form in (("TestRouteMatch", "match/match_re"), ("TestRouteMatchers", "matchers"), ("TestRouteMatchersAndMatch", "mixed")):
        tree = extract_go_raw_string(route_test, func)
        text = (
            f"# The route tree of Alertmanager 0.25's dispatch/route_test.go {func} ({form} form).\n"
            "route:\n" + indent(tree.strip("\n"), 2) + "\n"
            "receivers:\n" + "".join(f"- name: '{r}'\n" for r in receivers)
        )
        specs.append(ConfigSpec("reference", f"dispatch/route_test.go {func}: the documented route tree, {form} form", text,
                                labelsets=labelsets, covers=["reference-example", "group-by-all-unquoted", "continue", form]))
    parent = extract_go_raw_string(route_test, "TestInheritParentGroupByAll")
    text = "route:\n  receiver: default\n" + indent(parent.strip("\n"), 2) + "\nreceivers:\n- name: default\n"
    specs.append(ConfigSpec("reference", "dispatch/route_test.go TestInheritParentGroupByAll", text,
                            labelsets=[["env=parent"], ["env=child1"], ["env=child2"], []], covers=["reference-example", "group-by-all"]))
    # The routes.yml of the reference's §6.7 (amtool documented outputs).
    text = """\
route:
  receiver: default
  group_by: [alertname]
  routes:
  - matchers: ['owner="team-A"', 'level!="critical"']
    receiver: team-A
    routes:
    - matchers: ['env="testing"']
      receiver: team-A-testing
      group_by: ['...']
    - match:
        env: production
      receiver: prodA
      continue: true
    - match_re:
        env: produ.*
      receiver: prodB
  - matchers: ['owner=~"team-(B|C)"']
    receiver: team-BC
    continue: true
  - matchers: ['service=~"db|cache"']
    receiver: db
receivers:
- name: default
- name: team-A
- name: team-A-testing
- name: prodA
- name: prodB
- name: team-BC
- name: db
"""
    specs.append(ConfigSpec("reference", "the amtool routes.yml of the reference §6.7 (documented outputs)", text,
                            labelsets=[["owner=team-A"], ["owner=team-A", "env=testing"], ["owner=team-A", "env=production"],
                                       ["owner=team-C", "service=db"], ["owner=team-C"], ["foo=bar"], []],
                            covers=["reference-example", "documented-amtool-output"], verify=4))
    return specs


def theme_random_forms(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        form = ["matchers", "legacy", "mixed"][i % 3]
        receivers = rng.sample(RECEIVERS, rng.randint(2, 6))
        root = random_tree(rng, depth=rng.randint(1, 4), fanout=rng.randint(1, 4), receivers=receivers, form=form)
        doc = config_doc(root, receivers_of(root), rng)
        notes = [GROUP_BY_EMPTY_NOTE] if has_empty_group_by_child(root) else []
        specs.append(ConfigSpec("operators", f"random tree, {form} form, all four operators", dump_yaml(doc, rng), root=root,
                                random_labelsets=rng.randint(6, 10), covers=["operators", f"form-{form}"], differs_in_head=notes))
    return specs


# Classic-parser quirks: (matcher element text, label name, probes, tag)
QUIRK_MATCHERS: list[tuple[str, str, list[str], str]] = [
    ("tricky=~~~", "tricky", ["~~", "~", "~~~"], "quirk-tilde-regex"),
    ("{foo=bar}}", "foo", ["bar}", "bar"], "quirk-double-brace"),
    ("{foo=,bar=}}", "bar", ["}", ""], "quirk-empty-and-brace"),
    ("{foo=bar\\t}", "foo", ["bar\\t", "bar\t"], "quirk-spurious-escape"),
    ("{foo=bar\\n}", "foo", ["bar\n", "bar\\n"], "quirk-newline-escape"),
    ("job=", "job", ["", "x"], "quirk-empty-unquoted"),
    ('quote="She said: \\"Hi, ladies! That\'s gender-neutral…\\""', "quote", ['She said: "Hi, ladies! That\'s gender-neutral…"', "She said"], "quirk-escaped-quote-comma"),
    ('  spaced  =  "  padded value  "  ', "spaced", ["  padded value  ", "padded value"], "quirk-whitespace"),
    ("sp = bar baz", "sp", ["bar baz", "bar"], "quirk-unquoted-space"),
    ('a="x,y",b=z', "a", ["x,y", "x"], "quirk-comma-in-quotes"),
    ('bs="\\\\"', "bs", ["\\", "\\\\"], "quirk-backslash"),
    ('bq="\\\\\\""', "bq", ['\\"', '"'], "quirk-backslash-quote"),
    ('tb="tab\\there"', "tb", ["tab\\there", "tab\there"], "quirk-spurious-escape"),
    ('nl="line\\nbreak"', "nl", ["line\nbreak", "line\\nbreak"], "quirk-newline-escape"),
    ('rawnl="line\nbreak"', "rawnl", ["line\nbreak"], "quirk-raw-newline"),
    ('uni="ünï©ødé 🙂"', "uni", ["ünï©ødé 🙂", "unicode"], "unicode-value"),
    ('ue="\\u00e9"', "ue", ["\\u00e9", "é"], "quirk-spurious-escape"),
    ('br="}"', "br", ["}", ""], "quirk-brace-value"),
    ("brc=}", "brc", ["", "}"], "quirk-trailing-brace-trimmed"),
    ("{obr=b", "obr", ["b"], "quirk-leading-brace"),
    ("tc=b,", "tc", ["b"], "quirk-trailing-comma"),
    ("{tc2=b, }", "tc2", ["b"], "quirk-trailing-comma"),
    ("k:colon=x", "k:colon", ["x"], "quirk-colon-name"),
    ("__name__=up", "__name__", ["up"], "quirk-reserved-name"),
    ("_u = x", "_u", ["x"], "quirk-underscore-name"),
    ("ev=~\"\"", "ev", ["", "x"], "empty-regex"),
    ("ne!~\"\"", "ne", ["", "x"], "empty-regex"),
    ("eq==x", "eq", ["=x", "x"], "quirk-value-starts-with-equals"),
    ("nt!=~x", "nt", ["~x", "x"], "quirk-value-starts-with-tilde"),
    ("rt=~=x", "rt", ["=x"], "quirk-value-starts-with-equals"),
    ("ws=x\u00a0", "ws", ["x\u00a0", "x"], "quirk-nbsp-not-trimmed"),
    ("vt=x\v", "vt", ["x\v", "x"], "quirk-vt-not-trimmed"),
    ("lb=\\", "lb", ["\\"], "quirk-lone-backslash"),
    ("apos='x'", "apos", ["'x'", "x"], "quirk-single-quotes-literal"),
    ("tck=`x`", "tck", ["`x`", "x"], "quirk-backtick-literal"),
    ('uq=a\\"b', "uq", ['a"b'], "quirk-unquoted-escaped-quote"),
    ("hash=#x", "hash", ["#x"], "quirk-hash"),
    ("{ multi = \"a\" , multi2 != \"b\" }", "multi", ["a"], "quirk-braces-spaces"),
    ("cr=a\rb", "cr", ["a\rb"], "quirk-carriage-return"),
    ('tab="a\tb"', "tab", ["a\tb"], "quirk-raw-tab"),
]


def theme_quoting(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    per = max(1, -(-len(QUIRK_MATCHERS) // n))
    chunks = [QUIRK_MATCHERS[i : i + per] for i in range(0, len(QUIRK_MATCHERS), per)]
    for ci, chunk in enumerate(chunks):
        root = R(receiver="default")
        receivers = ["default"]
        for j, (text, name, probes, tag) in enumerate(chunk):
            rec = f"q{ci}-{j}"
            receivers.append(rec)
            ms = [M(name, "=", probes[0], probes, text=text, tags=(tag,))]
            if rng.random() < 0.4:
                ms.append(random_matcher(rng, ["env", "team"], special=0.5))
            root.children.append(R(receiver=rec, ms=ms, cont=rng.random() < 0.5))
        # plus some generated quoting: every special value as = and != matchers
        for k in range(3):
            v = rng.choice(SPECIAL_VALUES)
            op = rng.choice(["=", "!="])
            rec = f"s{ci}-{k}"
            receivers.append(rec)
            root.children.append(R(receiver=rec, ms=[M("sv", op, v, [v, "plain", ""], tags=("special-value",))], cont=True, form=rng.choice(["matchers", "mixed"])))
        doc = config_doc(root, receivers, rng)
        labelsets: list[list[str]] = []
        for child in root.children:
            m = child.ms[0]
            for p in m.probes[:2]:
                labelsets.append([label_arg(m.name, p, rng)])
        specs.append(ConfigSpec("quoting", "classic matcher parser quirks: quoting, escaping, braces, commas, whitespace",
                                dump_yaml(doc, rng), root=root, labelsets=labelsets, random_labelsets=3,
                                covers=sorted({t for _, _, _, t in chunk} | {"quoting-escaping"})))
    return specs


def theme_continue(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        depth = 2 + i % 4
        receivers = [f"r{k}" for k in range(8)]

        def build(d: int, prefix: str) -> list[R]:
            kids = []
            for s in range(rng.randint(2, 3)):
                name = ["env", "team", "severity", "service"][d % 4]
                vals = VALUES[name]
                m = M(name, rng.choice(["=", "=~", "!="]) if s else "=", rng.choice(vals), vals + [""])
                if m.op == "=~":
                    m.value = "|".join(rng.sample(vals, 2))
                c = R(receiver=rng.choice(receivers) if rng.random() < 0.8 else None, ms=[m],
                      cont=rng.random() < 0.5, form=rng.choice(["matchers", "legacy", "mixed"]))
                if d + 1 < depth and rng.random() < 0.7:
                    c.children = build(d + 1, prefix + str(s))
                kids.append(c)
            return kids

        root = R(receiver="r0", children=build(0, ""))
        doc = config_doc(root, receivers, rng)
        specs.append(ConfigSpec("continue", f"continue: true at several depths (depth {depth})", dump_yaml(doc, rng), root=root,
                                random_labelsets=10, covers=["continue", "continue-depth"]))
    return specs


def theme_empty(rng: Random, n: int) -> list[ConfigSpec]:
    forms = [
        ('foo=""', "foo", "=", ""), ('foo!=""', "foo", "!=", ""), ('foo=~".*"', "foo", "=~", ".*"),
        ('foo!~".+"', "foo", "!~", ".+"), ('foo=~""', "foo", "=~", ""), ('foo!~""', "foo", "!~", ""),
        ("foo=", "foo", "=", ""), ('foo=~".+"', "foo", "=~", ".+"), ('foo!~".*"', "foo", "!~", ".*"),
        ('foo=~"|x"', "foo", "=~", "|x"), ('foo=~"x?"', "foo", "=~", "x?"), ('foo!=" "', "foo", "!=", " "),
    ]
    specs = []
    for i in range(n):
        root = R(receiver="default")
        receivers = ["default"]
        chosen = rng.sample(forms, rng.randint(4, 7))
        for j, (text, name, op, value) in enumerate(chosen):
            rec = f"e{j}"
            receivers.append(rec)
            if op in ("=", "=~") and rng.random() < 0.4:
                m = M(name, op, value, ["", "x", " "])  # legacy form (match: foo: "" / match_re)
                root.children.append(R(receiver=rec, ms=[m], form="legacy", cont=rng.random() < 0.6))
            else:
                root.children.append(R(receiver=rec, ms=[M(name, op, value, ["", "x", " "], text=text)], cont=rng.random() < 0.6))
        doc = config_doc(root, receivers, rng)
        labelsets = [[], ["foo="], ['foo=""'], ["foo=x"], ['foo=" "'], ["bar=x"], ["foo=x", "bar="], ['foo="\\n"']]
        specs.append(ConfigSpec("empty", "empty-string matching: missing label == \"\"", dump_yaml(doc, rng), root=root,
                                labelsets=labelsets, random_labelsets=2, covers=["empty-string-matching", "missing-label"]))
    return specs


def theme_re2(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    pool = list(RE2_POOL)
    per = -(-len(pool) // n)
    for i in range(n):
        chunk = pool[i * per : (i + 1) * per]
        if not chunk:
            break
        root = R(receiver="default")
        receivers = ["default"]
        labelsets: list[list[str]] = []
        for j, (regex, probes, tag) in enumerate(chunk):
            rec = f"re{i}-{j}"
            receivers.append(rec)
            name = f"l{j}"
            op = "=~" if rng.random() < 0.75 else "!~"
            root.children.append(R(receiver=rec, ms=[M(name, op, regex, probes, tags=(tag,))], cont=True,
                                   form=rng.choice(["matchers", "legacy", "mixed"])))
            for p in probes:
                labelsets.append([label_arg(name, p, rng)])
        doc = config_doc(root, receivers, rng)
        specs.append(ConfigSpec("re2", "regexes where Go RE2 and Python re differ (anchored ^(?:…)$)", dump_yaml(doc, rng), root=root,
                                labelsets=labelsets, covers=sorted({t for _, _, t in chunk} | {"re2-vs-python"}), verify=1))
    return specs


def theme_unicode(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        receivers = ["default", "uni-a", "uni-b", "uni-c", "uni-d"]
        root = R(receiver="default")
        vals = rng.sample(SPECIAL_VALUES, 8)
        for j, v in enumerate(vals):
            op = rng.choice(["=", "!=", "=~", "!~"])
            if op in ("=", "!="):
                value = v
            elif rng.random() < 0.5:
                value = go_quote_meta(v)
            else:
                value = ".*" + go_quote_meta(v[:1]) + ".*"
            name = rng.choice(["summary", "desc", "env"])
            root.children.append(R(receiver=rng.choice(receivers[1:]), ms=[M(name, op, value, [v, v.upper(), "", v + v])], cont=rng.random() < 0.5,
                                   form=rng.choice(["matchers", "legacy", "mixed"])))
        doc = config_doc(root, receivers, rng)
        specs.append(ConfigSpec("unicode", "label values with unicode, spaces and special characters", dump_yaml(doc, rng), root=root,
                                random_labelsets=10, covers=["unicode-value", "special-characters", "spaces"]))
    return specs


def theme_duplicates(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        root = R(receiver="default")
        receivers = ["default", "dup", "other"]
        m = random_matcher(rng, ["env", "team"], special=0)
        for k in range(rng.randint(2, 4)):
            same = M(m.name, m.op, m.value, m.probes)
            root.children.append(R(receiver=rng.choice(["dup", "dup", "other"]), ms=[same], cont=rng.random() < 0.7,
                                   form=rng.choice(["matchers", "legacy", "mixed"])))
        for k in range(rng.randint(1, 3)):
            c = R(receiver="dup", ms=[random_matcher(rng, ["severity"], special=0)], cont=True)
            c.children = [R(receiver=None, ms=[M(m.name, m.op, m.value, m.probes)], cont=True), R(receiver="dup", ms=[random_matcher(rng, ["service"])])]
            root.children.append(c)
        doc = config_doc(root, receivers, rng)
        specs.append(ConfigSpec("duplicates", "duplicate receivers in results; siblings with identical matchers", dump_yaml(doc, rng), root=root,
                                random_labelsets=10, covers=["duplicate-receivers", "identical-siblings"], verify=3))
    return specs


def theme_deep(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        depth = rng.randint(8, 16)
        receivers = [f"lvl{k}" for k in range(depth + 1)]
        root = R(receiver="lvl0")
        node = root
        for d in range(1, depth + 1):
            name = NAMES[d % len(NAMES)]
            m = random_matcher(rng, [name], special=0.05, re2=0.05)
            c = R(receiver=f"lvl{d}" if rng.random() < 0.7 else None, ms=[m], cont=rng.random() < 0.3,
                  form=rng.choice(["matchers", "legacy", "mixed"]))
            if rng.random() < 0.25:  # a sibling before the chain's next level
                node.children.append(R(receiver=f"lvl{d}", ms=[random_matcher(rng, [name])], cont=rng.random() < 0.5))
            node.children.append(c)
            if rng.random() < 0.3:
                node.children.append(R(receiver=f"lvl{d}", ms=[random_matcher(rng, [name])]))
            node = c
        doc = config_doc(root, receivers, rng)
        specs.append(ConfigSpec("deep", f"deep tree ({depth} levels)", dump_yaml(doc, rng), root=root, random_labelsets=10,
                                covers=["deep-tree", "inherited-receiver"]))
    return specs


def theme_big(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    for i in range(n):
        receivers = rng.sample(RECEIVERS, 8)
        root = random_tree(rng, depth=5, fanout=6, receivers=receivers, re2=0.15, special=0.15)
        doc = config_doc(root, receivers_of(root), rng)
        notes = [GROUP_BY_EMPTY_NOTE] if has_empty_group_by_child(root) else []
        specs.append(ConfigSpec("big", f"large random tree ({len(walk(root))} routes)", dump_yaml(doc, rng), root=root,
                                random_labelsets=12, covers=["large-tree", "operators"], differs_in_head=notes))
    return specs


def theme_group_by(rng: Random, n: int) -> list[ConfigSpec]:
    specs = []
    variants = [["..."], ["alertname"], ["alertname", "env"], [], ["job", "instance"], ["k8s_pod"]]
    for i in range(n):
        receivers = ["default", "gb-a", "gb-b", "gb-c"]
        root = R(receiver="default", group_by=rng.choice([["..."], ["alertname"], None]))
        for j in range(rng.randint(2, 4)):
            c = R(receiver=rng.choice(receivers), ms=[random_matcher(rng, ["env", "team"])], group_by=rng.choice(variants),
                  cont=rng.random() < 0.4, timers={k: v for k, v in [("group_wait", rng.choice(["0s", "30s", "1m30s"])),
                                                                          ("group_interval", rng.choice(["1m", "5m", "1h"])),
                                                                          ("repeat_interval", rng.choice(["1h", "4h", "1d", "1w", "90m"]))] if rng.random() < 0.5})
            c.children = [R(receiver=None, ms=[random_matcher(rng, ["severity"])], group_by=rng.choice(variants + [None, None]))]
            root.children.append(c)
        doc = config_doc(root, receivers, rng)
        notes = [GROUP_BY_EMPTY_NOTE] if has_empty_group_by_child(root) else []
        specs.append(ConfigSpec("group_by", "group_by overrides (['...'], [], replaced never merged) and timers", dump_yaml(doc, rng),
                                 root=root, random_labelsets=6, covers=["group-by-override", "group-by-all", "timers"], differs_in_head=notes))
    return specs


def theme_yaml(rng: Random) -> list[ConfigSpec]:
    specs = []
    quirk = """\
# YAML 1.1 scalars decoded into strings: Go's yaml.v2 keeps the source text.
route:
  receiver: yes
  group_by: [alertname]
  routes:
  - match: {flag: yes, n: 010, f: 1e3, hex: 0x1F, nul: ~, b: off, t: 12:30:00, d: 2024-01-01}
    receiver: "123"
  - match:
      y: on
    receiver: 1.5
  - match_re:
      num: 0[0-9]+
    receiver: no
receivers: [{name: yes}, {name: 123}, {name: 1.5}, {name: no}]
"""
    specs.append(ConfigSpec("yaml", "YAML 1.1 scalars (yes/no/on/~/numbers/times) as strings", quirk,
                            labelsets=[["flag=yes", "n=010", "f=1e3", "hex=0x1F", "b=off", "t=12:30:00", "d=2024-01-01"],
                                       ["flag=true", "n=8", "f=1000", "hex=31", "b=false", "t=45000", "d=2024-01-01"],
                                       ["flag=yes", "n=010", "f=1e3", "hex=0x1F", "b=off", "t=12:30:00", "d=2024-01-01T00:00:00Z"],
                                       ["y=on"], ["y=true"], ["num=010"], ["num=8"], []],
                            covers=["yaml-1.1-scalars"], verify=3))
    anchors = """\
route:
  receiver: default
  group_by: &gb [alertname, cluster]
  routes:
  - &teamroute
    matchers: ['team="ml"']
    receiver: ml-team-slack
    group_by: *gb
    continue: true
  - <<: *teamroute
    matchers: ['team="data"']
    receiver: data-team-slack
  - matchers: &sev ['severity="critical"']
    receiver: pagerduty
    routes:
    - matchers: *sev
      receiver: pagerduty
receivers:
- &r {name: default}
- name: ml-team-slack
- name: data-team-slack
- name: pagerduty
"""
    specs.append(ConfigSpec("yaml", "YAML anchors, aliases and merge keys", anchors,
                            labelsets=[["team=ml"], ["team=data"], ["team=ml", "severity=critical"], ["severity=critical"], []],
                            covers=["yaml-anchors", "yaml-merge-key"]))
    block = """\
---
# block scalars, comments, document markers, explicit tags
route:
  receiver: !!str default   # a comment
  routes:
    - matchers:
        - >-
          env="prod"
        - |-
          team=~"ml|data"
      receiver: "folded"
    - matchers: [ "msg=\\"multi\\nline\\"" ]
      receiver: 'lit'
    - match:
        quoted: "tab\\there"
        single: 'it''s'
        plain: a b  c
      receiver: "escaped"
receivers:
- name: default
- name: folded
- name: lit
- name: escaped
...
"""
    specs.append(ConfigSpec("yaml", "YAML block scalars, comments, tags, document markers", block,
                            labelsets=[["env=prod", "team=ml"], ["env=prod", "team=ops"], ['msg="multi\\nline"'],
                                       ["quoted=tab\there", "single=it's", "plain=a b  c"],
                                       ["quoted=tab\\there", "single=it's", "plain=a b  c"], []],
                            covers=["yaml-block-scalars", "yaml-tags"]))
    crlf = "route:\r\n  receiver: default\r\n  routes:\r\n  - matchers: ['env=\"prod\"']\r\n    receiver: prod\r\nreceivers:\r\n- name: default\r\n- name: prod\r\n"
    specs.append(ConfigSpec("yaml", "CRLF line endings", crlf, labelsets=[["env=prod"], ["env=dev"]], covers=["yaml-crlf"]))
    bom = "\ufeffroute:\n  receiver: default\n  routes:\n  - matchers: ['env=\"prod\"']\n    receiver: prod\nreceivers:\n- name: default\n- name: prod\n"
    specs.append(ConfigSpec("yaml", "UTF-8 byte order mark", bom, labelsets=[["env=prod"], ["env=dev"]], covers=["yaml-bom"]))
    flowstyle = '{"route": {"receiver": "default", "routes": [{"matchers": ["env=\\"prod\\""], "receiver": "prod", "continue": true}, {"match_re": {"env": "pr.*"}, "receiver": "pr"}]}, "receivers": [{"name": "default"}, {"name": "prod"}, {"name": "pr"}]}\n'
    specs.append(ConfigSpec("yaml", "a config written as JSON (a YAML flow mapping)", flowstyle, labelsets=[["env=prod"], ["env=pre"], []], covers=["yaml-json"]))
    unicode_keys = """\
route:
  receiver: "défaut 🙂"
  routes:
  - matchers: ["team=\\"ü\\""]
    receiver: "équipe ü"
  - matchers: ['x="日本"']
    receiver: 日本
receivers:
- name: "défaut 🙂"
- name: "équipe ü"
- name: 日本
"""
    specs.append(ConfigSpec("yaml", "non-ASCII receiver names",
                            unicode_keys, labelsets=[["x=日本"], ["team=ü"], ["team=ü", "x=日本"], []], covers=["unicode-receiver"]))
    return specs


def theme_receivers(rng: Random) -> list[ConfigSpec]:
    specs = []
    odd = ["a,b", "with space", "ünï", "🙂", "tab\there", "x=y", "quote\"d", "back\\slash", "-dash", "123", "yes", "a  b", "trailing "]
    for i in range(3):
        names = ["default"] + rng.sample(odd, 6)
        root = R(receiver="default")
        for j, nm in enumerate(names[1:]):
            root.children.append(R(receiver=nm, ms=[M("k", "=", str(j), [str(j)])], cont=rng.random() < 0.6))
        root.children.append(R(receiver=names[1], ms=[M("k", "=~", "[0-9]", ["1", "7"])], cont=True))
        doc = config_doc(root, names, rng)
        labelsets = [[f"k={j}"] for j in range(len(names))] + [[]]
        specs.append(ConfigSpec("receivers", "receiver names with commas, spaces, quotes, unicode (printed joined by ',')", dump_yaml(doc, rng),
                                root=root, labelsets=labelsets, covers=["odd-receiver-names"], verify=4))
    return specs


def theme_schema(rng: Random) -> list[ConfigSpec]:
    """Full-schema configs: globals, integrations, inhibit rules, time intervals, templates."""
    specs = []
    tmpl = '{{ define "slack.mlops.title" }}[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }}{{ end }}\n'
    text = """\
global:
  resolve_timeout: 5m
  slack_api_url: 'https://hooks.slack.com/services/T000/B000/XXXX'
  pagerduty_url: 'https://events.pagerduty.com/v2/enqueue'
templates:
- 'templates/*.tmpl'
route:
  receiver: default
  group_by: [alertname, service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
  - matchers: ['severity="critical"']
    receiver: pagerduty
    continue: true
  - matchers: ['alertname="ModelFeatureDrift"']
    receiver: ml-team-slack
  - matchers: ['alertname=~"Pipeline.*"']
    receiver: data-team-slack
    mute_time_intervals: [offhours]
    active_time_intervals: [workdays]
inhibit_rules:
- source_matchers: ['severity="critical"']
  target_matchers: ['severity="warning"']
  equal: [alertname, service]
- source_match: {severity: critical}
  target_match_re: {severity: 'warning|info'}
time_intervals:
- name: offhours
  time_intervals:
  - times: [{start_time: '18:00', end_time: '24:00'}]
    weekdays: ['monday:friday']
- name: workdays
  time_intervals:
  - weekdays: ['monday:friday']
    location: 'Europe/Berlin'
receivers:
- name: default
  slack_configs:
  - channel: '#mlops-alerts'
    send_resolved: true
- name: pagerduty
  pagerduty_configs:
  - routing_key: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'
- name: ml-team-slack
  slack_configs:
  - channel: '#ml-team-alerts'
- name: data-team-slack
  slack_configs:
  - channel: '#data-team-alerts'
    api_url: 'https://hooks.slack.com/services/T1/B1/YYYY'
"""
    specs.append(ConfigSpec("schema", "the MLOps platform routing with globals, integrations, inhibit rules, time intervals, a template",
                            text, labelsets=[["alertname=ModelFeatureDrift"], ["alertname=ModelFeatureDrift", "severity=critical"],
                                             ["alertname=PipelineFailed"], ["alertname=PipelineFailed", "severity=critical"],
                                             ["alertname=Pipeline"], ["alertname=pipelineFailed"], ["severity=critical"], []],
                            covers=["full-schema", "templates", "inhibit-rules", "time-intervals"], extra_files={"templates/mlops.tmpl": tmpl}, verify=3))
    text2 = """\
templates: ['does-not-exist/*.tmpl', '/nonexistent/abs/*.tmpl']
mute_time_intervals:
- name: legacy-mute
  time_intervals:
  - months: ['december']
    days_of_month: ['24:26']
route:
  receiver: hook
  routes:
  - receiver: hook
    matchers: [env="prod"]
    mute_time_intervals: [legacy-mute]
    group_wait: 0s
receivers:
- name: hook
  webhook_configs:
  - url: 'http://127.0.0.1:5001/'
    send_resolved: false
    max_alerts: 10
- name: unused
"""
    specs.append(ConfigSpec("schema", "webhook receiver, legacy mute_time_intervals, templates that match nothing, an unused receiver",
                            text2, labelsets=[["env=prod"], ["env=dev"]], covers=["templates", "webhook", "mute-time-intervals"]))
    # Debian's shipped sample config and upstream's valid testdata fixtures.
    sample = Path("/etc/prometheus/alertmanager.yml")
    if sample.exists():
        t = sample.read_text().replace("'/etc/prometheus/alertmanager_templates/*.tmpl'", "'templates/*.tmpl'")
        specs.append(ConfigSpec("upstream", "Debian's sample /etc/prometheus/alertmanager.yml (templates path made relative)", t,
                                labelsets=[["service=foo1"], ["service=foo1", "severity=critical"], ["service=files", "severity=critical"],
                                           ["service=database", "owner=team-X"], ["service=database", "owner=team-Z"], ["service=^(foo1|foo2|baz)$"], []],
                                covers=["upstream-fixture", "email", "pagerduty-v1"]))
    for fixture in ("conf.good.yml", "conf.empty-fields.yml", "conf.group-by-all.yml", "conf.http-config.good.yml"):
        p = AM_SRC / "config" / "testdata" / fixture
        specs.append(ConfigSpec("upstream", f"Alertmanager 0.25 config/testdata/{fixture}", p.read_text(),
                                labelsets=[["service=foo1", "severity=critical"], ["service=database", "owner2=team-X"], ["service=files"], ["service=foo1"], []],
                                covers=["upstream-fixture"]))
    return specs


LABEL_ARG_PROBES: list[str] = [
    "k=v", "k= v", "k =v", " k=v", "k=v ", "k= v w ", "k=a b", 'k="a b"', 'k=" a "', 'k="a=b"', "k=a=b", "k==b", 'k="a,b"', "k=a,b",
    "k=", 'k=""', 'k=" "', "k=  ", 'k="\\""', 'k="\\\\"', "k=\\\\", "k=\\n", 'k="\\n"', "k=a\\tb", 'k="a\\tb"', "k=a\tb", "k=\\",
    'k="x\\"', "k=x}", "k={x", "k={x}", "k=}", "k=🙂", "k=ünï", "k=日本語", "k=x\u00a0", "k=\u00a0x", "k=x\v", "k=\u2003x\u2003",
    'k="~x"', "k=!x", "k=~x", "k!=x", "k=~~", "k!~x", "k", "=v", "1k=v", "k-1=v", "k.x=v", "k:x=v", ":k=v", "_k=v", "__k=v",
    "föö=v", '"k"=v', "{k=v}", "k=v,j=w", 'k="x', 'k=x"', 'k=a"b', 'k=a\\"b', "k='x'", "k=`x`", 'k="line\nbreak"', "k=line\nbreak",
    "k=\n", 'k="\n"', "k=#x", "k=x #y", "k=*", "k=.*", "k=\u2028", "K=v", "k=V",
]


def theme_label_args(rng: Random) -> list[ConfigSpec]:
    """How amtool parses `key=value` arguments: each probe alone, against a config that tells values apart."""
    text = """\
route:
  receiver: default
  routes:
  - matchers: ['k="v"']
    receiver: exact-v
  - matchers: ['k=""']
    receiver: empty
    continue: true
  - matchers: ['k=~" .*|.* "']
    receiver: outer-space
  - matchers: ['k=~".*\\\\\\\\.*"']
    receiver: has-backslash
  - matchers: ['k=~"(?s).*\\n.*"']
    receiver: has-newline
  - matchers: ['k=~".*\\".*"']
    receiver: has-quote
  - matchers: ['k=~".*=.*"']
    receiver: has-equals
  - matchers: ['k=~".*[{}].*"']
    receiver: has-brace
  - matchers: ['k=~"[a-z ]+"']
    receiver: lower-space
  - matchers: ['k!=""']
    receiver: other
  - matchers: ['K=~".+"']
    receiver: upper-name
  - matchers: ['k:x=~".+"', 'k_1=""']
    receiver: colon-name
receivers:
- name: default
- name: exact-v
- name: empty
- name: outer-space
- name: has-backslash
- name: has-newline
- name: has-quote
- name: has-equals
- name: has-brace
- name: lower-space
- name: other
- name: upper-name
- name: colon-name
"""
    labelsets = [[a] for a in LABEL_ARG_PROBES] + [["k=a", "k=v"], ["k=v", "k=a"], ["k=v", "j=w"], ["k=v", "bad"], ["bad", "k!=v"]]
    return [ConfigSpec("label_args", "amtool label arguments: quotes, spaces, '=' and escapes inside values, and malformed ones",
                       text, labelsets=labelsets, covers=["label-arguments", "label-parse-errors"], verify=2)]


# --------------------------------------------------------------------------------------------
# Invalid configs (§1.4 of the reference, regexes, unknown fields, YAML errors, duplicates)
# --------------------------------------------------------------------------------------------

OK_RECEIVERS = "receivers:\n- name: default\n- name: a\n"


def inv(route_body: str, rest: str = OK_RECEIVERS) -> str:
    return "route:\n" + indent(route_body.strip("\n"), 2) + "\n" + rest


UTF8_NAME_NOTE = {
    "key": "utf8_label_names",
    "reason": "Alertmanager 0.25's classic matcher parser only accepts label names matching [a-zA-Z_:][a-zA-Z0-9_:]*. HEAD's default "
    "fallback mode parses with the UTF-8 matcher parser first, which accepts quoted names and any unquoted run of non-reserved "
    "characters as a name (and skips whitespace before '{'), so HEAD loads this config (and prints names with reserved "
    "characters quoted in route keys / routes show).",
}
GROUP_BY_UTF8_NOTE = {
    "key": "utf8_group_by",
    "reason": "0.25 validates group_by names as classic label names; HEAD validates with compat.IsValidLabelName, which in the "
    "default fallback mode accepts any non-empty UTF-8 string, so HEAD loads this config.",
}
ROUTE_LABELS_NOTE = {
    "key": "route_labels",
    "reason": "Route `labels:` are new in Alertmanager 0.34 (merged parent to child, templated per group; a bad name gives "
    "'invalid label name \"…\" in route labels'). 0.25 does not know the field, so strict YAML rejects it as unknown.",
}
WILDCARD_TYPO_NOTE = {
    "key": "wildcard_group_by_message",
    "reason": "0.25's message has the typo 'other other labels'; HEAD says 'cannot have wildcard group_by (`...`) and other "
    "labels at the same time'.",
}


def invalid_specs() -> list[InvalidSpec]:
    s: list[InvalidSpec] = []
    a = s.append
    # --- §1.4 table
    a(InvalidSpec("empty", "", "§1.4 empty file"))
    a(InvalidSpec("whitespace", "   \n\n# only a comment\n", "§1.4 empty file (whitespace and comments)"))
    a(InvalidSpec("no-route", "receivers:\n- name: default\n", "§1.4 no route"))
    a(InvalidSpec("null-route", "route:\nreceivers:\n- name: default\n", "§1.4 no route (null)"))
    a(InvalidSpec("root-no-receiver", inv("group_by: [alertname]"), "§1.4 root without receiver"))
    a(InvalidSpec("root-match", inv("receiver: default\nmatch:\n  env: prod"), "§1.4 root with match"))
    a(InvalidSpec("root-match-re", inv("receiver: default\nmatch_re:\n  env: prod.*"), "§1.4 root with match_re"))
    a(InvalidSpec("root-matchers", inv("receiver: default\nmatchers: ['env=\"prod\"']"), "§1.4 root with matchers"))
    ti = "time_intervals:\n- name: night\n  time_intervals:\n  - times: [{start_time: '00:00', end_time: '06:00'}]\n"
    a(InvalidSpec("root-mute", inv("receiver: default\nmute_time_intervals: [night]", OK_RECEIVERS + ti), "§1.4 root with mute_time_intervals"))
    a(InvalidSpec("root-active", inv("receiver: default\nactive_time_intervals: [night]", OK_RECEIVERS + ti), "§1.4 root with active_time_intervals"))
    a(InvalidSpec("root-continue", inv("receiver: default\ncontinue: true"), "§1.4 continue on root"))
    a(InvalidSpec("undefined-receiver", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  receiver: nope"), "§1.4 undefined receiver"))
    a(InvalidSpec("undefined-receiver-deep", inv("receiver: nope-root\nroutes:\n- matchers: [a=b]\n  receiver: nope-1\n  routes:\n  - receiver: nope-2\n    matchers: [c=d]"),
                  "§1.4 undefined receiver (children checked first)"))
    a(InvalidSpec("undefined-receiver-root", inv("receiver: nobody"), "§1.4 undefined receiver at the root"))
    a(InvalidSpec("undefined-mute", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  mute_time_intervals: [nope]", OK_RECEIVERS + ti), "§1.4 undefined time interval (mute)"))
    a(InvalidSpec("undefined-active", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  active_time_intervals: [nope]", OK_RECEIVERS + ti), "§1.4 undefined time interval (active)"))
    a(InvalidSpec("duplicate-receiver", inv("receiver: default", "receivers:\n- name: default\n- name: team-X\n- name: team-X\n"), "§1.4 duplicate receiver name"))
    a(InvalidSpec("receiver-no-name", inv("receiver: default", "receivers:\n- name: default\n- webhook_configs: [{url: 'http://x/'}]\n"), "§1.4 receiver without name"))
    a(InvalidSpec("group-by-dup", inv("group_by: [cluster, alertname, cluster]"), "§1.4 duplicated label in group_by (wins over the missing receiver)"))
    a(InvalidSpec("group-by-wildcard-mixed", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  group_by: [alertname, '...']"), "§1.4 wildcard group_by with other labels",
                  differs_in_head=[WILDCARD_TYPO_NOTE]))
    a(InvalidSpec("group-by-invalid", inv("receiver: default\ngroup_by: ['-invalid-']"), "§1.4 invalid group_by label name", differs_in_head=[GROUP_BY_UTF8_NOTE]))
    a(InvalidSpec("group-by-dash", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  group_by: [a-b]"), "§1.4 invalid group_by label name", differs_in_head=[GROUP_BY_UTF8_NOTE]))
    a(InvalidSpec("group-interval-zero", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  group_interval: 0s"), "§1.4 group_interval zero"))
    a(InvalidSpec("repeat-interval-zero", inv("receiver: default\nrepeat_interval: 0m"), "§1.4 repeat_interval zero"))
    a(InvalidSpec("match-key-dash", inv("receiver: default\nroutes:\n- match:\n    a-b: x"), "§1.4 invalid match: key"))
    a(InvalidSpec("match-key-colon", inv("receiver: default\nroutes:\n- match:\n    'a:b': x"), "§1.4 invalid match: key (':' is valid in matchers, not in match)"))
    a(InvalidSpec("match-re-key", inv("receiver: default\nroutes:\n- match_re:\n    '0abc': x"), "§1.4 invalid match_re: key"))
    a(InvalidSpec("match-re-null", inv("receiver: default\nroutes:\n- match_re:\n    service:"), "§1.4 match_re with a null value (TestNilRegexp)"))
    a(InvalidSpec("match-re-bad", inv("receiver: default\nroutes:\n- match_re:\n    foo: '(bar'"), "§1.4 bad regex in match_re"))
    a(InvalidSpec("matchers-bad-regex", inv("receiver: default\nroutes:\n- matchers: ['foo=~\"invalid[regexp\"']"), "§1.4 bad regex in matchers"))
    a(InvalidSpec("unknown-top-field", inv("receiver: default", OK_RECEIVERS + "foo: bar\n"), "§1.4 unknown top-level field"))
    a(InvalidSpec("unknown-route-field", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  recevier: a"), "§1.4 unknown field in a route"))
    a(InvalidSpec("unknown-receiver-field", inv("receiver: default", "receivers:\n- name: default\n  webhook_config:\n  - url: 'http://x/'\n"), "§1.4 unknown field in a receiver"))
    a(InvalidSpec("unknown-global-field", "global:\n  resolve_timout: 5m\n" + inv("receiver: default"), "§1.4 unknown field in global"))
    a(InvalidSpec("two-unknown-fields", inv("receiver: default\nfoo: 1\nroutes:\n- bar: 2\n  receiver: a"), "§1.4 two unknown fields (both lines reported)"))
    a(InvalidSpec("route-labels", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  labels:\n    team: ml"), "§1.4 route labels (HEAD-only field)",
                  differs_in_head=[ROUTE_LABELS_NOTE]))
    a(InvalidSpec("route-labels-invalid-name", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  labels:\n    '-invalid-': x"),
                  "§1.4 route label name invalid (HEAD-only field)", differs_in_head=[ROUTE_LABELS_NOTE]))
    a(InvalidSpec("time-interval-dup", inv("receiver: default", OK_RECEIVERS + ti + "- name: night\n  time_intervals: []\n"), "duplicate time interval name"))
    a(InvalidSpec("mute-time-interval-dup", inv("receiver: default", OK_RECEIVERS + ti.replace("time_intervals:\n- name", "mute_time_intervals:\n- name", 1) + ti),
                  "time interval name used in mute_time_intervals and time_intervals"))
    mute_ti = ti.replace("time_intervals:\n- name", "mute_time_intervals:\n- name", 1)
    a(InvalidSpec("mute-time-interval-dup-legacy", inv("receiver: default", OK_RECEIVERS + mute_ti + ti.split("\n", 1)[1]),
                  "two mute_time_intervals with the same name"))
    a(InvalidSpec("time-interval-no-name", inv("receiver: default", OK_RECEIVERS + "time_intervals:\n- time_intervals: []\n"), "time interval without a name"))
    # --- bad regexes (RE2 rejects what Python re may accept, and vice versa)
    for i, rx in enumerate([r"(?=x)", r"(?!x)", r"(?<=x)", r"(?<!x)", r"(a)\1", r"a++", r"(?>a)", r"x{1001}", r"\Z", r"(?#c)", r"(?x) a",
                            r"[[:foo:]]", r"(?<n>x)", r"\C", r"a**", r"[z-a]", r"*a", r"\y", r"bar)", r"\Qab", r"\x", r"\u00e9", r"(?P=n)",
                            r"\p{Foo}", r"[\b]", r"\e"]):
        form = ["matchers", "match_re"][i % 2]
        body = (f"receiver: default\nroutes:\n- matchers: [{yaml_sq('foo=~' + json.dumps(rx))}]" if form == "matchers"
                else f"receiver: default\nroutes:\n- match_re:\n    foo: {yaml_sq(rx)}")
        a(InvalidSpec(f"regex-{i:02d}", inv(body), f"bad regex for RE2 ({form}): {rx}"))
    # --- matcher syntax
    a(InvalidSpec("matcher-bad-name", inv("receiver: default\nroutes:\n- matchers: ['invalid-name=\"x\"']"), "matcher with an invalid label name",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-digit-name", inv("receiver: default\nroutes:\n- matchers: ['0abc=x']"), "matcher name starting with a digit",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-quoted-name", inv("receiver: default\nroutes:\n- matchers: ['\"foo bar\"=\"x\"']"), "quoted label name (UTF-8 parser only)",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-utf8-name", inv("receiver: default\nroutes:\n- matchers: ['föö=\"x\"']"), "non-ASCII label name (UTF-8 parser only)",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-dotted-name", inv("receiver: default\nroutes:\n- matchers: ['service.name=\"x\"']"), "dotted label name (UTF-8 parser only)",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-unclosed-quote", inv("receiver: default\nroutes:\n- matchers: ['foo=\"bar']"), "unclosed quote"))
    a(InvalidSpec("matcher-inner-quote", inv("receiver: default\nroutes:\n- matchers: ['foo=ba\"r']"), "unescaped double quote"))
    a(InvalidSpec("matcher-empty-token", inv("receiver: default\nroutes:\n- matchers: ['foo=bar,,baz=qux']"), "empty matcher between commas"))
    a(InvalidSpec("matcher-escaped-comma", inv("receiver: default\nroutes:\n- matchers: ['a=x\\,y']"), "backslash does not protect a comma"))
    a(InvalidSpec("matcher-space-before-brace", inv("receiver: default\nroutes:\n- matchers: [' {foo=\"bar\"}']"), "whitespace before '{' defeats brace trimming",
                  differs_in_head=[UTF8_NAME_NOTE]))
    a(InvalidSpec("matcher-escaped-closing-quote", inv("receiver: default\nroutes:\n- matchers: ['lbq=\"a\\\"']"), "the closing quote is escaped"))
    a(InvalidSpec("matcher-no-operator", inv("receiver: default\nroutes:\n- matchers: ['foo']"), "matcher without operator"))
    a(InvalidSpec("matcher-double-op", inv("receiver: default\nroutes:\n- matchers: ['foo=!bar', 'x<y']"), "bad operator"))
    a(InvalidSpec("matcher-int", inv("receiver: default\nroutes:\n- matchers: [1]"), "a number where a matcher string is expected"))
    a(InvalidSpec("matchers-string", inv("receiver: default\nroutes:\n- matchers: 'foo=bar'"), "matchers given as a string, not a list"))
    # --- types and durations
    a(InvalidSpec("continue-not-bool", inv("receiver: default\nroutes:\n- matchers: [a=b]\n  continue: maybe"), "continue is not a boolean"))
    a(InvalidSpec("bad-duration", inv("receiver: default\ngroup_wait: 5x"), "bad duration"))
    a(InvalidSpec("negative-duration", inv("receiver: default\ngroup_interval: -1m"), "negative duration"))
    a(InvalidSpec("float-duration", inv("receiver: default\nrepeat_interval: 1.5h"), "fractional duration"))
    a(InvalidSpec("routes-mapping", inv("receiver: default\nroutes: {receiver: a}"), "routes is a mapping, not a list"))
    a(InvalidSpec("receivers-string", inv("receiver: default", "receivers: default\n"), "receivers is a string"))
    a(InvalidSpec("group-by-string", inv("receiver: default\ngroup_by: alertname"), "group_by is a string"))
    a(InvalidSpec("match-list", inv("receiver: default\nroutes:\n- match: [a, b]"), "match is a list"))
    # --- YAML syntax
    a(InvalidSpec("yaml-bad-indent", "route:\n  receiver: default\n routes: []\nreceivers:\n- name: default\n", "YAML syntax error (indentation)"))
    a(InvalidSpec("yaml-unclosed-quote", "route:\n  receiver: 'default\nreceivers:\n- name: default\n", "YAML syntax error (unclosed quote)"))
    a(InvalidSpec("yaml-tab", "route:\n\treceiver: default\nreceivers:\n- name: default\n", "YAML syntax error (tab indentation)"))
    a(InvalidSpec("yaml-unclosed-flow", "route:\n  receiver: default\n  group_by: [a, b\nreceivers:\n- name: default\n", "YAML syntax error (unclosed flow sequence)"))
    a(InvalidSpec("yaml-unknown-anchor", "route:\n  receiver: *nope\nreceivers:\n- name: default\n", "YAML alias to an unknown anchor"))
    a(InvalidSpec("yaml-not-a-mapping", "- route\n- receivers\n", "YAML document is a list"))
    a(InvalidSpec("yaml-scalar", "just a string\n", "YAML document is a scalar"))
    a(InvalidSpec("invalid-utf8", b"route:\n  receiver: \xff\xfe\nreceivers:\n- name: default\n", "invalid UTF-8 bytes"))
    a(InvalidSpec("binary-garbage", bytes(Random(SEED).randrange(256) for _ in range(512)), "binary garbage"))
    # --- duplicate keys
    a(InvalidSpec("dup-key-route", "route:\n  receiver: default\n  receiver: a\nreceivers:\n- name: default\n- name: a\n", "duplicate key in a route"))
    a(InvalidSpec("dup-key-top", "route:\n  receiver: default\nroute:\n  receiver: a\nreceivers:\n- name: default\n- name: a\n", "duplicate top-level key"))
    a(InvalidSpec("dup-key-match", inv("receiver: default\nroutes:\n- match:\n    env: a\n    env: b"), "duplicate key inside match:"))
    # --- receivers that need settings
    a(InvalidSpec("slack-no-api-url", inv("receiver: default", "receivers:\n- name: default\n  slack_configs:\n  - channel: '#x'\n"), "slack receiver without api_url"))
    a(InvalidSpec("pagerduty-no-key", inv("receiver: default", "receivers:\n- name: default\n  pagerduty_configs:\n  - severity: critical\n"), "pagerduty receiver without a key"))
    a(InvalidSpec("webhook-no-url", inv("receiver: default", "receivers:\n- name: default\n  webhook_configs:\n  - send_resolved: true\n"), "webhook receiver without url"))
    a(InvalidSpec("webhook-bad-url", inv("receiver: default", "receivers:\n- name: default\n  webhook_configs:\n  - url: 'ftp://x'\n"), "webhook url with an unsupported scheme"))
    a(InvalidSpec("slack-both-url-and-file", "global:\n  slack_api_url: 'https://x/'\n  slack_api_url_file: '/tmp/x'\n" + inv("receiver: default"), "global slack_api_url and slack_api_url_file"))
    a(InvalidSpec("inhibit-bad-key", inv("receiver: default", OK_RECEIVERS + "inhibit_rules:\n- source_match: {'a-b': x}\n  target_match: {c: d}\n"), "inhibit rule with an invalid source_match key"))
    a(InvalidSpec("inhibit-bad-matcher", inv("receiver: default", OK_RECEIVERS + "inhibit_rules:\n- source_matchers: ['a=~\"(\"']\n"), "inhibit rule with a bad regex"))
    # --- not a file
    a(InvalidSpec("missing", None, "a path that does not exist", kind="missing"))
    a(InvalidSpec("directory", None, "a directory instead of a file", kind="directory"))
    # --- upstream testdata fixtures that amtool rejects
    for fixture in ("conf.nil-match_re-route.yml", "conf.nil-source_match_re-inhibition.yml", "conf.slack-no-api-url.yml",
                    "conf.slack-both-file-and-url.yml", "conf.victorops-no-apikey.yml", "conf.sns-invalid.yml", "conf.smtp-both-password-and-file.yml"):
        a(InvalidSpec("upstream-" + fixture.removeprefix("conf.").removesuffix(".yml"), (AM_SRC / "config" / "testdata" / fixture).read_text(),
                      f"Alertmanager 0.25 config/testdata/{fixture}"))
    # --- edge inputs whose outcome we only record
    a(InvalidSpec("edge-two-documents", "route:\n  receiver: default\nreceivers:\n- name: default\n---\nroute:\n  receiver: other\n",
                  "two YAML documents (only the first is read)", expect_failure=False))
    a(InvalidSpec("edge-bool-key", inv("receiver: default\nroutes:\n- match:\n    yes: x\n  receiver: a"), "a YAML 1.1 boolean as a match: key", expect_failure=False))
    a(InvalidSpec("edge-receiver-empty", inv("receiver: ''"), "empty root receiver string"))
    a(InvalidSpec("edge-group-by-empty-root", inv("receiver: default\ngroup_by: []"), "group_by: [] on the root", expect_failure=False))
    return s


# --------------------------------------------------------------------------------------------
# Running amtool
# --------------------------------------------------------------------------------------------


class Runner:
    def __init__(self, amtool: str, home: str) -> None:
        self.amtool = amtool
        self.env = {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8"}

    def run(self, args: list[str], cwd: Path) -> dict[str, Any]:
        p = subprocess.run([self.amtool, *args], cwd=cwd, env=self.env, capture_output=True, timeout=120)
        return {"stdout": p.stdout.decode("utf-8", "surrogateescape"), "stderr": p.stderr.decode("utf-8", "surrogateescape"), "exit": p.returncode}


def label_parse_table(args: list[str]) -> dict[str, dict[str, str]]:
    go = shutil.which("go")
    if go is None:
        raise SystemExit("generate.py needs Go (apt-get install golang-go golang-github-prometheus-alertmanager-dev)")
    uniq = sorted(set(args))
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, **GO_ENV, "GOCACHE": os.environ.get("GOCACHE", cache), "GOFLAGS": ""}
        p = subprocess.run([go, "run", "./labelparse"], cwd=HERE, env=env, input=json.dumps(uniq).encode(), capture_output=True, check=True)
    results = json.loads(p.stdout)
    return dict(zip(uniq, results))


# The UTF-8 matcher parser's lexer (Alertmanager >= 0.27, matcher/parse; reference §1.1): unquoted
# literals are runs of anything but whitespace and the reserved characters; quoted strings follow
# Go's strconv.Unquote.
_UTF8_RESERVED = set("{}!=~,\\\"'`")
_GO_QUOTED = re.compile(r'"(?:[^"\\\n]|\\(?:[abfnrtv\\"]|x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}))*"')


def utf8_parser_accepts_one(text: str) -> bool:
    """Whether HEAD's UTF-8 parser accepts `text` as exactly one matcher (approximation for notes)."""
    i, n = 0, len(text)

    def skip_ws() -> None:
        nonlocal i
        while i < n and text[i].isspace():
            i += 1

    def operand() -> bool:
        nonlocal i
        skip_ws()
        if i < n and text[i] == '"':
            m = _GO_QUOTED.match(text, i)
            if not m:
                return False
            i = m.end()
            return True
        start = i
        while i < n and not text[i].isspace() and text[i] not in _UTF8_RESERVED:
            i += 1
        return i > start

    if not operand():
        return False
    skip_ws()
    for op in ("=~", "!~", "!=", "="):
        if text.startswith(op, i):
            i += len(op)
            break
    else:
        return False
    if not operand():
        return False
    skip_ws()
    return i == n


def head_label_notes(args: list[str], parse_table: dict[str, dict[str, str]]) -> list[dict[str, str]]:
    """differs_in_head notes for amtool label arguments. HEAD's `routes test` parses each argument
    with compat.Matcher (fallback mode by default: UTF-8 parser first, classic parser if that fails;
    inputs starting with '{' or ending with '}' are refused before either runs) and reports a
    non-'=' operator as "Labels must be specified as key=value pairs" (cli/test_routing.go)."""
    notes: list[dict[str, str]] = []
    for arg in args:
        parsed = parse_table[arg]
        if arg.startswith("{") or arg.endswith("}"):
            notes.append({"key": "label_arg_braces", "reason": f"HEAD amtool refuses the argument {arg!r} ('Failed to parse labels: unexpected "
                          "open or close brace: …'; compat.Matcher's brace check); 0.25 " + ("accepts it." if "error" not in parsed else "fails differently.")})
            break
        if "error" in parsed:
            if utf8_parser_accepts_one(arg):
                notes.append({"key": "utf8_label_names", "reason": f"0.25 cannot parse {arg!r} ({parsed['error']}); HEAD's fallback parser "
                              "accepts it with the UTF-8 parser (names may be quoted or contain any non-reserved character)."})
            break
        if parsed["op"] != "=":
            notes.append({"key": "labels_message", "reason": "HEAD amtool says 'Labels must be specified as key=value pairs' (capitalised, "
                          "without the 'Failed to parse labels: ' prefix; cli/test_routing.go)."})
            break
    return notes


def amtool_error(stderr: str) -> str | None:
    """The message of amtool's `amtool: error: ...` line(s), without the prefix and trailing blank lines."""
    i = stderr.find("amtool: error: ")
    if i < 0:
        return None
    return stderr[i + len("amtool: error: ") :].rstrip("\n")


def check_config_error(stdout: str) -> str | None:
    m = re.search(r"  FAILED: (.*)\n\n\Z", stdout, re.S)
    return m.group(1) if m else None


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build_valid(rng: Random) -> list[ConfigSpec]:
    specs: list[ConfigSpec] = []
    specs += theme_reference(Random(rng.random()))
    specs += theme_random_forms(Random(rng.random()), 42)
    specs += theme_quoting(Random(rng.random()), 10)
    specs += theme_continue(Random(rng.random()), 14)
    specs += theme_empty(Random(rng.random()), 8)
    specs += theme_re2(Random(rng.random()), 18)
    specs += theme_unicode(Random(rng.random()), 10)
    specs += theme_duplicates(Random(rng.random()), 8)
    specs += theme_deep(Random(rng.random()), 8)
    specs += theme_group_by(Random(rng.random()), 10)
    specs += theme_big(Random(rng.random()), 4)
    specs += theme_yaml(Random(rng.random()))
    specs += theme_receivers(Random(rng.random()))
    specs += theme_schema(Random(rng.random()))
    specs += theme_label_args(Random(rng.random()))
    return specs


def write_bytes(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dump_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=max(2, (os.cpu_count() or 2) * 2))
    ap.add_argument("--amtool", default=shutil.which("amtool") or "/usr/bin/amtool")
    opts = ap.parse_args()

    version = subprocess.run([opts.amtool, "--version"], capture_output=True, text=True)
    version_text = (version.stdout + version.stderr).strip()
    if "version 0.25." not in version_text:
        raise SystemExit(f"expected amtool 0.25.x, found: {version_text!r}")

    rng = Random(SEED)
    valid = build_valid(rng)
    invalid = invalid_specs()

    for sub in ("valid", "invalid", "multi"):
        if (DATA / sub).exists():
            shutil.rmtree(DATA / sub)
    (DATA / "valid").mkdir(parents=True)
    (DATA / "invalid").mkdir(parents=True)
    (DATA / "multi").mkdir(parents=True)

    # ---- write inputs
    valid_names: list[str] = []
    for i, spec in enumerate(valid):
        name = f"c{i:03d}-{spec.theme}"
        valid_names.append(name)
        write_bytes(DATA / "valid" / f"{name}.yml", spec.text)
        for rel, content in spec.extra_files.items():
            write_bytes(DATA / "valid" / rel, content)
    invalid_names: list[str] = []
    for i, ispec in enumerate(invalid):
        name = f"i{i:03d}-{ispec.what}{ispec.suffix}"
        invalid_names.append(name)
        if ispec.kind == "file":
            assert ispec.text is not None
            write_bytes(DATA / "invalid" / name, ispec.text)
        elif ispec.kind == "directory":
            write_bytes(DATA / "invalid" / name / "README", "A directory named like a config file: check-config must refuse it.\n")

    # ---- label sets and the parse table
    crng = Random(SEED + 1)
    all_labelsets: list[list[list[str]]] = []
    for spec in valid:
        sets = [list(x) for x in spec.labelsets]
        if spec.random_labelsets:
            assert spec.root is not None, spec.description
            sets += random_labelsets(spec.root, crng, spec.random_labelsets)
        # de-duplicate while keeping order
        seen: set[tuple[str, ...]] = set()
        uniq = []
        for ls in sets:
            if tuple(ls) not in seen:
                seen.add(tuple(ls))
                uniq.append(ls)
        all_labelsets.append(uniq)
    parse_table = label_parse_table([a for sets in all_labelsets for ls in sets for a in ls])

    with tempfile.TemporaryDirectory() as home:
        runner = Runner(opts.amtool, home)
        pool = ThreadPoolExecutor(max_workers=opts.jobs)

        # ---- valid configs: check-config, routes show, routes test (plain + --tree)
        jobs: dict[tuple[str, str], Any] = {}
        vdir = DATA / "valid"
        for name, sets in zip(valid_names, all_labelsets):
            cfg = f"{name}.yml"
            jobs[(name, "check")] = pool.submit(runner.run, ["check-config", cfg], vdir)
            jobs[(name, "show")] = pool.submit(runner.run, ["config", "routes", "show", f"--config.file={cfg}"], vdir)
            for j, ls in enumerate(sets):
                for tree in (False, True):
                    args = (["--tree"] if tree else []) + ls
                    jobs[(name, f"t{j}-{int(tree)}")] = pool.submit(runner.run, ["config", "routes", "test", f"--config.file={cfg}", *args], vdir)
        results = {k: f.result() for k, f in jobs.items()}

        # ---- verify cases built from what amtool resolved
        vrng = Random(SEED + 2)
        verify_jobs: dict[tuple[str, int, str], Any] = {}
        verify_args: dict[tuple[str, int, str], list[str]] = {}
        for spec, name, sets in zip(valid, valid_names, all_labelsets):
            cfg = f"{name}.yml"
            ok_sets = [j for j, ls in enumerate(sets) if results[(name, f"t{j}-0")]["exit"] == 0]
            for j in vrng.sample(ok_sets, min(spec.verify, len(ok_sets))):
                got = results[(name, f"t{j}-0")]["stdout"].rstrip("\n")
                parts = got.split(",")
                wrong = [
                    ",".join(reversed(parts)) if len(parts) > 1 and parts != parts[::-1] else got + "," + parts[0],
                    ",".join(parts[:-1]) if len(parts) > 1 else "nope",
                    got + " ", got.upper() if got.upper() != got else got + "x",
                ]
                variants = [("match", got), ("mismatch", vrng.choice(wrong))]
                if vrng.random() < 0.15:
                    variants.append(("empty", ""))
                for kind, value in variants:
                    tree = vrng.random() < 0.3
                    args = (["--tree"] if tree else []) + [f"--verify.receivers={value}"] + sets[j]
                    key = (name, j, kind)
                    verify_args[key] = args
                    verify_jobs[key] = pool.submit(runner.run, ["config", "routes", "test", f"--config.file={cfg}", *args], vdir)
        vresults = {k: f.result() for k, f in verify_jobs.items()}

        # ---- invalid configs: check-config three times (determinism), routes show, routes test
        idir = DATA / "invalid"
        ijobs: dict[tuple[str, str], Any] = {}
        for name in invalid_names:
            for rep in range(3):
                ijobs[(name, f"check{rep}")] = pool.submit(runner.run, ["check-config", name], idir)
            ijobs[(name, "show")] = pool.submit(runner.run, ["config", "routes", "show", f"--config.file={name}"], idir)
            ijobs[(name, "test")] = pool.submit(runner.run, ["config", "routes", "test", f"--config.file={name}", "alertname=Watchdog"], idir)
        iresults = {k: f.result() for k, f in ijobs.items()}

        # ---- check-config with several files at once
        multi_sets = [
            [f"valid/{valid_names[0]}.yml", f"valid/{valid_names[1]}.yml"],
            [f"valid/{valid_names[0]}.yml", f"invalid/{invalid_names[5]}", f"valid/{valid_names[2]}.yml"],
            [f"invalid/{invalid_names[10]}", f"invalid/{invalid_names[11]}"],
        ]
        mresults = [pool.submit(runner.run, ["check-config", *files], DATA).result() for files in multi_sets]
        pool.shutdown()

    # ---- assemble and check the data
    problems: list[str] = []
    tag_counts: dict[str, int] = {}
    n_cases = 0
    for spec, name, sets in zip(valid, valid_names, all_labelsets):
        check = results[(name, "check")]
        if check["exit"] != 0:
            problems.append(f"{name}: meant to be valid, amtool check-config says: {check['stdout']!r}")
        cases = []
        for j, ls in enumerate(sets):
            parsed: dict[str, Any] = {}
            for arg in ls:
                parsed_one = parse_table[arg]
                if "error" in parsed_one:
                    parsed = {"error": parsed_one["error"]}
                    break
                if parsed_one["op"] != "=":
                    parsed = {"error": "labels must be specified as key=value pairs"}
                    break
                parsed[parsed_one["name"]] = parsed_one["value"]
            for tree in (False, True):
                r = results[(name, f"t{j}-{int(tree)}")]
                case = {"id": f"L{j:02d}{'-tree' if tree else ''}", "args": (["--tree"] if tree else []) + ls, "labels": parsed, **r}
                notes = head_label_notes(ls, parse_table)
                if notes:
                    case["differs_in_head"] = notes
                cases.append(case)
        for (vname, j, kind), args in verify_args.items():
            if vname != name:
                continue
            vcase = {"id": f"L{j:02d}-verify-{kind}{'-tree' if '--tree' in args else ''}", "args": args, "labels": None, **vresults[(vname, j, kind)]}
            notes = head_label_notes(sets[j], parse_table)
            if notes:
                vcase["differs_in_head"] = notes
            cases.append(vcase)
        n_cases += len(cases)
        for t in spec.covers:
            tag_counts[t] = tag_counts.get(t, 0) + len(cases)
        record = {
            "config": f"{name}.yml",
            "sha256": sha256(DATA / "valid" / f"{name}.yml"),
            "theme": spec.theme,
            "description": spec.description,
            "covers": spec.covers,
            "differs_in_head": spec.differs_in_head,
            "check_config": {"args": [f"{name}.yml"], **check},
            "routes_show": results[(name, "show")],
            "cases": cases,
        }
        dump_json(DATA / "valid" / f"{name}.json", record)

    inv_records = []
    for ispec, name in zip(invalid, invalid_names):
        checks = [iresults[(name, f"check{rep}")] for rep in range(3)]
        if any(c != checks[0] for c in checks[1:]):
            problems.append(f"{name}: amtool check-config is not deterministic: {checks!r}")
        check = checks[0]
        if ispec.expect_failure and check["exit"] == 0:
            problems.append(f"{name}: meant to be invalid, amtool accepts it")
        entry = {
            "config": name,
            "kind": ispec.kind,
            "sha256": sha256(DATA / "invalid" / name) if ispec.kind == "file" else None,
            "covers": ispec.covers,
            "expect_failure": ispec.expect_failure,
            "differs_in_head": ispec.differs_in_head,
            "error": check_config_error(check["stdout"]) if check["exit"] else None,
            "check_config": {"args": [name], **check},
            "routes_show": {"args": [], "error": amtool_error(iresults[(name, "show")]["stderr"]), **iresults[(name, "show")]},
            "routes_test": {"args": ["alertname=Watchdog"], "error": amtool_error(iresults[(name, "test")]["stderr"]), **iresults[(name, "test")]},
        }
        inv_records.append(entry)
    dump_json(DATA / "invalid" / "expected.json", inv_records)
    dump_json(DATA / "multi" / "expected.json", [{"args": files, **r} for files, r in zip(multi_sets, mresults)])

    if problems:
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        return 1

    size = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {
        "generator": "tests/routing/conformance/gen/generate.py",
        "generator_version": GEN_VERSION,
        "seed": SEED,
        "amtool": opts.amtool,
        "amtool_version": version_text.splitlines()[0],
        "counts": {
            "valid_configs": len(valid),
            "routes_test_cases": n_cases,
            "invalid_configs": len(invalid),
            "multi_file_check_config": len(multi_sets),
        },
        "data_bytes": size,
        "covers": dict(sorted(tag_counts.items())),
    }
    dump_json(DATA / "manifest.json", manifest)
    print(json.dumps(manifest["counts"]), f"{size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
