#!/usr/bin/env bash
# Set up, then run every check the project holds itself to: ruff (lint + format), mypy --strict on
# bot/ and checks/, and the whole pytest suite. Fails on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
PYTHON="${PYTHON:-python3}"
echo "== ruff check" && "$PYTHON" -m ruff check .
echo "== ruff format --check" && "$PYTHON" -m ruff format --check .
echo "== mypy --strict (bot/, checks/)" && "$PYTHON" -m mypy
echo "== pytest" && "$PYTHON" -m pytest -q -p no:cacheprovider "$@"
