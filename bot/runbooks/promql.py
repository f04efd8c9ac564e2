"""Is a PromQL expression well-formed? Prometheus's own parser when `promtool` is installed,
a bracket-and-quote balance check otherwise.

promtool 2.42 has no command that parses one expression, so the expressions go into a
temporary rules file as recording rules (`alertbot_check_<n>`) and `promtool check rules`
parses them all in one run; its errors map back to each expression by rule name.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

_RULE_ERROR = re.compile(r'"alertbot_check_(\d+)": could not parse expression: (.*)$')
_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class Checker:
    promtool: str | None
    version: str = ""
    why_not: str = "promtool not found: apt-get install prometheus"

    @property
    def description(self) -> str:
        if self.promtool:
            return f"parsed by {self.version or 'promtool'}"
        return f"checked for balance only ({self.why_not})"


def find_checker(promtool: str | None = None) -> Checker:
    """`promtool` from the argument, $PROMTOOL or PATH; a balance-only checker without it."""
    path = promtool or os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not path or not os.access(path, os.X_OK):
        return Checker(None)
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=20)
        found = re.search(r"version (\S+)", out.stdout or out.stderr or "")
        version = f"promtool {found.group(1)}" if found else "promtool"
    except (OSError, subprocess.SubprocessError):
        return Checker(None)
    return Checker(path, version)


def check_expressions(exprs: Sequence[str], checker: Checker) -> list[str | None]:
    """For each expression, None if it parses, else why not (Prometheus's words when possible)."""
    results = [balance_error(e) for e in exprs]
    if checker.promtool is None:
        return results
    rules = [{"record": f"alertbot_check_{i}", "expr": e} for i, e in enumerate(exprs) if results[i] is None]
    if not rules:
        return results
    with tempfile.TemporaryDirectory(prefix="alertbot-promql-") as tmp:
        path = os.path.join(tmp, "runbook-queries.yml")
        with open(path, "w", encoding="utf-8") as fh:
            yaml.safe_dump({"groups": [{"name": "alertbot-runbook-check", "rules": rules}]}, fh, sort_keys=False)
        try:
            out = subprocess.run([checker.promtool, "check", "rules", "--lint=none", path],
                                 capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            return [r if r is not None else f"promtool did not run: {exc}" for r in results]
    if out.returncode == 0:
        return results
    found = False
    for line in (out.stdout + "\n" + out.stderr).splitlines():
        m = _RULE_ERROR.search(line)
        if m:
            found = True
            results[int(m.group(1))] = m.group(2).strip()
    if not found:  # promtool failed for a reason we cannot tie to one expression
        why = " ".join((out.stderr or out.stdout).split())[:300]
        return [r if r is not None else f"promtool check rules failed: {why}" for r in results]
    return results


def balance_error(expr: str) -> str | None:
    """Empty, unbalanced brackets or an unterminated string: what we can tell without a parser."""
    stack: list[tuple[str, int]] = []
    quote = ""
    escaped = False
    meaningful = False
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quote:
            if quote != "`" and escaped:
                escaped = False
            elif quote != "`" and ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            i += 1
            continue
        if ch == "#":  # a comment runs to the end of the line
            nl = expr.find("\n", i)
            i = len(expr) if nl < 0 else nl
            continue
        if ch in "\"'`":
            quote = ch
            meaningful = True
        elif ch in "([{":
            stack.append((ch, i))
        elif ch in ")]}":
            if not stack or stack[-1][0] != _PAIRS[ch]:
                return f"unexpected {ch!r} at character {i + 1}"
            stack.pop()
        elif not ch.isspace():
            meaningful = True
        i += 1
    if quote:
        return f"unterminated {quote} string"
    if stack:
        ch, pos = stack[-1]
        return f"unclosed {ch!r} opened at character {pos + 1}"
    if not meaningful:
        return "empty query"
    return None
