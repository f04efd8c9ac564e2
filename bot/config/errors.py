"""Configuration errors that name the file, the line and the path in the document."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(Exception):
    """One or more problems in a configuration file, in document order."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues

    @classmethod
    def single(cls, file: str, message: str, line: int | None = None, path: str = "") -> ConfigError:
        return cls([ConfigIssue(file, line, path, message)])


def format_path(parts: tuple[object, ...]) -> str:
    """('route', 'routes', 2, 'matchers', 0) -> 'route.routes[2].matchers[0]'."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out
