#!/usr/bin/env bash
# Runs BankHooks on an embedded SQLite file (./bankhooks.sqlite), listening on 127.0.0.1:8080.
# Installs the SQLite headers if they are missing. Extra arguments go to `bankhooks serve`.
# --allow-destination 127.0.0.1/32 lets it deliver to receivers on this machine (the local
# emulator use); leave it out in production, where only public addresses are allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_debian_packages libsqlite3-dev
exec swift run bankhooks serve --allow-destination 127.0.0.1/32 "$@"
