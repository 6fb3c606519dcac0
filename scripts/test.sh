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
# Two workers (this machine's cores), one test file per worker at a time, so a module's
# fixtures (the pair evaluation, a PostgreSQL cluster) are built once. KIOSK_TEST_WORKERS=0
# runs everything in this process. It is no kiosk setting, and the kiosks the tests start
# refuse a KIOSK_ name they do not know: it goes before they inherit the environment.
workers="${KIOSK_TEST_WORKERS:-2}"
unset KIOSK_TEST_WORKERS
exec .venv/bin/python -m pytest -n "$workers" --dist loadfile "$@"
