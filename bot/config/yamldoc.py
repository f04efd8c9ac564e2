"""YAML documents read the way Alertmanager reads them, remembering where each value was.

Scalars stay text (as Go's yaml.v2 hands them to string fields); `null`/`~`/empty become
None. Every value's line is recorded under its path, so that a later validation error can
say `routes.yaml:14 route.routes[2].matchers[0]: …`. Duplicate keys are errors, as in
Alertmanager's strict decoding.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from bot.config.errors import ConfigError, ConfigIssue, format_path

Path = tuple[object, ...]

MAX_NODES = 1_000_000  # alias expansion bound (a "billion laughs" document stops here)
_NULL_TAG = "tag:yaml.org,2002:null"
# Alertmanager's matcher lists, whose unmarshaler appends (a YAML merge key adds to them).
APPENDING_FIELDS = frozenset({"matchers", "source_matchers", "target_matchers"})
# Fields whose YAML mapping is a Go map (go-yaml words duplicate keys differently there).
MAP_FIELDS = frozenset({"match", "match_re", "source_match", "source_match_re", "target_match", "target_match_re",
                        "details", "proxy_connect_header", "oauth2", "endpoint_params", "headers"})
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class YamlDocument:
    file: str
    data: Any
    text: str = ""
    value_lines: dict[Path, int] = field(default_factory=dict)
    key_lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of the value at `path`, or of its nearest recorded ancestor."""
        p = tuple(path)
        while True:
            if p in self.key_lines:
                return self.key_lines[p]
            if p in self.value_lines:
                return self.value_lines[p]
            if not p:
                return None
            p = p[:-1]

    def value_line(self, path: Path) -> int | None:
        p = tuple(path)
        while True:
            if p in self.value_lines:
                return self.value_lines[p]
            if not p:
                return None
            p = p[:-1]

    def raw_line(self, line: int) -> str:
        lines = self.text.split("\n")
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def issue(self, path: Path, message: str, *, at_value: bool = False) -> ConfigIssue:
        line = self.value_line(path) if at_value else self.line(path)
        return ConfigIssue(self.file, line, format_path(path), message)


def parse_yaml(text: str, file: str) -> YamlDocument:
    try:
        # Like Alertmanager (go-yaml's Unmarshal), only the first document counts.
        root = next(yaml.compose_all(text, Loader=yaml.SafeLoader), None)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise ConfigError.single(file, f"yaml: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, f"yaml: {exc}") from None
    doc = YamlDocument(file, None, text)
    builder = _Builder(doc)
    doc.data = None if root is None else builder.build(root, ())
    if builder.issues:
        raise ConfigError(builder.issues)
    return doc


class _Builder:
    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc
        self.issues: list[ConfigIssue] = []
        self.count = 0

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise ConfigError.single(self.doc.file, f"document expands to more than {MAX_NODES} values (aliases?)",
                                     node.start_mark.line + 1)
        self.doc.value_lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.ScalarNode):
            if node.tag == _NULL_TAG:
                return None
            return node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, path + (i,)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.MappingNode)
        out: dict[str, Any] = {}
        seen: dict[str, int] = {}
        for key_node, value_node in self._merged_pairs(node):
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(ConfigIssue(self.doc.file, key_node.start_mark.line + 1, format_path(path),
                                               "mapping keys must be scalars"))
                continue
            key = "" if key_node.tag == _NULL_TAG else key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                what = (f'key "{key}" already set in map' if path and path[-1] in MAP_FIELDS
                        else f"field {key} already set in type config.plain")
                self.issues.append(ConfigIssue(self.doc.file, line, format_path(path + (key,)),
                                               f"{what} (first at line {seen[key]})"))
                continue
            seen[key] = line
            self.doc.key_lines[path + (key,)] = line
            out[key] = self.build(value_node, path + (key,))
        return out

    def _merged_pairs(self, node: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node]]:
        own: list[tuple[yaml.Node, yaml.Node]] = []
        merged: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for src in sources:
                    if isinstance(src, yaml.MappingNode):
                        merged.extend(self._merged_pairs(src))
                continue
            own.append((key_node, value_node))
        if not merged:
            return own
        # go-yaml decodes the merged mapping into the struct first, then the mapping's own keys:
        # an own key replaces a merged one, except that Go maps keep the merged keys (key by key)
        # and Alertmanager's matcher lists append (their unmarshaler appends). An earlier merge
        # source wins over a later one.
        first: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for k, v in merged:
            if isinstance(k, yaml.ScalarNode) and k.value not in first:
                first[k.value] = (k, v)
        out: list[tuple[yaml.Node, yaml.Node]] = []
        own_keys = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        for name, pair in first.items():
            if name not in own_keys:
                out.append(pair)
        for k, v in own:
            base = first.get(k.value) if isinstance(k, yaml.ScalarNode) else None
            if base is not None:
                bv = base[1]
                if k.value in APPENDING_FIELDS and isinstance(bv, yaml.SequenceNode) and isinstance(v, yaml.SequenceNode):
                    v = yaml.SequenceNode(v.tag, bv.value + v.value, v.start_mark, v.end_mark)
                elif k.value in MAP_FIELDS and isinstance(bv, yaml.MappingNode) and isinstance(v, yaml.MappingNode):
                    keys = {kk.value for kk, _ in v.value if isinstance(kk, yaml.ScalarNode)}
                    kept = [(kk, vv) for kk, vv in bv.value if not (isinstance(kk, yaml.ScalarNode) and kk.value in keys)]
                    v = yaml.MappingNode(v.tag, kept + list(v.value), v.start_mark, v.end_mark)
            out.append((k, v))
        return out
