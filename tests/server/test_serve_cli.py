"""`alertbot serve` as a user starts it: defaults, environment variables, and the errors that
stop it before it listens (one clear line each, exit 1, never a traceback)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.peers import free_port
from tests.server.conftest import ROOT, _clean_env, http_status

pytestmark = pytest.mark.xdist_group("serve_cli")


def _serve(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli.main", "serve", *args], cwd=cwd, env=_clean_env(env),
                          capture_output=True, text=True, timeout=timeout)


def test_config_error_names_file_line_and_path(tmp_path: Path) -> None:
    cfg = tmp_path / "routes.yaml"
    cfg.write_text("route:\n  receiver: nowhere\n  group_wait: soon\nreceivers:\n  - name: default\n")
    out = _serve(["--config", str(cfg), "--listen", f"127.0.0.1:{free_port()}"], tmp_path)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("alertbot: error: ")]
    assert errors[0].startswith(f"alertbot: error: {cfg}:3 route.group_wait: "), out.stderr
    assert any(f"{cfg}:2 route.receiver: " in e and "nowhere" in e for e in errors) or len(errors) >= 2, out.stderr
    assert errors[-1] == f"alertbot: error: the configuration in {cfg} is invalid; not starting"
    assert "Traceback" not in out.stderr + out.stdout


def test_missing_config_and_bad_options(tmp_path: Path) -> None:
    out = _serve([], tmp_path)  # no routes.yaml in this directory
    assert out.returncode == 1
    assert "alertbot: error: routes.yaml: no such file" in out.stderr
    out = _serve(["--listen", "nowhere"], tmp_path)
    assert (out.returncode, out.stderr.strip()) == (
        1, "alertbot: error: --listen 'nowhere': expected HOST:PORT, e.g. 127.0.0.1:9093")
    out = _serve(["--max-body-size", "lots"], tmp_path)
    assert out.returncode == 1 and "--max-body-size 'lots'" in out.stderr
    shutil.copy(ROOT / "routes.yaml", tmp_path / "routes.yaml")
    out = _serve(["--database", "mysql://u:secretpw@db/alerts", "--listen", f"127.0.0.1:{free_port()}"], tmp_path)
    assert out.returncode == 1 and out.stderr.startswith("alertbot: error: --database: database ") \
        and "unsupported" in out.stderr and "secretpw" not in out.stderr, out.stderr
    out = _serve(["--webhook-bearer-token-file", str(tmp_path / "absent")], tmp_path)
    assert out.returncode == 1 and "webhook bearer token: cannot read" in out.stderr
    out = _serve(["--max-unready-duration", "500ms"], tmp_path)
    assert (out.returncode, out.stderr.strip()) == (
        1, "alertbot: error: --max-unready-duration '500ms': must be at least 1s")
    out = _serve([], tmp_path, env={"ALERTBOT_MAX_UNREADY_DURATION": "soon"})
    assert out.returncode == 1 and out.stderr.startswith("alertbot: error: --max-unready-duration 'soon': ")
    assert "Traceback" not in out.stderr


def test_a_database_password_on_the_command_line_is_warned_about(bot_factory) -> None:
    """Every local user reads a process' arguments (the front processes repeat them): the log
    says where the password belongs, and never shows it."""
    bot = bot_factory(args=["--database", "postgresql+asyncpg://alertbot:hunter2pw@127.0.0.1:1/db"],
                      wait_ready=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "--database holds a password" not in bot.log_text():
        time.sleep(0.1)
    warned = [r for r in bot.log_records() if "--database holds a password" in r.get("message", "")]
    assert warned and warned[0]["level"] == "warning" and "PGPASSWORD" in warned[0]["message"]
    assert "hunter2pw" not in bot.log_text()


def test_port_in_use(tmp_path: Path) -> None:
    shutil.copy(ROOT / "routes.yaml", tmp_path / "routes.yaml")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        out = _serve(["--listen", f"127.0.0.1:{port}", "--database", f"sqlite+aiosqlite:///{tmp_path}/b.db"], tmp_path)
    assert out.returncode == 1
    assert f"alertbot: error: cannot listen on 127.0.0.1:{port}: " in out.stderr
    assert "Traceback" not in out.stderr


def test_defaults_with_the_shipped_routes(tmp_path: Path) -> None:
    """What `scripts/run.sh` does from the repository root: `alertbot serve` without arguments
    reads ./routes.yaml and creates ./data/alertbot.db. (The port comes from the environment
    here, so that tests can run side by side.)"""
    shutil.copy(ROOT / "routes.yaml", tmp_path / "routes.yaml")
    port = free_port()
    log = tmp_path / "out.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], cwd=tmp_path,
                                env=_clean_env({"ALERTBOT_LISTEN": f"127.0.0.1:{port}"}), stdout=fh,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and http_status(f"http://127.0.0.1:{port}/-/ready") != 200:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        assert http_status(f"http://127.0.0.1:{port}/-/ready") == 200
        assert (tmp_path / "data" / "alertbot.db").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    assert proc.returncode == 0
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    start = next(r for r in records if r["message"] == "starting")
    assert (start["config"], start["listen"], start["database"], start["external_url"]) == (
        "routes.yaml", f"127.0.0.1:{port}", "sqlite+aiosqlite:///data/alertbot.db", f"http://127.0.0.1:{port}")
    where = [r["message"] for r in records if r["message"].startswith("receiver ")]
    # Without Slack or PagerDuty credentials the bot says plainly where notifications would go.
    assert any(w.startswith("receiver 'pagerduty': pagerduty[0] → PagerDuty") and "NOT SENT, only logged" in w
               for w in where), where
    assert any(w.startswith("receiver 'default': slack[0] → Slack channel #mlops-alerts: NOT SENT, only logged")
               for w in where), where
    # Each thing is said once, and nothing contradicts it (issue 17): every receiver one line, the
    # runbooks one line, chatops off without a "chatops ready" after it, the new schema one line
    # instead of Alembic's seven.
    assert len(where) == len(set(where)) == 4, where
    said = [r["message"] for r in records]
    assert said.count("runbooks_loaded") == 1 and "runbooks loaded" not in said, said
    assert any(m.startswith("chatops off") for m in said) and "chatops ready" not in said, said
    assert not [r for r in records if str(r.get("logger", "")).startswith("alembic")], said
    assert sum(1 for m in said if m.startswith("database schema created: revision ")) == 1, said


def test_environment_variables(tmp_path: Path) -> None:
    cfg = tmp_path / "elsewhere.yaml"
    cfg.write_text("route:\n  receiver: r\nreceivers:\n  - name: r\n")
    port = free_port()
    db = tmp_path / "env.db"
    with open(tmp_path / "env.log", "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve"], cwd=tmp_path, stdout=fh,
                                stderr=subprocess.STDOUT,
                                env=_clean_env({"ALERTBOT_CONFIG": str(cfg), "ALERTBOT_LISTEN": f"127.0.0.1:{port}",
                                                "ALERTBOT_DATABASE": f"sqlite+aiosqlite:///{db}",
                                                "ALERTBOT_EXTERNAL_URL": "https://alerts.example.com/"}))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and http_status(f"http://127.0.0.1:{port}/-/ready") != 200:
            time.sleep(0.05)
        assert http_status(f"http://127.0.0.1:{port}/api/v2/receivers") == 200
        assert db.is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    records = [json.loads(line) for line in (tmp_path / "env.log").read_text().splitlines() if line.startswith("{")]
    start = next(r for r in records if r["message"] == "starting")
    assert start["config"] == str(cfg) and start["external_url"] == "https://alerts.example.com"
