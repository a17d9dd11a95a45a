#!/usr/bin/env bash
# Creates .venv holding exactly what uv.lock names: the project, its dependencies and the
# dependency groups named as arguments. Needs only Python >= 3.11 (scripts/uv.sh brings uv).
#   bash scripts/setup.sh dev      # what the tests need (the group includes local)
#   bash scripts/setup.sh local    # what run-local.sh needs; keeps anything else installed
set -euo pipefail
cd "$(dirname "$0")/.."
groups=()
for group in "$@"; do groups+=(--group "$group"); done
# Only the test environment is made exact; run-local adds what it lacks to an existing one.
exact=(--inexact)
if [[ " $* " == *" dev "* ]]; then exact=(); fi
# --locked: install the lock as it is; a lock out of step with pyproject.toml is an error
# here (scripts/upgrade.sh renews it), never silently re-resolved.
bash scripts/uv.sh sync --locked --no-default-groups "${groups[@]}" "${exact[@]}" --quiet
