#!/usr/bin/env bash
# Sets everything up and runs sluice locally: the gateway and the consumers of the Procfile
# (through honcho) and, when REDIS_URL is unset, an embedded Redis (AOF on, data in
# .local/redis). Then submits a demo job and prints how it went.
#   bash scripts/run-local.sh          # keeps running; Ctrl-C stops everything
#   bash scripts/run-local.sh --demo   # stops after the demo job
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh local
export PATH="$PWD/.venv/bin:$PATH"
PORT=${PORT:-8000}
pids=()
stop_redis() { :; }
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  stop_redis
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${REDIS_URL:-}" ]; then
  # The embedded Redis of .local (the one processes started by hand use too), started if
  # none answers; stopped when this script ends.
  REDIS_URL=$(python -c 'from shared.embedded import local_redis_url; print(local_redis_url())')
  echo "embedded Redis at $REDIS_URL (data in .local/redis)"
  stop_redis() { python -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).shutdown()" \
    "$REDIS_URL" 2>/dev/null || true; }
else
  stop_redis() { :; }
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
