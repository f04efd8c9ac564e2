"""The README's "Checking a configuration" commands, run as written from the repository's root
(with the shipped routes.yaml, rules, runbooks and the example files they name): each works."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALERTBOT = str(Path(sys.executable).with_name("alertbot"))


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Checking a configuration", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip().startswith(".venv/bin/alertbot ")]


def test_the_section_has_its_commands() -> None:
    commands = readme_commands()
    assert len(commands) >= 8 and any("examples/payload.json" in c for c in commands)
    assert any("examples/recorded.jsonl" in c for c in commands)


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_works(command: str) -> None:
    args = shlex.split(command)
    proc = subprocess.run([ALERTBOT, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{command}\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.strip(), command
    assert "Traceback" not in proc.stderr
