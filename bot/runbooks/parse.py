"""One runbook file: YAML front matter, then Markdown.

    ---
    title: API error rate above 1%
    matchers:
      - alertname="APIHighErrorRate"
    severity: critical          # optional
    owner: platform-api         # optional
    url: https://...            # optional: where the canonical copy lives
    datasource: thanos          # optional: the Prometheus its queries run on
    ---
    ## Impact ...
    ## Investigation steps
    1. **Which endpoints fail?**
       ```promql
       # errors by endpoint and status
       sum by (endpoint, status) (rate(mlops_api_requests_total{status=~"5.."}[5m]))
       ```

`matchers` is a list of Alertmanager matchers (each item may hold several, comma-separated,
as in a route's `matchers:`) or one string. Problems come back with the file and line:
front matter that cannot be read, a missing title, a bad matcher or an empty matcher list
keep the file out of the catalog; a broken query or an unknown key only loses that part.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.routing.matchers import DEFAULT_MODE, MatcherError, Matchers, MatchersMode, parse_matchers
from bot.runbooks.model import Problem, Query, Runbook, Section
from bot.templates import Templates, TemplateError

KNOWN_KEYS = ("title", "matchers", "severity", "owner", "url", "datasource")
MAX_FILE_BYTES = 256 * 1024

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
# Fences may sit indented inside list items at any depth; their content loses that indentation.
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})(.*)$")
_ITEM = re.compile(r"^( *)(?:\d{1,9}[.)]|[-*+])[ \t]+(.*)$")
_URL = re.compile(r"^https?://[^\s/]+\S*$")

_KINDS = (
    ("impact", ("impact",)),
    ("investigation", ("investigat", "diagnos", "triage")),
    ("mitigation", ("mitigat", "workaround", "immediate action", "manual intervention")),
    ("resolution", ("resolution", "resolve", "post-incident", "follow-up", "follow up")),
)


def section_kind(title: str) -> str:
    lowered = title.lower()
    for kind, words in _KINDS:
        if any(w in lowered for w in words):
            return kind
    return ""


def parse_runbook(path: Path, text: str, templates: Templates,
                  matchers_mode: MatchersMode = DEFAULT_MODE) -> tuple[Runbook | None, list[Problem]]:
    """The runbook in `text` (read from `path`), or None when a fatal problem keeps it out.
    Matchers parse as routing's do, in `matchers_mode`."""
    problems: list[Problem] = []
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return None, [Problem(path, 1, "no front matter: a runbook starts with a '---' line, YAML "
                                       "(title, matchers), and another '---' line")]
    close = next((i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "...")), None)
    if close is None:
        return None, [Problem(path, 1, "front matter is not closed: no '---' line after it")]
    front_text = "\n".join(lines[1:close])
    body_offset = close + 1  # 0-based index of the body's first line

    meta, problem = _front_matter(path, front_text)
    if problem is not None:
        return None, [problem]
    assert meta is not None
    values, key_lines = meta

    for key in values:
        if key not in KNOWN_KEYS:
            problems.append(Problem(path, key_lines.get(key, 1), f"unknown front matter key {key!r} "
                                    f"(known: {', '.join(KNOWN_KEYS)})", fatal=False))

    title = values.get("title")
    if not isinstance(title, str) or not title.strip():
        return None, problems + [Problem(path, key_lines.get("title", 1), "front matter needs a 'title' (text)")]

    matchers, matcher_texts, fatal = _matchers(path, values.get("matchers"), key_lines, matchers_mode)
    if fatal is not None:
        return None, problems + [fatal]

    optional: dict[str, str | None] = {}
    for key in ("severity", "owner", "url", "datasource"):
        value = values.get(key)
        if value is None:
            optional[key] = None
        elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
            optional[key] = str(value).strip()
        else:
            problems.append(Problem(path, key_lines.get(key, 1), f"'{key}' must be text", fatal=False))
            optional[key] = None
    if optional["url"] is not None and not _URL.match(optional["url"]):
        problems.append(Problem(path, key_lines["url"], f"'url' must be an http(s) URL, not {optional['url']!r}",
                                fatal=False))
        optional["url"] = None

    body_lines = lines[body_offset:]
    sections, queries, body_problems = _body(path, body_lines, body_offset, templates, optional["datasource"])
    problems.extend(body_problems)
    investigation = next((s for s in sections if s.kind == "investigation"), None)
    steps = _steps(investigation) if investigation else ()

    runbook = Runbook(
        name=path.name.removesuffix(".md"),
        path=path,
        title=title.strip(),
        matchers=matchers,
        matcher_texts=matcher_texts,
        body="\n".join(body_lines).strip("\n"),
        sections=tuple(sections),
        queries=tuple(queries),
        steps=steps,
        severity=optional["severity"],
        owner=optional["owner"],
        url=optional["url"],
        datasource=optional["datasource"],
    )
    return runbook, problems


# -- front matter ------------------------------------------------------------------------------
def _front_matter(path: Path, text: str) -> tuple[tuple[dict[str, Any], dict[str, int]] | None, Problem | None]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 2 if mark is not None else 1
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        message = f"front matter is not valid YAML: {what}" + (f" ({context})" if context else "")
        return None, Problem(path, line, message)
    if not isinstance(values, dict) or not isinstance(node, yaml.MappingNode):
        return None, Problem(path, 2, "front matter must be YAML keys and values (title, matchers, ...)")
    key_lines: dict[str, int] = {}
    for key_node, _value_node in node.value:
        key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    value_nodes = {str(k.value): v for k, v in node.value}
    values = {str(k): v for k, v in values.items()}
    # remember where each matcher item sits, for its error message
    matchers_node = value_nodes.get("matchers")
    if isinstance(matchers_node, yaml.SequenceNode):
        for i, item in enumerate(matchers_node.value):
            key_lines[f"matchers[{i}]"] = item.start_mark.line + 2
    return (values, key_lines), None


def _matchers(path: Path, raw: Any, key_lines: dict[str, int],
              mode: MatchersMode) -> tuple[Matchers, tuple[str, ...], Problem | None]:
    line = key_lines.get("matchers", 1)
    if raw is None:
        return Matchers(), (), Problem(path, line, "front matter needs 'matchers' (Alertmanager matchers, "
                                                   "e.g. alertname=\"APIHighErrorRate\")")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return Matchers(), (), Problem(path, line, "'matchers' must be a list of matcher strings")
    parsed = []
    texts = []
    for i, item in enumerate(items):
        where = key_lines.get(f"matchers[{i}]", line)
        try:
            ms = parse_matchers(item, mode)
        except MatcherError as exc:
            return Matchers(), (), Problem(path, where, f"bad matcher {item!r}: {exc}")
        parsed.extend(ms)
        texts.append(item)
    if not parsed:
        return Matchers(), (), Problem(path, line, "'matchers' is empty: a runbook must say which alerts it is for")
    return Matchers(parsed), tuple(texts), None


# -- body -------------------------------------------------------------------------------------
def _body(path: Path, lines: list[str], offset: int, templates: Templates,
          default_datasource: str | None) -> tuple[list[Section], list[Query], list[Problem]]:
    problems: list[Problem] = []
    headings: list[tuple[int, int, str]] = []  # (index, level, title)
    blocks: list[tuple[int, str, list[str], bool]] = []  # (index, info, content, closed)
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence and not (fence.group(2)[0] == "`" and "`" in fence.group(3)):
            marker, info = fence.group(2), fence.group(3).strip()
            indent = len(fence.group(1))
            start = i
            content: list[str] = []
            i += 1
            closed = False
            while i < len(lines):
                end = _FENCE.match(lines[i])
                if end and end.group(2)[0] == marker[0] and len(end.group(2)) >= len(marker) and not end.group(3).strip():
                    closed = True
                    break
                line = lines[i]
                strip = min(indent, len(line) - len(line.lstrip(" ")))
                content.append(line[strip:])
                i += 1
            blocks.append((start, info, content, closed))
            i += 1
            continue
        heading = _HEADING.match(lines[i])
        if heading:
            headings.append((i, len(heading.group(1)), (heading.group(2) or "").strip()))
        i += 1

    sections = []
    for n, (index, level, title) in enumerate(headings):
        end = next((j for j, lv, _ in headings[n + 1:] if lv <= level), len(lines))
        text = "\n".join(lines[index + 1:end]).strip("\n")
        sections.append(Section(title, section_kind(title), text, index + offset + 1))

    queries: list[Query] = []
    names: set[str] = set()
    for index, info, content, closed in blocks:
        words = info.split()
        if not words or words[0].lower() != "promql":
            continue
        line = index + offset + 1
        if not closed:
            problems.append(Problem(path, line, "promql block is never closed (no ``` line after it)", fatal=False))
            continue
        options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        name, expr = _split_name(content)
        if not name:
            name = f"query {len(queries) + 1}"
        if not expr.strip():
            problems.append(Problem(path, line, f"promql block {name!r} is empty", fatal=False))
            continue
        try:
            templates.parse(expr)
        except TemplateError as exc:
            problems.append(Problem(path, line, f"promql block {name!r}: {exc}", fatal=False))
            continue
        if name in names:
            problems.append(Problem(path, line, f"two promql blocks are named {name!r}", fatal=False))
        names.add(name)
        section = ""
        for h_index, _level, title in headings:
            if h_index < index:
                section = title
        queries.append(Query(name, expr, line, section, options.get("datasource") or default_datasource))
    return sections, queries, problems


def _split_name(content: list[str]) -> tuple[str, str]:
    """A block's `# name` first line, and the query after it."""
    rows = list(content)
    while rows and not rows[0].strip():
        rows.pop(0)
    name = ""
    if rows and rows[0].lstrip().startswith("#"):
        name = rows.pop(0).strip().lstrip("#").strip()
    return name, "\n".join(rows).strip("\n")


def _steps(section: Section) -> tuple[str, ...]:
    """The section's top-level list items (first paragraph each), or its sub-headings, or its
    first paragraph."""
    sub = section.text.split("\n")
    items: list[tuple[int, list[str]]] = []  # (indent, lines)
    in_fence = False
    fence_marker = ""
    current: list[str] | None = None
    sub_headings = []
    for raw in sub:
        fence = _FENCE.match(raw)
        if fence and (not in_fence or (fence.group(2)[0] == fence_marker[0] and not fence.group(3).strip())):
            in_fence = not in_fence
            fence_marker = fence.group(2) if in_fence else ""
            current = None
            continue
        if in_fence:
            continue
        heading = _HEADING.match(raw)
        if heading:
            sub_headings.append((heading.group(2) or "").strip())
            current = None
            continue
        item = _ITEM.match(raw)
        if item:
            current = [item.group(2).strip()]
            items.append((len(item.group(1)), current))
            continue
        if not raw.strip():
            current = None
            continue
        if current is not None:
            current.append(raw.strip())
    if items:
        top = min(indent for indent, _ in items)
        return tuple(" ".join(text) for indent, text in items if indent == top)
    if sub_headings:
        return tuple(sub_headings)
    paragraph = []
    for raw in sub:
        if not raw.strip():
            if paragraph:
                break
            continue
        paragraph.append(raw.strip())
    return (" ".join(paragraph),) if paragraph else ()
