"""bot.routing.goregex against Go 1.19.8's regexp package.

The expected values are in goregex/go_regexp_cases.json, written by running
Go (goregex/gen, see goregex/README.md). Strings Go held as invalid UTF-8 are
stored as {"hex": ...} and reach Python through 'surrogateescape', the same
convention goregex uses for such text.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.routing import goregex
from bot.routing.goregex import GoRegexError, GoRegexLimitError

DATA = Path(__file__).parent / "goregex" / "go_regexp_cases.json"
GO_VERSION = "go1.19.8"  # the Go Debian built Alertmanager 0.25 with

# Cases where we knowingly differ from Go, by expression, with the reason.
_TOO_BIG = (
    "Go accepts it, but its RE2 program (\\pL spelled out as UTF-8 byte ranges, 4000 times) "
    "exceeds the 64 MiB goregex allows RE2: GoRegexLimitError, not a silent mismatch"
)
KNOWN_DIFFERENCES: dict[str, str] = {
    r"\pL{1000}" * 4: _TOO_BIG,
    r"^(?:" + r"\pL{1000}" * 4 + r")$": _TOO_BIG,
}


def _text(value: str | dict[str, str]) -> str:
    if isinstance(value, dict):
        return bytes.fromhex(value["hex"]).decode("utf-8", "surrogateescape")
    return value


def _go_bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _char_index(s: str, byte_offset: int) -> int:
    return -1 if byte_offset < 0 else len(_go_bytes(s)[:byte_offset].decode("utf-8", "surrogateescape"))


def _load() -> dict[str, Any]:
    with DATA.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


_DATA = _load()
CASES: list[dict[str, Any]] = _DATA["cases"]


def _mismatches(case: dict[str, Any]) -> list[str]:
    """Every way goregex disagrees with Go on one case (empty: full agreement)."""
    expr = _text(case["expr"])
    if "error" in case:
        want = _go_bytes(_text(case["error"]))
        try:
            goregex.compile(expr)
        except GoRegexError as e:
            got = _go_bytes(str(e))
            return [] if got == want else [f"error {got!r}, Go says {want!r}"]
        return [f"compiled, Go says {want!r}"]

    problems: list[str] = []
    try:
        re = goregex.compile(expr)
    except GoRegexError as e:
        return [f"raised {e}, Go compiles it"]
    if re.num_subexp != case["num_subexp"]:
        problems.append(f"num_subexp {re.num_subexp}, Go {case['num_subexp']}")
    names = [_text(n) for n in case.get("subexp_names", [])]
    if list(re.subexp_names) != names:
        problems.append(f"subexp_names {re.subexp_names}, Go {names}")
    for raw_input, matched, submatch, index in case.get("matches", []):
        s = _text(raw_input)
        if re.match_string(s) != matched:
            problems.append(f"match_string({s!r}) = {not matched}, Go {matched}")
        want_sub = None if submatch is None else [_text(x) for x in submatch]
        if re.find_string_submatch(s) != want_sub:
            problems.append(f"find_string_submatch({s!r}) = {re.find_string_submatch(s)!r}, Go {want_sub!r}")
        want_index = None if index is None else [_char_index(s, i) for i in index]
        if re.find_string_submatch_index(s) != want_index:
            problems.append(f"find_string_submatch_index({s!r}) = {re.find_string_submatch_index(s)}, Go {want_index}")
    for raw_src, raw_repl, raw_result in case.get("replacements", []):
        src, repl, want = _text(raw_src), _text(raw_repl), _go_bytes(_text(raw_result))
        got = _go_bytes(re.replace_all_string(src, repl))
        if got != want:
            problems.append(f"replace_all_string({src!r}, {repl!r}) = {got!r}, Go {want!r}")
    return problems


def test_data_comes_from_the_go_alertmanager_was_built_with() -> None:
    assert _DATA["go_version"] == GO_VERSION
    assert len(CASES) > 1000
    assert sum("error" in c for c in CASES) > 300  # every error class, raw and anchored


@pytest.mark.parametrize("case", CASES, ids=[f"{i:04d}" for i in range(len(CASES))])
def test_agrees_with_go(case: dict[str, Any]) -> None:
    expr = _text(case["expr"])
    problems = _mismatches(case)
    if expr in KNOWN_DIFFERENCES:
        assert problems, f"{expr!r} is listed as a known difference but now agrees with Go"
        pytest.xfail(KNOWN_DIFFERENCES[expr])
    assert not problems, f"{expr!r}:\n" + "\n".join(problems[:20])


def test_error_strings_are_gos() -> None:
    with pytest.raises(GoRegexError) as e:
        goregex.compile("^(?:(bar)$")
    assert str(e.value) == "error parsing regexp: missing closing ): `^(?:(bar)$`"
    assert isinstance(e.value, ValueError)
    assert (e.value.code, e.value.expr) == ("missing closing )", "^(?:(bar)$")
    with pytest.raises(GoRegexError, match=r"^error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`$"):
        goregex.compile("(?=x)")
    # Go 1.19 predates (?<name>...).
    with pytest.raises(GoRegexError, match="invalid or unsupported Perl syntax: `\\(\\?<`"):
        goregex.compile("(?<name>x)")


def test_compile_is_cached_and_thread_safe() -> None:
    assert goregex.compile("cache(d)?") is goregex.compile("cache(d)?")
    results: list[bool] = []

    def work(i: int) -> None:
        re = goregex.compile(f"thread{i % 7}(x+)+y")
        results.extend(re.match_string(f"thread{i % 7}" + "x" * 50 + "y") for _ in range(50))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 16 * 50


def test_re2_errors_do_not_reach_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    # \pL{1000} is too big for RE2's default memory budget: RE2 fails (and would
    # log) before goregex retries with a larger one.
    re = goregex.compile(r"\pL{1000}x")
    assert re.match_string("é" * 1000 + "x")
    assert capfd.readouterr().err == ""


def test_patterns_too_big_for_re2_fail_with_a_clear_error() -> None:
    with pytest.raises(GoRegexLimitError) as e:
        goregex.compile(r"\pL{1000}" * 4)
    assert isinstance(e.value, GoRegexError)
    assert str(e.value).startswith("regexp too large to execute: ")


def test_module_match_string_is_gos_regexp_match_string() -> None:
    assert goregex.match_string("b+", "abbc")
    assert not goregex.match_string("^b+$", "abbc")
    with pytest.raises(GoRegexError):
        goregex.match_string("(", "x")


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a+)+b", "a" * 100_000),
        ("(a|aa)*c", "a" * 100_000),
        ("(x+x+)+y", "x" * 100_000),
        ("^(\\w+\\s?)*$", "ab " * 33_333 + "!"),
        ("(.*a){20}", "a" * 100_000),
    ],
)
def test_pathological_patterns_run_in_linear_time(pattern: str, text: str) -> None:
    # Backtracking engines take exponential time on these (Python's re would not finish).
    # The bound is generous: this guards against a backtracking fallback, it is not a benchmark.
    re = goregex.compile(pattern)
    started = time.perf_counter()
    re.match_string(text)
    re.find_string_submatch(text)
    re.replace_all_string(text[:20_000], "-")
    assert time.perf_counter() - started < 10.0
