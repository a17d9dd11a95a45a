#!/usr/bin/env bash
# Renews uv.lock to the newest releases pyproject.toml allows, then installs them and runs
# the whole test suite on them (scripts/test.sh; extra arguments go to pytest). Run it to
# take today's releases (security fixes, a library's new feature): commit uv.lock if the
# suite passes; if it fails, fix the code (or bound the release in pyproject.toml) and
# run it again.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .local
cp uv.lock .local/uv.lock.before
bash scripts/uv.sh lock --upgrade --quiet
if cmp -s uv.lock .local/uv.lock.before; then
  echo "uv.lock: already the newest releases"
else
  echo "uv.lock: renewed; what moved:"
  git --no-pager diff --no-color --unified=0 -- uv.lock | grep -E '^[-+](name|version) = ' || true
fi
bash scripts/test.sh "$@"
