"""The `alertbot` command: one sub-command module per job, registered here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    from bot.cli import check_config, replay, routes, runbooks, serve, template

    parser = argparse.ArgumentParser(prog="alertbot", description="Alertmanager-exact alert routing and on-call chatops.")
    parser.add_argument("--version", action="version", version=f"alertbot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in (check_config, routes, replay, template, serve, runbooks):
        module.register(sub)
    _own_usage(sub)
    return parser


def _own_usage(sub: argparse._SubParsersAction) -> None:
    """Each command (and sub-command) knows its parser: an argument it does not know is
    reported with its usage, not the top-level one."""
    for p in sub.choices.values():
        p.set_defaults(_parser=p)
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                _own_usage(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        getattr(args, "_parser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"alertbot: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # the last line of defence: a user never sees a traceback
        print(f"alertbot: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("alertbot: this is a bug; run with ALERTBOT_DEBUG=1 for details", file=sys.stderr)
        if _debug():
            raise
        return 2


def _debug() -> bool:
    import os

    return os.environ.get("ALERTBOT_DEBUG", "") not in ("", "0")


if __name__ == "__main__":
    sys.exit(main())
