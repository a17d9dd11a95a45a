#!/usr/bin/env bash
# Sets everything up and runs sluice locally: the gateway and the consumers of the Procfile
# (through honcho) and, when REDIS_URL is unset, an embedded Redis (AOF on, data in
# .local/redis). Then submits a demo job and prints how it went.
#   bash scripts/run-local.sh          # keeps running; Ctrl-C stops everything
#   bash scripts/run-local.sh --demo   # stops after the demo job
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local,documents
export PATH="$PWD/.venv/bin:$PATH"
PORT=${PORT:-8000}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${REDIS_URL:-}" ]; then
  mkdir -p .local
  python -m shared.embedded .local/redis > .local/redis.url &
  pids+=($!)
  for _ in $(seq 100); do [ -s .local/redis.url ] && break; sleep 0.1; done
  REDIS_URL=$(head -n 1 .local/redis.url)
  echo "embedded Redis at $REDIS_URL (data in .local/redis)"
fi
export REDIS_URL

honcho start --procfile Procfile --port "$PORT" --no-prefix &
pids+=($!)
python scripts/demo.py "http://127.0.0.1:$PORT"
if [ "${1:-}" = "--demo" ]; then
  exit 0
fi
echo "sluice runs at http://127.0.0.1:$PORT (Ctrl-C stops it)"
wait "${pids[@]}"
