"""`alertbot replay`: recorded alert payloads through the engine on a virtual clock."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from bot.cli.errors import UserError
from bot.cli.options import add_config, add_matchers_mode, get_config, get_matchers_mode
from bot.config import ConfigError, load_config
from bot.config.durations import DurationError, parse_duration


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "replay", help="run recorded alerts through the engine on a virtual clock",
        description='Reads JSON lines, each {"at": RFC3339, "alerts": [postable alerts]} (what Prometheus sent) '
                    'or {"at": RFC3339, "webhook": payload} (what an Alertmanager sent), and prints one JSON line '
                    "per notification that would be sent.")
    add_config(p)
    add_matchers_mode(p)
    p.add_argument("--until", metavar="DURATION", default="",
                   help="keep the clock running this long after the last input (e.g. 1h), to see repeats and resolves")
    p.add_argument("files", nargs="+", metavar="FILE", help="JSON lines files ('-' for standard input)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bot.engine.replay import ReplayError, read_events, replay

    path = get_config(args, "routes.yaml")
    try:
        config = load_config(path, get_matchers_mode(args))  # type: ignore[arg-type]
    except ConfigError as exc:
        raise UserError(str(exc)) from None
    try:
        extra = parse_duration(args.until) if args.until else 0.0
    except DurationError as exc:
        raise UserError(f"--until: {exc}") from None
    events = []
    for name in args.files:
        try:
            if name == "-":
                events += read_events(sys.stdin, "<stdin>")
            else:
                with open(name, encoding="utf-8") as fh:
                    events += read_events(fh, name)
        except OSError as exc:
            raise UserError(f"{name}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise UserError(f"{name}: not UTF-8 text") from None
        except ReplayError as exc:
            raise UserError(str(exc)) from None
    events.sort(key=lambda e: e.at.ns)
    until = events[-1].at.add(extra) if events else None
    out = sys.stdout
    for record in asyncio.run(replay(config, events, until)):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    out.flush()
    return 0
