"""Shared loading for the template conformance data (tests/templates/expected.json)."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from bot.templates import Templates, TemplateData
from bot.templates.gotime import GoTime, parse_rfc3339

HERE = Path(__file__).parent
EXPECTED = HERE / "expected.json"
DOCS = HERE.parent.parent / "docs" / "templates.md"


@functools.cache
def expected() -> dict[str, Any]:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def fixed_now() -> GoTime:
    return parse_rfc3339(expected()["now"])


@functools.cache
def datasets() -> list[tuple[str, TemplateData]]:
    return [(d["name"], TemplateData.from_webhook(d["data"])) for d in expected()["datasets"]]


def template_sets(tmp_dir: Path) -> dict[str, Templates]:
    """The three sets the generator used: defaults, defaults + files, defaults with a fixed clock."""
    files_dir = tmp_dir / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    for name, text in expected()["files"].items():
        (files_dir / name).write_text(text, encoding="utf-8")
    return {
        "default": Templates.default(),
        "custom": Templates.from_globs(["files/*.tmpl"], base_dir=tmp_dir),
        "additions": Templates.default(now=fixed_now),
    }


def render(templates: Templates, text: str, data: TemplateData) -> dict[str, str]:
    """Our result in the generator's shape: {"output": ...} or {"output": "", "error": ...}."""
    from bot.templates import TemplateError

    try:
        return {"output": templates.render(text, data)}
    except TemplateError as exc:
        return {"output": "", "error": str(exc)}


_DIFF_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|(.+)\|\s*$")


def documented_differences() -> dict[str, str]:
    """Template ids listed under "## Deliberate differences" in docs/templates.md, with their reasons."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## Deliberate differences", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = _DIFF_ROW.match(line)
        if m and m.group(1) != "id":
            rows[m.group(1)] = m.group(2).strip()
    return rows
