"""Bad input to the CLI: a clear one-line error and a non-zero exit, never a traceback.

These run the installed `alertbot` console script, as a user would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


ALERTBOT = str(Path(sys.executable).with_name("alertbot"))
VALID = "route:\n  receiver: x\nreceivers:\n- name: x\n"


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("ALERTBOT_DEBUG", None)
    return subprocess.run([ALERTBOT, *args], capture_output=True, text=True, timeout=timeout, env=env)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out, out
    for needle in needles:
        assert needle in out, out


def test_yaml_syntax_error(tmp_path: Path) -> None:
    f = tmp_path / "routes.yaml"
    f.write_text("route:\n  receiver: x\n  routes: [\n")
    proc = run("check-config", str(f))
    assert_clean_failure(proc, f"{f}:4: yaml:", "FAILED")


def test_missing_file(tmp_path: Path) -> None:
    proc = run("check-config", str(tmp_path / "nope.yaml"))
    assert_clean_failure(proc, "nope.yaml: no such file")
    proc = run("routes", "show", "--config", str(tmp_path / "nope.yaml"))
    assert_clean_failure(proc, "alertbot: error:", "nope.yaml: no such file")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    proc = run("check-config", str(tmp_path))
    assert_clean_failure(proc, "is a directory, not a configuration file")


def test_binary_garbage(tmp_path: Path) -> None:
    f = tmp_path / "routes.yaml"
    f.write_bytes(bytes(range(256)) * 40)
    proc = run("check-config", str(f))
    assert_clean_failure(proc, "yaml: invalid", "is this a binary file?")


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "routes.yaml"
    f.write_text("")
    proc = run("check-config", str(f))
    assert_clean_failure(proc, "no route provided in config")


def test_fifty_megabyte_file(tmp_path: Path) -> None:
    f = tmp_path / "routes.yaml"
    with open(f, "w") as fh:
        fh.write(VALID)
        line = "# " + "x" * 1022 + "\n"
        for _ in range(50 * 1024):
            fh.write(line)
    started = time.monotonic()
    proc = run("check-config", str(f))
    assert_clean_failure(proc, "file is 50.0 MiB; a configuration may be at most 16 MiB")
    assert time.monotonic() - started < 30


def test_alias_bomb(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i-1}"] * 10) + "]")
    f = tmp_path / "routes.yaml"
    f.write_text("\n".join(lines) + "\n" + VALID)
    proc = run("check-config", str(f))
    assert_clean_failure(proc, "document expands to more than")


def test_catastrophic_regex_runs_in_linear_time(tmp_path: Path) -> None:
    # RE2 runs this in linear time, as Alertmanager does; a backtracking engine would not return.
    f = tmp_path / "routes.yaml"
    f.write_text('route:\n  receiver: x\n  routes:\n  - matchers: [\'foo=~"(a+)+b"\']\n    receiver: y\n'
                 'receivers:\n- name: x\n- name: y\n')
    started = time.monotonic()
    proc = run("routes", "test", "--config", str(f), "foo=" + "a" * 100_000 + "c")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "x\n"
    assert time.monotonic() - started < 20


def test_bad_label_argument(tmp_path: Path) -> None:
    f = tmp_path / "routes.yaml"
    f.write_text(VALID)
    proc = run("routes", "test", "--config", str(f), "foo=~bar")
    assert_clean_failure(proc, "Labels must be specified as key=value pairs")


def test_unknown_command_and_flags() -> None:
    proc = run("nonsense")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "invalid choice" in proc.stderr


def test_an_unknown_flag_gets_the_commands_own_usage() -> None:
    """`serve --bogus` printed the top-level usage (`alertbot [-h] [--version] COMMAND`), which
    says nothing about serve's flags; each command and sub-command now answers with its own."""
    for args, usage in ((["serve", "--bogus"], "usage: alertbot serve "),
                        (["routes", "show", "--bogus"], "usage: alertbot routes show ")):
        proc = run(*args)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith(usage), proc.stderr
        assert "error: unrecognized arguments: --bogus" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_help_names_the_default_config() -> None:
    proc = run("serve", "--help")
    assert proc.returncode == 0
    assert "default: routes.yaml in the working directory" in " ".join(proc.stdout.split()), proc.stdout


def test_template_render_without_data_uses_amtools_example(tmp_path: Path) -> None:
    """`--data` is optional, as amtool's `--template.data` is: without it both render amtool's
    example data (two alerts); everything but the times (each a separate "now" in amtool) is
    compared."""
    from tests.peers import peer

    text = ('{{ .Receiver }} {{ .Status }} {{ .ExternalURL }} {{ .GroupLabels.SortedPairs }} '
            '{{ .CommonLabels.SortedPairs }} {{ .CommonAnnotations.SortedPairs }} {{ range .Alerts }}'
            '[{{ .Status }} {{ .Labels.SortedPairs }} {{ .Annotations.SortedPairs }} {{ .GeneratorURL }} '
            '{{ .Fingerprint }}]{{ end }}')
    ours = run("template", "render", "--template", text)
    theirs = subprocess.run([peer("amtool"), "template", "render", "--template.glob=/dev/null",
                             f"--template.text={text}"], capture_output=True, text=True, timeout=30)
    assert ours.returncode == 0 and theirs.returncode == 0, (ours.stderr, theirs.stderr)
    assert "fingerprint2" in ours.stdout and "foo.bar:1234" in ours.stdout
    assert ours.stdout == theirs.stdout
