"""Matcher parsing: the classic parser against Alertmanager 0.25's own code (matchers/gen),
the UTF-8 parser against the expectations of Alertmanager's own tests, and fallback mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.routing.matchers import (
    Matcher,
    MatcherError,
    MatchType,
    parse_matcher,
    parse_matcher_classic,
    parse_matchers,
    parse_matchers_classic,
    parse_matchers_utf8,
)

CLASSIC = json.loads((Path(__file__).parent / "matchers" / "classic.json").read_text())
OPS = {"=": MatchType.EQUAL, "!=": MatchType.NOT_EQUAL, "=~": MatchType.REGEXP, "!~": MatchType.NOT_REGEXP}


def as_dicts(ms: list[Matcher]) -> list[dict[str, str]]:
    return [{"type": m.type.op, "name": m.name, "value": m.value, "string": str(m)} for m in ms]


@pytest.mark.parametrize("case", CLASSIC, ids=[repr(c["input"])[:60] for c in CLASSIC])
def test_classic_parser_matches_alertmanager_025(case: dict) -> None:
    if case["matchers_error"]:
        with pytest.raises(MatcherError) as info:
            parse_matchers_classic(case["input"])
        assert str(info.value) == case["matchers_error"]
    else:
        assert as_dicts(parse_matchers_classic(case["input"])) == case["matchers"]
    if case["matcher_error"]:
        with pytest.raises(MatcherError) as info:
            parse_matcher_classic(case["input"])
        assert str(info.value) == case["matcher_error"]
    else:
        assert as_dicts([parse_matcher_classic(case["input"])]) == [case["matcher"]]


# Expectations of today's Alertmanager's own tests (matcher/parse/parse_test.go, TestMatchers).
UTF8_OK = [
    ("", []), ("{}", []), ("{foo=bar}", [("=", "foo", "bar")]), ("{foo=bar,}", [("=", "foo", "bar")]),
    ("{foo!=bar}", [("!=", "foo", "bar")]), ("{foo=~[a-z]+}", [("=~", "foo", "[a-z]+")]),
    ("{foo!~[a-z]+}", [("!~", "foo", "[a-z]+")]), ("{foo=🙂}", [("=", "foo", "🙂")]),
    ("{foo=🙂bar}", [("=", "foo", "🙂bar")]), ("foo=bar", [("=", "foo", "bar")]), ("foo=bar,", [("=", "foo", "bar")]),
    ('{"foo"="bar"}', [("=", "foo", "bar")]), ('{"foo"="bar",}', [("=", "foo", "bar")]),
    ('{"foo"=~"[a-z]+"}', [("=~", "foo", "[a-z]+")]), ('{"foo"="\\xf0\\x9f\\x99\\x82"}', [("=", "foo", "🙂")]),
    ('{"foo"="\\U0001f642"}', [("=", "foo", "🙂")]), ('{"foo"="bar\\n"}', [("=", "foo", "bar\n")]),
    ('{"foo"="bar\\t"}', [("=", "foo", "bar\t")]), ('{"foo"="\\"bar\\""}', [("=", "foo", '"bar"')]),
    ('{"foo"="bar\\\\"}', [("=", "foo", "bar\\")]), ('"foo"="bar"', [("=", "foo", "bar")]),
    ("{foo=bar,bar!=baz}", [("=", "foo", "bar"), ("!=", "bar", "baz")]),
    ('foo="bar",bar!="baz"', [("=", "foo", "bar"), ("!=", "bar", "baz")]),
    ('{"foo bar"="x"}', [("=", "foo bar", "x")]),
]
UTF8_ERRORS = [
    (",", "0:1: unexpected ,: expected label name"),
    ("{,}", "1:2: unexpected ,: expected label name"),
    ("{", "0:1: end of input: expected close brace"),
    ("}", "0:1: }: expected opening brace"),
    ("foo=bar}", "0:8: }: expected opening brace"),
    ("{foo=bar", "0:8: end of input: expected close brace"),
    ('{foo=:"bar"}', '6:11: unexpected "bar": expected a comma or close brace'),
    ('{foo="bar\\w"}', '5:12: "bar\\w": invalid input'),
    ("{foo=bar\\n}", "8:9: \\: invalid input: expected a comma or close brace"),
    ('{"foo"="\\xf0\\x9f"}', '7:17: "\\xf0\\x9f": invalid input'),
]


@pytest.mark.parametrize("text,expected", UTF8_OK)
def test_utf8_parser(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert [(m.type.op, m.name, m.value) for m in parse_matchers_utf8(text)] == expected


@pytest.mark.parametrize("text,error", UTF8_ERRORS)
def test_utf8_parser_errors(text: str, error: str) -> None:
    with pytest.raises(MatcherError) as info:
        parse_matchers_utf8(text)
    assert str(info.value) == error


def test_utf8_single_matcher_errors() -> None:
    for text, error in [("", "no matchers"), ("{}", "unexpected open or close brace: {}"),
                        ("foo=bar,bar=baz", "expected 1 matcher, found 2"),
                        ('foo="\\xf0\\x9f"', '4:14: "\\xf0\\x9f": invalid input')]:
        with pytest.raises(MatcherError) as info:
            parse_matcher(text, "utf8")
        assert str(info.value) == error


def test_fallback_prefers_the_classic_result() -> None:
    # Both accept, they disagree: today's Alertmanager uses the classic reading.
    # Classic keeps the backslash-t literally; strconv.Unquote would make it a tab.
    (m,) = parse_matchers('foo="bar\\t"')
    assert m.value == "bar\\t"
    # Only the UTF-8 parser accepts it: its reading is used.
    (m,) = parse_matchers('{"foo bar"="x"}')
    assert (m.name, m.value) == ("foo bar", "x")
    assert str(m) == '"foo bar"="x"'
    # Neither accepts it: the classic error is reported.
    with pytest.raises(MatcherError, match="bad matcher format"):
        parse_matchers("a!b")


def test_missing_label_matches_as_empty_string() -> None:
    labels = {"a": "1"}
    assert Matcher.new(MatchType.EQUAL, "b", "").matches_labels(labels)
    assert not Matcher.new(MatchType.NOT_EQUAL, "b", "").matches_labels(labels)
    assert Matcher.new(MatchType.REGEXP, "b", ".*").matches_labels(labels)
    assert Matcher.new(MatchType.NOT_REGEXP, "b", ".+").matches_labels(labels)


def test_regexes_are_fully_anchored() -> None:
    m = Matcher.new(MatchType.REGEXP, "a", "b|c")
    assert m.matches("b") and m.matches("c") and not m.matches("xb") and not m.matches("bc")
    # Go's $ without (?m) does not match before a trailing newline (Python's does).
    assert not Matcher.new(MatchType.REGEXP, "a", "x").matches("x\n")
