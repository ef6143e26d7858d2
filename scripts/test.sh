#!/usr/bin/env bash
# Runs the whole BankHooks test suite on a fresh Debian machine: installs what the tests need
# (SQLite headers, Python's `standardwebhooks` for the independent signature check), builds
# the package with its tests and the `bankhooks` binary the process tests start, and runs
# every test. Prints the test runner's summary.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
ensure_debian_packages libsqlite3-dev curl
if ! python3 -c 'import standardwebhooks' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check standardwebhooks
fi

swift build --build-tests
swift test --skip-build "$@"
