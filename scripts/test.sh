#!/usr/bin/env bash
# Sets up everything and runs the whole test suite (lint, types, tests on Redis 7.0 and 6.2).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system.sh
bash scripts/setup.sh dev
export PATH="$PWD/.venv/bin:$PATH"
echo "== ruff"; ruff check . && ruff format --check .
echo "== mypy"; mypy
echo "== pytest"
# Most tests wait on real processes and timers, not the CPU: six workers keep two cores
# busy (bench/README.md, "Test suite").
pytest -n "${TEST_WORKERS:-6}" "$@"
