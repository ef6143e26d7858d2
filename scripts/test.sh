#!/usr/bin/env bash
# Runs the whole BankHooks test suite on a fresh Debian machine: installs what the tests need
# (SQLite headers, curl, Python's `standardwebhooks` for the independent signature check and
# schemathesis, PostgreSQL's server for the PostgreSQL backend's tests, Debian's Chromium and its
# driver with Selenium for the dashboard's browser test), builds the package with its tests and
# the `bankhooks` binary the process tests start, starts a throwaway PostgreSQL server (stopped
# and removed on exit), runs every test (printing the runner's summary), then the dashboard in
# Chromium and schemathesis against a live server. Arguments go to `swift test` (and then skip
# the browser test and schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
# chromium and chromium-driver: the dashboard's browser test (scripts/dashboard-browser-test.py).
ensure_debian_packages libsqlite3-dev curl chromium chromium-driver
if ! python3 -c 'import standardwebhooks' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check standardwebhooks
fi
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check selenium
fi

swift build --build-tests

# One throwaway PostgreSQL server for every test process (each test gets a database of its own);
# scripts/postgres.sh installs Debian's postgresql when initdb is missing. fsync off: these are tests.
# 1,000 connections: the suites run in parallel, each test with pools of its own (up to 8 connections
# each, several nodes in a test), and a fresh-clone run once met "too many clients" at 300.
postgres_dir=$(mktemp -d "${TMPDIR:-/tmp}/bankhooks-postgres.XXXXXX")
chmod 755 "$postgres_dir"
stop_postgres() { ./scripts/postgres.sh stop "$postgres_dir" || true; rm -rf "$postgres_dir"; }
trap stop_postgres EXIT
BANKHOOKS_TEST_POSTGRES_URL=$(BANKHOOKS_POSTGRES_OPTIONS="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=1000" \
  ./scripts/postgres.sh start "$postgres_dir")
export BANKHOOKS_TEST_POSTGRES_URL
if [ $# -gt 0 ]; then
  swift test --skip-build "$@"
else
  # The suites that time real deadlines, rates and retries run on their own, after the rest: beside
  # the million-input fuzzers and the live servers of the other suites, 2 cores are too busy for a
  # 1 s deadline to mean 1 s (each runs in parallel within its own group).
  timed='SenderTests|DestinationTests|RateLimitTests|DispatcherTests|DeliveryLogTests|SchedulerTests|SandboxEventRunnerOrderTests|SandboxEventRunnerTests|ServeProcessTests|ChaosTests|ReadinessTests'
  # Several nodes (three serve processes and 10,000 events; takeovers within a 5 s heartbeat
  # deadline) last, alone: they load both cores and time what they measure.
  nodes='MultiNodeTests|PostgresNodeSessionTests'
  swift test --skip-build --skip "$timed|$nodes"
  swift test --skip-build --filter "$timed"
  swift test --skip-build --filter "$nodes"
fi

# The dashboard in real Chromium (Selenium, headless): sign in, create a webhook, copy its secret,
# send a test, rotate, resend, sign out, and a viewer refused; a screenshot of each step in
# .build/dashboard-screenshots.
if [ $# -eq 0 ]; then
  python3 scripts/dashboard-browser-test.py --binary .build/debug/bankhooks --screenshots .build/dashboard-screenshots
fi

# Every operation of the OpenAPI document fuzzed against a live server: no 5xx, and no answer
# the document does not describe. A fixed seed keeps CI reproducible (SEED=... to explore).
if [ $# -eq 0 ]; then
  SEED=${SEED:-20261124} ./scripts/schemathesis.sh .build/debug/bankhooks
fi
