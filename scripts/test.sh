#!/usr/bin/env bash
# Sets up and runs every test. The real peers the tests run against come from Debian and are
# installed when missing. Extra arguments go to pytest (e.g. `scripts/test.sh tests/routing -x`).
source "$(dirname "$0")/lib.sh"
apt_install prometheus-alertmanager prometheus postgresql
setup_venv test
cd "$ROOT"
# Slack's SDK reads proxy variables and ignores NO_PROXY: the fakes live on loopback.
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy ALL_PROXY all_proxy
exec "$VENV/bin/python" -m pytest -n "${ALERTBOT_TEST_WORKERS:-6}" --dist loadgroup "$@"
