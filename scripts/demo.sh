#!/usr/bin/env bash
# Shows the whole system working in one command: builds BankHooks, then runs `bankhooks demo`,
# which starts the server on an embedded SQLite database in a temporary folder (removed after),
# a local webhook receiver and a local callback page, links a sandbox bank through its consent
# form, exchanges the one-time token, fails a link, makes a payment and prints the timeline.
# Installs the SQLite headers if they are missing. Extra arguments go to `bankhooks demo`
# (--keep-running leaves it up and prints the URLs to open; --help lists the rest).
# BANKHOOKS_BIN=<path> runs that binary instead of building (the test suite does).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${BANKHOOKS_BIN:-}" ]; then
  exec "$BANKHOOKS_BIN" demo "$@"
fi
source scripts/lib.sh
ensure_debian_packages libsqlite3-dev
exec swift run bankhooks demo "$@"
