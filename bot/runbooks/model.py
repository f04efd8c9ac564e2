"""What a runbook is once parsed: its front matter, sections, first steps and queries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.routing.matchers import Matchers


@dataclass(frozen=True)
class Query:
    """A ```promql block: `expr` is a template over the alert (`{{ .Labels.service }}`)."""

    name: str
    expr: str
    line: int
    """1-based line of the block's first line (the fence) in the file."""
    section: str = ""
    """The heading the block sits under ("Investigation steps")."""
    datasource: str | None = None
    """From the fence (```promql datasource=thanos) or the front matter; None = the default."""


@dataclass(frozen=True)
class Section:
    title: str
    kind: str
    """"impact", "investigation", "mitigation", "resolution" or "" for any other heading."""
    text: str
    line: int


@dataclass(frozen=True)
class Runbook:
    name: str
    """The file name without `.md`: the runbook's identity, and the tie-breaker in matching."""
    path: Path
    title: str
    matchers: Matchers
    matcher_texts: tuple[str, ...]
    body: str
    sections: tuple[Section, ...]
    queries: tuple[Query, ...]
    steps: tuple[str, ...]
    """The investigation steps, in order: each top-level list item's first paragraph (Markdown)."""
    severity: str | None = None
    owner: str | None = None
    url: str | None = None
    datasource: str | None = None

    @property
    def specificity(self) -> int:
        return len(self.matchers)

    def section(self, kind: str) -> Section | None:
        return next((s for s in self.sections if s.kind == kind), None)


@dataclass(frozen=True)
class Problem:
    """Something wrong in a runbook file: `path:line: message`. `fatal` problems keep the
    whole file out of the catalog; the others only drop the broken part (e.g. one query)."""

    path: Path
    line: int
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"
