#!/usr/bin/env bash
# Set up everything the kiosk (and, with --test, its test suite) needs on Debian:
# system libraries for Qt and OpenCV (libxcb also for the kiosk's own X requests), the
# espeak-ng speech engine (spoken prompts), a virtualenv in .venv, and the package itself; with --test
# also Xvfb, a D-Bus daemon and the PostgreSQL server the tests start.
# Safe to run again: it installs nothing that is there, makes .venv anew when it was made by
# another Python or is broken (its interpreter gone, no pip), and reinstalls Python packages
# only when pyproject.toml or the interpreter changed. PYTHON=python3.12 picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1
python=${PYTHON:-python3}

# check_python: stop, before installing anything, when $python is missing or too old.
check_python() {
  "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && return
  local found
  found=$("$python" --version 2>&1) || found="no $python"
  echo "setup: Python 3.11 or newer is needed (found $found): install it and name it, e.g." \
       "PYTHON=python3.11 bash scripts/setup.sh" >&2
  exit 2
}

# venv_package: the Debian package with the venv module of $python. Debian ships it apart
# (python3.11-venv) for its own interpreters; an interpreter built elsewhere has it already.
venv_package() {
  local exe
  exe=$("$python" -c 'import sys; print(sys.executable)' 2>/dev/null) || {
    echo python3-venv; return; }
  dpkg-query -S "$(readlink -f "$exe")" >/dev/null 2>&1 || return 0
  "$python" -c 'import sys; print("python3.%d-venv" % sys.version_info[1])'
}

# installed NAME...: whether one of the packages is installed. dpkg-query does not follow
# Provides, and Debian 13 / Ubuntu 24.04 renamed libglib2.0-0 to libglib2.0-0t64.
installed() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q "ok installed" && return 0
  done
  return 1
}

# install_debs NAME...: apt-get install, through sudo when not root.
install_debs() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "setup: Debian packages are missing and there is no sudo here: as root run" \
           "apt-get install $*; then run this again" >&2; exit 2; }
    sudo="sudo"
  fi
  echo "setup: installing Debian packages: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# pip_install ARG...: pip install into .venv; when it fails for want of the package
# registry, say so in one line below pip's retries and tracebacks.
pip_install() {
  local log rc=0
  local unreachable='NewConnectionError|ConnectTimeoutError|ReadTimeoutError|Max retries exceeded'
  unreachable+='|Temporary failure in name resolution|ProxyError|Network is unreachable'
  log=$(mktemp)
  .venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>"$log" || rc=$?
  cat "$log" >&2
  if [ "$rc" -ne 0 ] && grep -qE "$unreachable" "$log"; then
    echo "setup: pip could not reach the package registry (${PIP_INDEX_URL:-PyPI}): check" \
         "the network or proxy, then run this again" >&2
  fi
  rm -f "$log"
  return "$rc"
}

# venv_fault: why .venv cannot be used as it is (nothing when it can): made by another
# Python (an upgrade, or PYTHON= naming another), its interpreter gone, or no pip in it (an
# ensurepip that failed, a first run interrupted).
venv_fault() {
  local tag want
  [ -e .venv ] || return 0
  tag=$(.venv/bin/python -c 'import sys; print(sys.implementation.cache_tag)' 2>/dev/null) || {
    echo ".venv/bin/python does not run"; return; }
  want=$("$python" -c 'import sys; print(sys.implementation.cache_tag)')
  [ "$tag" = "$want" ] || { echo ".venv was made by $tag, $python is $want"; return; }
  .venv/bin/python -m pip --version >/dev/null 2>&1 || echo ".venv has no pip"
}

# A fresh machine may have no python3 yet: the Debian packages below bring it.
if command -v "$python" >/dev/null 2>&1 || [ -n "${PYTHON:-}" ]; then check_python; fi

venv_deb=$(venv_package)
# Each entry is a package, or alternatives joined by "|" (the first is installed).
debs=(${venv_deb:+"$venv_deb"} python3-pip libgl1 libegl1 "libglib2.0-0|libglib2.0-0t64"
      libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb1 libxcb-cursor0
      libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-randr0
      libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 espeak-ng)
# postgresql: the fleet tests start a throwaway server of their own (kiosk/lab/pgcluster.py);
# dbus-daemon: a private session bus (tests/ui/test_awake.py); older releases ship the
# daemon in "dbus", which counts when installed.
[ "$want_tests" = 1 ] && debs+=(xvfb xauth postgresql "dbus-daemon|dbus")

if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for entry in "${debs[@]}"; do
    IFS='|' read -ra names <<< "$entry"
    installed "${names[@]}" || missing+=("${names[0]}")
  done
  [ "${#missing[@]}" -eq 0 ] || install_debs "${missing[@]}"
fi
check_python

fault=$(venv_fault)
if [ -n "$fault" ]; then
  echo "setup: $fault: making .venv anew"
  rm -rf .venv
fi
[ -e .venv ] || "$python" -m venv .venv || true
.venv/bin/python -m pip --version >/dev/null 2>&1 || {
  echo "setup: $python -m venv made no pip in .venv: install ${venv_deb:-its venv module}" \
       "and run this again" >&2; rm -rf .venv; exit 2; }

extras=""
[ "$want_tests" = 1 ] && extras="[test]"
stamp=".venv/.installed$extras"
# What was installed: this pyproject.toml, for this version of the venv's interpreter.
version=$(.venv/bin/python -c 'import sys; print(sys.version.split()[0])')
digest="$(sha256sum pyproject.toml | cut -d' ' -f1) $version"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  pip_install --upgrade pip
  pip_install -e ".$extras"
  echo "$digest" > "$stamp"
fi
