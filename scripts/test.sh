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
exec .venv/bin/python -m pytest "$@"
