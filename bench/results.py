"""Writing one section of bench/RESULTS.md (each benchmark owns its section)."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, title: str, body: str) -> None:
    """Replaces the `## title` section of RESULTS.md (other sections are left alone)."""
    text = path.read_text() if path.exists() else "# Benchmark results\n\nEach section is written by the script named in it.\n"
    header = f"## {title}\n"
    start = text.find(header)
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + header + "\n" + body
    else:
        end = text.find("\n## ", start + len(header))
        text = text[:start] + header + "\n" + body + (text[end:] if end != -1 else "")
    path.write_text(text)
