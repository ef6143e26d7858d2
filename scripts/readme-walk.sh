#!/usr/bin/env bash
# Runs the README's API walk (the sh block after `<!-- readme-walk -->`) exactly as written
# against a fresh `bankhooks serve` and the README's receiver (scripts/receiver.py). Only the
# ports (8080, 9000) and the operator key are filled in. Exits non-zero when any command fails,
# or when the walk did not show what the README says it shows.
#   scripts/readme-walk.sh [BINARY [DATABASE [SERVE-ARGUMENT...]]]
# BINARY defaults to .build/debug/bankhooks, DATABASE to an SQLite file in a temporary folder (a
# postgres:// URL runs the walk on PostgreSQL; give it `--master-key-file FILE` after it).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/bankhooks}
work=$(mktemp -d)
database=${2:-$work/walk.sqlite}
serve_arguments=("${@:3}")
pids=()
# SIGKILL: a parent (a test runner) may have left SIGTERM blocked in what it starts.
cleanup() { exec 2>/dev/null; for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
receiver_port=$(free_port)

"$binary" serve --database "$database" --port "$port" --allow-destination 127.0.0.1/32 --log-level warning "${serve_arguments[@]}" > "$work/serve.out" 2>&1 &
pids+=($!)
python3 scripts/receiver.py "$receiver_port" > "$work/receiver.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
key=$(sed -n 's/^Bootstrap operator key (shown once, keep it): //p' "$work/serve.out")
[ -n "$key" ] || { echo "no operator key printed:"; cat "$work/serve.out"; exit 1; }

# The block, as written, with the ports and the key filled in.
awk '/<!-- readme-walk -->/ { on = 1; next } on && /^```sh/ { inside = 1; next } inside && /^```/ { exit } inside' README.md \
  | sed -e "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" -e "s/127\.0\.0\.1:9000/127.0.0.1:$receiver_port/g" \
        -e "s/^KEY=bhk_\.\.\..*/KEY=$key/" > "$work/walk.sh"
[ -s "$work/walk.sh" ] || { echo "README has no readme-walk block"; exit 1; }

status=0
timeout 120 bash -euo pipefail "$work/walk.sh" > "$work/walk.out" 2>&1 || status=$?
cat "$work/walk.out"
if [ "$status" != 0 ]; then
  echo "README walk FAILED (exit $status); server output:"; cat "$work/serve.out"; exit 1
fi
# What the walk must have shown.
expect() { grep -q -- "$2" "$1" || { echo "README walk: expected '$2' in $1"; cat "$1"; exit 1; }; }
expect "$work/walk.out" 'developer creating a webhook: 403'
expect "$work/walk.out" 'viewer publishing: 403'
expect "$work/walk.out" '"request_headers":{'
expect "$work/walk.out" '"succeeded":true'
expect "$work/walk.out" '"previous_secret_expires_at":"'
expect "$work/receiver.out" 'X-Tenant: acme'
expect "$work/receiver.out" '"type":"payment.updated"'
expect "$work/receiver.out" '"type":"webhook.test"'
echo "README walk: OK"
