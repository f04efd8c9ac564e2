"""Differential fuzzing: random templates rendered by Alertmanager 0.25 (Go) and by bot.templates.

Generates COUNT random templates (fields, literals, printf verbs, builtins and
Alertmanager's functions, nested pipelines, if/with/range) from SEED, renders them on the
conformance data sets with the Go generator (in a scratch directory) and with
bot.templates, and prints every template whose output or error differs. A development
tool (it needs Go and Alertmanager's source); the committed conformance suite is
tests/templates/expected.json.

    .venv/bin/python tests/templates/gen/fuzz.py --seed 1 --count 1000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

rng = random.Random(0)
FIELDS = [".Status", ".Receiver", ".ExternalURL", ".Alerts", ".Alerts.Firing", ".Alerts.Resolved", ".CommonLabels",
          ".CommonLabels.alertname", ".CommonLabels.severity", ".CommonLabels.nope", ".GroupLabels", ".GroupLabels.SortedPairs",
          ".CommonAnnotations.summary", ".CommonLabels.Names", ".GroupLabels.Values", "(index .Alerts 0).StartsAt",
          "(index .Alerts 0).Labels", "(index .Alerts 0).Fingerprint", ".", "$", "(index .Alerts 0).EndsAt.IsZero",
          "(index .Alerts 0).StartsAt.Unix", "(index .Alerts 0).StartsAt.Month", "((index .Alerts 0).StartsAt.Sub (index .Alerts 0).EndsAt)"]
LITS = ['0', '1', '-1', '42', '3.5', '-0.25', '1e3', '0x1F', "'a'", 'true', 'false', 'nil', '""', '"a"', '"A b"',
        '"<&>\'\\""', '"%s"', '"é"', '"firing"', '"alertname"', '`raw`', '1e21', '255']
FORMATS = ['"%v"', '"%s"', '"%d"', '"%q"', '"%x"', '"%5v|"', '"%-4s|"', '"%.1f"', '"%T"', '"%v %v"', '"%+v"', '"%#v"',
           '"%t"', '"%e"', '"%g"', '"%c"', '"%U"', '"%08.2f"', '"%[2]v %[1]v"', '"%*d"', '"%%"', '"%!"', '"x"']
FUNCS = {"len": 1, "index": (1, 3), "slice": (1, 3), "eq": (2, 3), "ne": 2, "lt": 2, "le": 2, "gt": 2, "ge": 2,
         "and": (1, 3), "or": (1, 3), "not": 1, "html": (0, 3), "js": (0, 2), "urlquery": (0, 2), "print": (0, 3),
         "println": (0, 2), "toUpper": 1, "toLower": 1, "title": 1, "join": 2, "stringSlice": (0, 3), "safeHtml": 1,
         "match": 2, "reReplaceAll": 3}

def operand(depth):
    r = rng.random()
    if r < 0.4: return rng.choice(FIELDS)
    if r < 0.7 or depth > 2: return rng.choice(LITS)
    return "(" + pipeline(depth + 1) + ")"

def command(depth):
    r = rng.random()
    if r < 0.3:
        return operand(depth)
    if r < 0.45:
        n = rng.randint(0, 3)
        return "printf " + rng.choice(FORMATS) + "".join(" " + operand(depth) for _ in range(n))
    name = rng.choice(list(FUNCS))
    ar = FUNCS[name]
    lo, hi = (ar, ar) if isinstance(ar, int) else ar
    n = rng.randint(max(0, lo - 1), hi + (1 if rng.random() < 0.1 else 0))
    if name in ("match", "reReplaceAll"):
        args = [rng.choice(['"a"', '"^f"', '"[a-z]+"', '"(x)"', '"."']) ] + [operand(depth) for _ in range(n - 1)]
    else:
        args = [operand(depth) for _ in range(n)]
    return name + "".join(" " + a for a in args)

def pipeline(depth=0):
    cmds = [command(depth)]
    while rng.random() < 0.3 and len(cmds) < 3:
        c = command(depth)
        if c.split()[0] in FUNCS or c.startswith("printf"):
            cmds.append(c)
    return " | ".join(cmds)

def template():
    r = rng.random()
    p = pipeline()
    if r < 0.6: return "{{ " + p + " }}"
    if r < 0.75: return "{{ if " + p + " }}T{{ else }}F{{ end }}"
    if r < 0.88: return "{{ with " + p + " }}<{{ . }}>{{ else }}none{{ end }}"
    return "{{ range $i, $e := " + p + " }}[{{ $i }}:{{ $e }}]{{ else }}empty{{ end }}"



def generate(seed: int, count: int) -> str:
    global rng
    rng = random.Random(seed)
    out = []
    for i in range(count):
        out.append(f"=== fuzz-{i}\n" + template() + " " + template() + "\n")
    return "".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    corpus = ROOT / "tests" / "templates" / "corpus"
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        (scratch / "tests" / "templates" / "gen").mkdir(parents=True)
        shutil.copy(ROOT / "tests" / "templates" / "gen" / "main.go", scratch / "tests" / "templates" / "gen")
        shutil.copytree(corpus / "datasets", scratch / "tests" / "templates" / "corpus" / "datasets")
        shutil.copytree(corpus / "files", scratch / "tests" / "templates" / "corpus" / "files")
        shutil.copy(corpus / "settings.json", scratch / "tests" / "templates" / "corpus")
        (scratch / "tests" / "templates" / "corpus" / "templates.txt").write_text(generate(args.seed, args.count))
        env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode"}
        subprocess.run(["go", "run", "./tests/templates/gen"], cwd=scratch, env=env, check=True)
        expected_path = scratch / "tests" / "templates" / "expected.json"

        import tests.templates.conformance as conformance

        conformance.EXPECTED = expected_path
        conformance.expected.cache_clear()
        conformance.datasets.cache_clear()
        sets = conformance.template_sets(scratch / "sets")
        differing = 0
        for entry in conformance.expected()["templates"]:
            for (name, data), want in zip(conformance.datasets(), entry["results"]):
                got = conformance.render(sets[entry["set"]], entry["text"], data)
                if got != want:
                    differing += 1
                    print(f"{entry['id']} on {name}\n  text: {entry['text']}\n  Go:   {json.dumps(want)[:400]}\n"
                          f"  ours: {json.dumps(got)[:400]}")
                    break
    print(f"{differing} of {args.count} templates differ")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
