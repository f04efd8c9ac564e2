"""The one error type of the template package."""

from __future__ import annotations


class TemplateError(Exception):
    """A template that cannot be parsed, checked or executed.

    `str(error)` is the message Go's text/template gives for the same mistake
    (for example ``template: :1:8: executing "" at <5>: range can't iterate over 5``).
    The structured parts let a caller point at the spot in its own file:

    * `name` — the template's name: "" for a text given inline (a config field),
      the file's base name for a `templates:` file, or a `define`d name;
    * `line`, `column` — 1-based, counted in characters within the template's own text
      (`column` is 0 when unknown);
    * `message` — the bare reason, without Go's location prefix;
    * `phase` — "parse", "check" or "exec".
    """

    def __init__(self, go_message: str, *, name: str, line: int, column: int, message: str, phase: str) -> None:
        super().__init__(go_message)
        self.go_message = go_message
        self.name = name
        self.line = line
        self.column = column
        self.message = message
        self.phase = phase

    def __str__(self) -> str:
        return self.go_message

    def __reduce__(self):  # keep pickling (multiprocessing, pytest-xdist) working with keyword-only args
        return (_rebuild, (self.go_message, self.name, self.line, self.column, self.message, self.phase))


def _rebuild(go_message: str, name: str, line: int, column: int, message: str, phase: str) -> TemplateError:
    return TemplateError(go_message, name=name, line=line, column=column, message=message, phase=phase)


def line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and character column of character offset `pos` in `text`."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    start = text.rfind("\n", 0, pos) + 1
    return line, pos - start + 1


def go_byte_column(text: str, pos: int) -> int:
    """The column Go's ErrorContext prints: a 0-based byte offset within the line."""
    pos = max(0, min(pos, len(text)))
    nl = text.rfind("\n", 0, pos)
    segment = text[nl + 1 : pos]
    byte_col = len(segment.encode("utf-8", "surrogateescape"))
    # On the first line Go reports the offset from the start of the text (the same number).
    return byte_col
