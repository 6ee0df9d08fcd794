#!/usr/bin/env bash
# The test command (`npm test`): bootstrap, point the server-backed suites at the local
# PostgreSQL and MariaDB when they answer, run every vitest project, and end with the line
# `N passed, N failed, N skipped` read from vitest's JSON report (test-results/vitest.json).
#
# POSTGRES_URL / MYSQL_URL / MONGODB_URL that are already set are used as they are; suites whose
# URL stays unset skip with a warning. MONGODB_URL is not decided here: without it the MongoDB
# projects (`mongodb`, `express-mongodb`) each start a FerretDB of their own from the binary
# bootstrap built, in a vitest globalSetup (packages/mongodb/test/support/global-setup.ts), and
# stop it when vitest ends, so nothing is left running. TOKENS_REQUIRE_SERVERS=1 turns a skipped
# PostgreSQL, MariaDB or MongoDB test into a failure (CI sets it).
#
# Usage: bash scripts/test.sh [vitest args…]   e.g. `npm test -- --project core`
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh

# Answers a query against the URL's database, not just an open port: a database that was not
# created would otherwise make every suite fail instead of skip.
postgres_answers() { command -v psql >/dev/null && psql "$1" -Atqc "SELECT 1" >/dev/null 2>&1; }
mysql_answers() {
  command -v mariadb >/dev/null &&
    mariadb -h 127.0.0.1 -P 3306 -u root tokens_test -e "SELECT 1" >/dev/null 2>&1
}

if [ -z "${POSTGRES_URL:-}" ]; then
  url=postgres://postgres@127.0.0.1:5432/tokens_test
  if postgres_answers "$url"; then export POSTGRES_URL=$url; fi
fi
if [ -z "${MYSQL_URL:-}" ] && mysql_answers; then
  export MYSQL_URL=mysql://root@127.0.0.1:3306/tokens_test
fi

report=test-results/vitest.json
mkdir -p test-results
rm -f "$report"

status=0
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?

summary_status=0
node scripts/test-summary.mjs "$report" || summary_status=$?

# vitest's own verdict wins; the summary can only add a failure (a required server suite skipped).
if [ "$status" != 0 ]; then exit "$status"; fi
exit "$summary_status"
