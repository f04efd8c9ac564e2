#!/usr/bin/env bash
# Sets up and runs the bot on its embedded defaults: the shipped routes.yaml, SQLite under ./data.
# Extra arguments go to `alertbot serve` (see `alertbot serve --help`).
source "$(dirname "$0")/lib.sh"
setup_venv
cd "$ROOT"
exec "$VENV/bin/alertbot" serve "$@"
