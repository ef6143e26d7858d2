#!/usr/bin/env bash
# Runs BankHooks on an embedded SQLite file (./bankhooks.sqlite), listening on 127.0.0.1:8080.
# Installs the SQLite headers if they are missing. Extra arguments go to `bankhooks serve`.
# --allow-destination 127.0.0.1/32 lets it deliver to receivers on this machine (the local
# emulator use); leave it out in production, where only public addresses are allowed.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! dpkg -s libsqlite3-dev >/dev/null 2>&1; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev >/dev/null
fi
exec swift run bankhooks serve --allow-destination 127.0.0.1/32 "$@"
