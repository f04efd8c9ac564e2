#!/usr/bin/env bash
# Creates .venv with the pinned dependencies (and the test tools with --test).
source "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --test ]; then setup_venv test; else setup_venv; fi
