"""Go's JSON encoding: the orjson fast path writes the same text as the exact encoder."""

from __future__ import annotations

import json
import random

from bot.notify import gojson

ALPHABET = ["a", "Z", "0", " ", "<", ">", "&", '"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01",
            "\x1f", "\x7f", "é", "ü", "\u2028", "\u2029", "\u00a0", "🙂", "中", "\ufffd", "b", "f", "u"]


def random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 12)))


def test_fast_path_matches_the_exact_encoder() -> None:
    rng = random.Random(3)
    for _ in range(3000):
        doc = {"receiver": random_text(rng), "n": rng.randrange(-5, 5), "ok": rng.random() < 0.5, "none": None,
               "labels": gojson.gomap({random_text(rng): random_text(rng) for _ in range(rng.randrange(3))}),
               "alerts": [{"s": random_text(rng)} for _ in range(rng.randrange(3))]}
        assert gojson.fast_dumps(doc) == gojson.dumps(doc)
        assert json.loads(gojson.encode(doc)) == json.loads(json.dumps(doc))


def test_go_specific_escapes() -> None:
    assert gojson.encode({"a": "<&>\u2028\b"}) == '{"a":"\\u003c\\u0026\\u003e\\u2028\\u0008"}\n'
