#!/usr/bin/env bash
# Set up (first time) and run the whole test suite: lint, layering contracts, types, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
echo "== ruff"
.venv/bin/ruff check kiosk tests benchmarks scripts main.py
echo "== import-linter"
.venv/bin/lint-imports --no-cache
echo "== mypy"
.venv/bin/mypy
echo "== pytest"
# Three workers on this machine's two cores: much of the suite waits in real time (paced
# recordings, Qt timers, PostgreSQL, child processes), and a third worker fills that idle
# CPU (the whole pytest run: 452 s against 512 s with two, measured). One test file per
# worker at a time, so a module's fixtures (the pair evaluation, a PostgreSQL cluster) are
# built once. KIOSK_TEST_WORKERS=0 runs everything in this process. It is no kiosk setting,
# and the kiosks the tests start refuse a KIOSK_ name they do not know: it goes before they
# inherit the environment.
workers="${KIOSK_TEST_WORKERS:-3}"
unset KIOSK_TEST_WORKERS
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
