"""Command-line options shared by several commands.

Options may be given before or after a sub-command (`alertbot routes --config F test` and
`alertbot routes test --config F`), so they default to "absent" and are read with `get_*`.
"""

from __future__ import annotations

import argparse
import os

from bot.routing.matchers import DEFAULT_MODE, MatchersMode

MODES = ("fallback", "classic", "utf8")


def add_matchers_mode(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--matchers-mode", choices=MODES, default=argparse.SUPPRESS,
        help="matcher parser, as Alertmanager's feature flags: fallback (today's default: UTF-8 parser with "
             "the classic one as fallback), classic (Alertmanager <= 0.26), utf8 (utf8-strict-mode); "
             "env ALERTBOT_MATCHERS_MODE")


def get_matchers_mode(args: argparse.Namespace) -> MatchersMode:
    return getattr(args, "matchers_mode", None) or os.environ.get("ALERTBOT_MATCHERS_MODE") or DEFAULT_MODE  # type: ignore[return-value]


def add_config(p: argparse.ArgumentParser, default: str | None = None) -> None:
    where = f"; default: {default} in the working directory" if default else ""
    p.add_argument("--config", "--config.file", dest="config", metavar="FILE", default=argparse.SUPPRESS,
                   help=f"the routes.yaml to use (env ALERTBOT_CONFIG{where})")


def get_config(args: argparse.Namespace, default: str | None = None) -> str | None:
    return getattr(args, "config", None) or os.environ.get("ALERTBOT_CONFIG") or default
