#!/usr/bin/env bash
# Runs the whole BankHooks test suite on a fresh Debian machine: installs what the tests need
# (SQLite headers, Python's `standardwebhooks` for the independent signature check), builds
# the package with its tests and the `bankhooks` binary the process tests start, and runs
# every test. Prints the test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev >/dev/null
fi
if ! python3 -c 'import standardwebhooks' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check standardwebhooks
fi

swift build --build-tests
swift test --skip-build "$@"
