#!/usr/bin/env bash
# Install what Ladder needs on a fresh Debian/Ubuntu machine: Elixir (optional at run time, used by
# the formatter and syntax helper and by its tests) and the Python package with its dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v elixir >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing elixir with apt-get" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq elixir >/dev/null
  else
    echo "setup: elixir not found and apt-get unavailable; L1 formatting will be reported as skipped" >&2
  fi
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
