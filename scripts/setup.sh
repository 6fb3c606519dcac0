#!/usr/bin/env bash
# Set up everything the kiosk (and, with --test, its test suite) needs on Debian:
# system libraries for Qt and OpenCV, the espeak-ng speech engine (spoken prompts), a
# virtualenv in .venv, and the package itself; with --test also Xvfb and the PostgreSQL
# server the fleet tests start.
# Safe to run again: it only reinstalls Python packages when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

debs=(python3-venv python3-pip libgl1 libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3
      libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
      libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0
      libxcb-xkb1 espeak-ng)
# postgresql: the fleet tests start a throwaway server of their own (kiosk/lab/pgcluster.py).
[ "$want_tests" = 1 ] && debs+=(xvfb xauth postgresql)

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for pkg in "${debs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "setup: installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

python=${PYTHON:-python3}
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "setup: Python 3.11 or newer is needed (found $("$python" --version 2>&1))" >&2; exit 2; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
extras=""
[ "$want_tests" = 1 ] && extras="[test]"
stamp=".venv/.installed$extras"
digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"
  echo "$digest" > "$stamp"
fi
