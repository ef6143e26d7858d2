#!/usr/bin/env bash
# Runs the whole BankHooks test suite on a fresh Debian machine: installs what the tests need
# (SQLite headers, curl, Python's `standardwebhooks` for the independent signature check and
# schemathesis), builds the package with its tests and the `bankhooks` binary the process
# tests start, runs every test (printing the runner's summary), then schemathesis against a
# live server. Arguments go to `swift test` (and then skip schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_debian_packages libsqlite3-dev curl
if ! python3 -c 'import standardwebhooks' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check standardwebhooks
fi

swift build --build-tests
swift test --skip-build "$@"

# Every operation of the OpenAPI document fuzzed against a live server: no 5xx, and no answer
# the document does not describe. A fixed seed keeps CI reproducible (SEED=... to explore).
if [ $# -eq 0 ]; then
  SEED=${SEED:-20261124} ./scripts/schemathesis.sh .build/debug/bankhooks
fi
