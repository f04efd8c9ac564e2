"""The runbook catalog: every `*.md` of a directory, parsed, and found by labels or by reference.

A file that cannot be used (bad YAML, bad matcher, no title, unreadable) is left out and
reported with its path, line and reason — logged at load and kept in `problems` — while
every other runbook keeps working. `README.md` is not a runbook and is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from bot.routing.matchers import DEFAULT_MODE, MatchersMode
from bot.runbooks.model import Problem, Runbook
from bot.runbooks.parse import MAX_FILE_BYTES, parse_runbook
from bot.templates import Templates

log = structlog.get_logger(__name__)

DEFAULT_DIRECTORY = "runbooks"


class Catalog:
    def __init__(self, runbooks: Iterable[Runbook] = (), problems: Iterable[Problem] = (), *,
                 directory: Path | None = None, templates: Templates | None = None) -> None:
        self.runbooks: tuple[Runbook, ...] = tuple(sorted(runbooks, key=lambda r: r.name))
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.directory = directory
        self.templates = templates or Templates.default()
        self._by_name = {r.name: r for r in self.runbooks}
        self._by_url = {r.url: r for r in self.runbooks if r.url}

    @classmethod
    def load(cls, directory: str | os.PathLike[str] | None = None, *, templates: Templates | None = None,
             matchers_mode: MatchersMode | None = None, quiet: bool = False) -> Catalog:
        """Parse every runbook in `directory` (default: $ALERTBOT_RUNBOOKS or ./runbooks).

        Matchers parse as routing's (`matchers_mode`, default $ALERTBOT_MATCHERS_MODE or
        fallback). Problems are logged unless `quiet`; they are in `problems` either way.
        """
        mode = matchers_mode or os.environ.get("ALERTBOT_MATCHERS_MODE") or DEFAULT_MODE
        path = Path(directory or os.environ.get("ALERTBOT_RUNBOOKS") or DEFAULT_DIRECTORY)
        templates = templates or Templates.default()
        runbooks: list[Runbook] = []
        problems: list[Problem] = []
        if not path.is_dir():
            problems.append(Problem(path, 0, "runbook directory does not exist"))
        else:
            for file in sorted(path.glob("*.md")):
                if file.name.lower() == "readme.md" or not file.is_file():
                    continue
                text, problem = _read(file)
                if problem is not None:
                    problems.append(problem)
                    continue
                runbook, found = parse_runbook(file, text, templates, mode)  # type: ignore[arg-type]
                problems.extend(found)
                if runbook is not None:
                    runbooks.append(runbook)
        catalog = cls(runbooks, problems, directory=path, templates=templates)
        if not quiet:
            for p in problems:
                (log.error if p.fatal else log.warning)(
                    "runbook_problem", file=str(p.path), line=p.line, reason=p.message,
                    consequence="runbook not loaded" if p.fatal else "part of the runbook ignored")
            log.info("runbooks_loaded", directory=str(path), runbooks=len(runbooks),
                     problems=len(problems))
        return catalog

    def __len__(self) -> int:
        return len(self.runbooks)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.runbooks)

    def get(self, name: str) -> Runbook | None:
        return self._by_name.get(name)

    def matching(self, labels: Mapping[str, str]) -> list[Runbook]:
        """Every runbook whose matchers match, most specific (most matchers) first, ties by file name."""
        found = [r for r in self.runbooks if r.matchers.matches(labels)]
        return sorted(found, key=lambda r: (-r.specificity, r.name))

    def best(self, labels: Mapping[str, str]) -> Runbook | None:
        found = self.matching(labels)
        return found[0] if found else None

    def by_reference(self, ref: str) -> Runbook | None:
        """The runbook a `runbook_url`/`runbook` annotation names: its front matter `url`, any URL
        whose path ends in `/runbooks/<name>.md` (whatever the host; a fragment is fine), or the
        name or path itself (`api-high-error-rate`, `runbooks/api-high-error-rate.md`)."""
        ref = ref.strip()
        if ref in self._by_url:
            return self._by_url[ref]
        parts = urlsplit(ref)
        if parts.scheme in ("http", "https"):
            path = parts.path
            if "/runbooks/" not in path or not path.endswith(".md"):
                return None
            name = path.rsplit("/", 1)[-1]
        else:
            name = ref.rstrip("/").rsplit("/", 1)[-1]
        return self._by_name.get(name.removesuffix(".md"))

    def hint(self, labels: Mapping[str, str]) -> str:
        """Where a runbook for an alert with these labels would go."""
        alertname = labels.get("alertname", "")
        directory = str(self.directory or DEFAULT_DIRECTORY)
        if not alertname:
            return f"No runbook yet: add one to {directory}/ with matchers for this alert."
        file = f"{directory}/{file_name_for(alertname)}.md"
        return f'No runbook yet: add {file} with `matchers: [alertname="{alertname}"]`.'


def file_name_for(alertname: str) -> str:
    """APIHighErrorRate → api-high-error-rate."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", alertname)
    return re.sub(r"[^a-z0-9]+", "-", spaced.lower()).strip("-") or "runbook"


def _read(file: Path) -> tuple[str, Problem | None]:
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            return "", Problem(file, 0, f"file is {size:,} bytes, more than a runbook's {MAX_FILE_BYTES:,}")
        return file.read_bytes().decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return "", Problem(file, 0, f"not UTF-8 text (byte {exc.start})")
    except OSError as exc:
        return "", Problem(file, 0, f"cannot read: {exc.strerror or exc}")


def specificity_ties(runbooks: Sequence[Runbook]) -> list[Runbook]:
    """The runbooks that tie with the first (most specific) one: more than one means the
    choice falls to the file name."""
    if not runbooks:
        return []
    top = runbooks[0].specificity
    return [r for r in runbooks if r.specificity == top]
