# Shared by the scripts in this folder. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ALERTBOT_VENV:-$ROOT/.venv}"

say() { printf '%s\n' "$*" >&2; }

_apt_updated=""
apt_install() {
  # apt_install PKG... : installs Debian packages that are missing (needs root).
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then say "need root to install: apt-get install -y ${missing[*]}"; exit 1; fi
  if [ -z "$_apt_updated" ]; then say "apt-get update"; apt-get update -qq; _apt_updated=1; fi
  say "installing Debian packages: ${missing[*]}"
  # The packages are only needed as binaries: keep their services (an Alertmanager on 9093, a
  # Prometheus on 9090) from starting, so they never take the bot's port.
  local policy=/usr/sbin/policy-rc.d made_policy=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1; fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  if [ -n "$made_policy" ]; then rm -f "$policy"; fi
  return $rc
}

find_python() {
  local c
  for c in "${PYTHON:-}" python3.11 python3; do
    [ -n "$c" ] || continue
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$c"; return 0
    fi
  done
  return 1
}

setup_venv() {
  # setup_venv [test] : creates .venv and installs the pinned dependencies; does nothing when they are current.
  local py extras="" stamp
  py="$(find_python)" || { apt_install python3 python3-venv; py="$(find_python)" || { say "Python >= 3.11 is required"; exit 1; }; }
  if ! "$py" -c 'import ensurepip, venv' 2>/dev/null; then apt_install python3-venv; fi
  [ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$py" -m venv "$VENV"; }
  [ "${1:-}" = test ] && extras="[test]"
  stamp="$VENV/.installed-$(cat "$ROOT/requirements.lock" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)$extras"
  if [ ! -e "$stamp" ]; then
    say "installing pinned Python dependencies into $VENV"
    "$VENV/bin/pip" install --disable-pip-version-check -q -r "$ROOT/requirements.lock"
    "$VENV/bin/pip" install --disable-pip-version-check -q --no-deps -e "$ROOT$extras"
    touch "$stamp"
  fi
}
