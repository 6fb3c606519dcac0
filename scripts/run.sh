#!/usr/bin/env bash
# Set up (first time) and start the kiosk. Extra arguments go to main.py, e.g.
#   bash scripts/run.sh --windowed --source ../shared/data/KwaiVGI_LivePortrait/assets/examples/driving/d7.mp4
# PYTHON=python3.12 bash scripts/run.sh sets up (and runs) with another interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python main.py "$@"
