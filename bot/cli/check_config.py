"""`alertbot check-config FILE...`: amtool's check-config, with file:line:path errors."""

from __future__ import annotations

import argparse
import sys

from bot.cli.options import add_matchers_mode, get_matchers_mode
from bot.config import ConfigError, load_config


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("check-config", help="validate configuration files (like amtool check-config)",
                       description="Validate configuration files, as `amtool check-config` does.")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_matchers_mode(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    failed = 0
    for path in args.files:
        sys.stdout.write(f"Checking '{path}'")
        try:
            cfg = load_config(path, get_matchers_mode(args))
        except ConfigError as exc:
            lines = [str(i) for i in exc.issues]
            sys.stdout.write(f"  FAILED: {lines[0]}\n")
            for more in lines[1:]:
                sys.stdout.write(f"  {more}\n")
            failed += 1
        else:
            sys.stdout.write("  SUCCESS\n")
            model = cfg.model
            print("Found:")
            print(" - global config")
            print(" - route")
            print(f" - {len(model.inhibit_rules)} inhibit rules")
            print(f" - {len(model.receivers)} receivers")
            print(f" - {len(model.templates)} templates")
            if model.templates:
                # amtool loads the template files separately and reports them on their own line.
                if cfg.template_error is None:
                    print("  SUCCESS")
                else:
                    print(f"  FAILED: {cfg.template_error}")
                    failed += 1
            for warning in cfg.warnings:
                print(f"warning: {warning}", file=sys.stderr)
        sys.stdout.write("\n")
    sys.stdout.flush()
    if failed:
        print(f"alertbot: error: failed to validate {failed} file(s)", file=sys.stderr)
        return 1
    return 0
