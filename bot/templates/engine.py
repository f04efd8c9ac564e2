"""A set of templates — the defaults plus `templates:` files — and rendering against it.

This mirrors Alertmanager's `template.Template`: the default templates are parsed
first (as the unnamed template ""), each `templates:` glob's files follow in glob
order (one template per file, named by the file's base name, later definitions
replacing earlier ones), and every text is rendered the way ExecuteTextString does
it: an empty text renders as "", otherwise the text is parsed as template "" on top
of the set (its own `define`s apply to that render only) and executed with
`missingkey=zero`.
"""

from __future__ import annotations

import glob as _glob
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import structlog

from bot.templates.check import check_trees
from bot.templates.data import TemplateData
from bot.templates.errors import TemplateError
from bot.templates.exec import DEFAULT_MAX_DEPTH, DEFAULT_MAX_OUTPUT, DEFAULT_TIME_LIMIT, Executor
from bot.templates.funcs import BUILTINS, alertmanager_funcs
from bot.templates.gotime import GoTime
from bot.templates.gotypes import GoFunc
from bot.templates.nodes import is_empty_tree
from bot.templates.parser import Tree, parse

log = structlog.get_logger(__name__)

DEFAULT_TEMPLATE_FILE = "default.tmpl"
_PARSE_CACHE_SIZE = 512


def _associate(trees: dict[str, Tree], name: str, tree: Tree) -> None:
    """text/template's associate: an empty definition never replaces a non-empty one."""
    old = trees.get(name)
    if old is not None and is_empty_tree(tree.root) and old.root is not None:
        return
    trees[name] = tree


class Parsed:
    """A text parsed against a template set: the tree to execute and the definitions it adds."""

    __slots__ = ("tree", "defines")

    def __init__(self, tree: Tree, defines: dict[str, Tree]) -> None:
        self.tree = tree
        self.defines = defines


class Templates:
    """The templates a configuration can use, and rendering with them.

    Construct with `Templates.default()` or `Templates.from_globs(patterns, base_dir)`.
    All methods are safe to call from several threads or tasks.
    """

    def __init__(
        self,
        *,
        now: Callable[[], GoTime] | None = None,
        max_output: int = DEFAULT_MAX_OUTPUT,
        time_limit: float = DEFAULT_TIME_LIMIT,
        max_depth: int = DEFAULT_MAX_DEPTH,
        load_defaults: bool = True,
    ) -> None:
        self._trees: dict[str, Tree] = {}
        funcs: dict[str, GoFunc] = dict(BUILTINS)
        funcs.update(alertmanager_funcs(now))  # a template's own functions shadow the builtins, as in Go
        self._funcs = funcs
        self._func_names = frozenset(funcs)
        self.max_output = max_output
        self.time_limit = time_limit
        self.max_depth = max_depth
        self._cache: OrderedDict[str, Parsed | TemplateError] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.files: list[Path] = []
        if load_defaults:
            text = resources.files("bot.templates").joinpath(DEFAULT_TEMPLATE_FILE).read_text(encoding="utf-8")
            self.add_text("", text)

    # -- building the set --------------------------------------------------------
    @classmethod
    def default(cls, **kwargs: Any) -> Templates:
        """Alertmanager's default templates only."""
        return cls(**kwargs)

    @classmethod
    def from_globs(cls, patterns: Iterable[str], base_dir: str | os.PathLike[str] | None = None,
                   **kwargs: Any) -> Templates:
        """The defaults plus every file matching the `templates:` globs (relative to `base_dir`).

        A pattern matching nothing is not an error (Alertmanager allows it). Raises
        TemplateError for a file that does not parse and OSError for one that cannot be read.
        """
        templates = cls(**kwargs)
        for pattern in patterns:
            templates.add_glob(pattern, base_dir)
        return templates

    def add_glob(self, pattern: str, base_dir: str | os.PathLike[str] | None = None) -> list[Path]:
        if base_dir is not None and not os.path.isabs(pattern):
            pattern = os.path.join(base_dir, pattern)
        if _has_bad_glob_syntax(pattern):
            raise TemplateError(
                "syntax error in pattern", name=pattern, line=0, column=0, message="syntax error in pattern",
                phase="parse",
            )
        paths = sorted(_glob.glob(pattern))
        added = []
        for path in paths:
            if os.path.isdir(path):
                continue
            self.add_file(path)
            added.append(Path(path))
        return added

    def add_file(self, path: str | os.PathLike[str]) -> None:
        """Parse one template file; it becomes a template named after its base name."""
        text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
        self.add_text(os.path.basename(os.fspath(path)), text)
        self.files.append(Path(path))

    def add_text(self, name: str, text: str) -> None:
        """Parse `text` as template `name` into the set (its definitions replace earlier ones)."""
        trees = parse(name, text, self._func_names)
        for tree_name, tree in trees.items():
            _associate(self._trees, tree_name, tree)
        with self._cache_lock:
            self._cache.clear()

    @property
    def names(self) -> list[str]:
        """Names of the templates in the set (the unnamed "" top level excluded)."""
        return sorted(n for n in self._trees if n)

    def lookup(self, name: str) -> Tree | None:
        return self._trees.get(name)

    # -- parsing and checking ------------------------------------------------------
    def parse(self, text: str) -> Parsed:
        """Parse a template text as Alertmanager does before executing it (cached)."""
        with self._cache_lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
        if cached is not None:
            if isinstance(cached, TemplateError):
                raise cached
            return cached
        try:
            trees = parse("", text, self._func_names)
        except TemplateError as exc:
            self._remember(text, exc)
            raise
        tree = trees.pop("")
        parsed = Parsed(tree, trees)
        self._remember(text, parsed)
        return parsed

    def _remember(self, text: str, value: Parsed | TemplateError) -> None:
        with self._cache_lock:
            self._cache[text] = value
            if len(self._cache) > _PARSE_CACHE_SIZE:
                self._cache.popitem(last=False)

    def check(self, text: str) -> None:
        """Raise TemplateError if `text` cannot work: a parse error, or what static checks can prove
        will fail at run time (an undefined template, a wrong number of arguments, a range over a
        number, an unknown field of the notification data, recursion without end)."""
        if text == "":
            return
        parsed = self.parse(text)
        check_trees(parsed.tree, self._view(parsed), self._funcs)

    def check_set(self) -> None:
        """Check every template of the set itself (the `templates:` files)."""
        for name in self.names:
            tree = self._trees[name]
            check_trees(tree, self._trees.get, self._funcs, dot_known=False)

    def _view(self, parsed: Parsed) -> Callable[[str], Tree | None]:
        if not parsed.defines and is_empty_tree(parsed.tree.root) is False:
            own = parsed.tree
            base = self._trees

            def lookup_plain(name: str) -> Tree | None:
                if name == "":
                    return own
                return base.get(name)

            return lookup_plain
        merged = dict(self._trees)
        for name, tree in parsed.defines.items():
            _associate(merged, name, tree)
        _associate(merged, "", parsed.tree)
        return merged.get

    # -- rendering ------------------------------------------------------------------
    def render(self, text: str, data: TemplateData | Any) -> str:
        """Render `text` with `data` (normally a TemplateData). Raises TemplateError.

        Bounded: output above `max_output` characters, more than `time_limit` seconds or
        more than `max_depth` nested {{template}} calls stop the render with an error.
        """
        if text == "":
            return ""
        parsed = self.parse(text)
        executor = Executor(
            self._view(parsed),
            self._funcs,
            max_output=self.max_output,
            time_limit=self.time_limit,
            max_depth=self.max_depth,
        )
        try:
            output = executor.execute("", parsed.tree, data)
        except TemplateError:
            raise
        except Exception as exc:  # a bug of ours must not take a notification down
            log.exception("template_internal_error", template=text[:200])
            raise TemplateError(
                f"template: internal error: {type(exc).__name__}: {exc}",
                name="",
                line=0,
                column=0,
                message=f"internal error: {type(exc).__name__}: {exc}",
                phase="exec",
            ) from exc
        if not output.isascii() and _has_raw_bytes(output):
            output = output.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        return output

    def render_safe(self, text: str, data: TemplateData | Any, *, fallback: str, field: str = "") -> str:
        """Render `text`; if that fails, log why and render `fallback` (the field's default text) instead.

        Returns "" if the fallback fails too (which is logged as an error).
        """
        try:
            return self.render(text, data)
        except TemplateError as exc:
            log.warning("template_render_failed", field=field, error=str(exc), fallback=fallback)
        try:
            return self.render(fallback, data)
        except TemplateError as exc:
            log.error("template_fallback_failed", field=field, error=str(exc))
            return ""

    def render_channel(self, text: str, data: TemplateData | Any, *, default_channel: str) -> str:
        """Render a Slack `channel:` template; an empty or invalid result falls back to `default_channel`
        with a warning (a render error does too)."""
        try:
            channel = self.render(text, data).strip()
        except TemplateError as exc:
            log.warning("slack_channel_template_failed", template=text, error=str(exc), channel=default_channel)
            return default_channel
        if is_valid_slack_channel(channel):
            return channel
        log.warning(
            "slack_channel_invalid",
            template=text,
            rendered=channel,
            channel=default_channel,
            reason="empty" if not channel else "not a Slack channel name or ID",
        )
        return default_channel


def _has_raw_bytes(text: str) -> bool:
    """Whether `text` carries bytes that are not UTF-8 (surrogate-escaped); Go would emit them raw."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _has_bad_glob_syntax(pattern: str) -> bool:
    """filepath.Glob's ErrBadPattern: an unterminated character class."""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and os.sep != "\\":
            i += 2
            continue
        if ch == "[":
            end = pattern.find("]", i + 2 if i + 1 < len(pattern) and pattern[i + 1] in "^!" else i + 1)
            if end < 0:
                return True
            i = end
        i += 1
    return False


# Slack channel names: lower-case letters (any script), digits, '-', '_' (and '.' in legacy names),
# at most 80 characters, written with a leading '#'; or a conversation/user ID; or '@user'.
_CHANNEL_NAME = re.compile(r"#[^\s#@,<>&'\"!?*$%^()+=\[\]{}|\\/:;`~A-Z]{1,80}")
_CHANNEL_ID = re.compile(r"[CDGU][A-Z0-9]{6,}")
_USER_NAME = re.compile(r"@[a-z0-9][a-z0-9._\-]{0,79}")


def is_valid_slack_channel(channel: str) -> bool:
    """Whether `channel` can be a Slack `channel` field: '#name', a channel/user ID or '@user'."""
    if not channel or len(channel) > 81:
        return False
    if _CHANNEL_NAME.fullmatch(channel):
        # "#team-" from an empty label is syntactically fine but never what was meant.
        return not channel.endswith(("-", "_")) and channel not in ("#",)
    return bool(_CHANNEL_ID.fullmatch(channel) or _USER_NAME.fullmatch(channel))
