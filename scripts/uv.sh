#!/usr/bin/env bash
# Runs uv at the version pyproject.toml requires ([tool.uv] required-version), with the
# arguments given: the one on PATH if it is that version, else one installed (once) into
# .local/uv with the machine's Python.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
# The interpreter itself, not a shim (pyenv's): uv rebuilds a venv made by another path.
PYTHON=$("$PYTHON" -c 'import sys; print(sys.executable)')
version=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))
  ["tool"]["uv"]["required-version"].removeprefix("=="))')
UV=uv
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "$version" ]; then
  UV=.local/uv/bin/uv
  if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$version" ]; then
    "$PYTHON" -m venv .local/uv
    .local/uv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$version"
  fi
fi
# The machine's Python, never one uv would download.
UV_PYTHON="$PYTHON" UV_PYTHON_DOWNLOADS=never exec "$UV" "$@"
