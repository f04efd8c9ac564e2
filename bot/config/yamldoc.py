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
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(slots=True)
class YamlDocument:
    file: str
    data: Any
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

    def issue(self, path: Path, message: str, *, at_value: bool = False) -> ConfigIssue:
        line = self.value_line(path) if at_value else self.line(path)
        return ConfigIssue(self.file, line, format_path(path), message)


def parse_yaml(text: str, file: str) -> YamlDocument:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or "invalid YAML"
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise ConfigError.single(file, f"yaml: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise ConfigError.single(file, f"yaml: {exc}") from None
    doc = YamlDocument(file, None)
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
                self.issues.append(ConfigIssue(self.doc.file, line, format_path(path + (key,)),
                                               f'key "{key}" already set (first at line {seen[key]})'))
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
        # Keys of the mapping itself win over merged ones, and an earlier merge source over a later one.
        taken = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
        kept: list[tuple[yaml.Node, yaml.Node]] = []
        for k, v in merged:
            if isinstance(k, yaml.ScalarNode):
                if k.value in taken:
                    continue
                taken.add(k.value)
            kept.append((k, v))
        return kept + own
