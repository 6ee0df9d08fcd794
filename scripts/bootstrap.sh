#!/usr/bin/env bash
# Idempotent set-up behind `npm test`, `npm run quickstart` and CI: pnpm, dependencies from the
# lockfile, a build of every package, and (unless --no-services) the local PostgreSQL and MariaDB
# the server-backed suites use, the FerretDB binary the MongoDB suites start (built once per
# machine, see scripts/ferretdb.sh), plus Chromium for the browser tests.
#
# Quiet when there is nothing to do; a failing step prints its captured output and stops.
# Exports nothing: scripts/test.sh decides the connection URLs.
#
# Usage: bash scripts/bootstrap.sh [--no-services]
set -euo pipefail

PNPM_VERSION=12.21.0
DATABASE=tokens_test

services=1
for arg in "$@"; do
  case "$arg" in
    --no-services) services=0 ;;
    *) echo "bootstrap: unknown option $arg (usage: bootstrap.sh [--no-services])" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

say() { echo "bootstrap: $*" >&2; }

# Runs a command with its output captured; shows the output only if it fails.
quietly() {
  local label=$1 log
  shift
  log="$log_dir/$(echo "$label" | tr -c 'a-z0-9' '_').log"
  if ! "$@" >"$log" 2>&1; then
    say "$label failed:"
    cat "$log" >&2
    exit 1
  fi
}

is_root() { [ "$(id -u)" = 0 ]; }

# --- pnpm ----------------------------------------------------------------------------------------
if [ "$(pnpm --version 2>/dev/null | tail -n1)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION"
  quietly "npm install -g pnpm@$PNPM_VERSION" npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION"
  hash -r
fi

# --- dependencies and build ----------------------------------------------------------------------
# better-sqlite3 (a test dependency of the SQLite suites) compiles its native addon during the
# install when no prebuilt binary can be downloaded, and node-gyp would then download Node's
# headers as well. Debian's nodejs ships them in /usr/include/node; pointing node-gyp there keeps
# the build offline. Only for the Node installed under /usr, whose headers those are.
if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/node.h ] &&
  [ "$(node -p process.execPath 2>/dev/null)" = /usr/bin/node ]; then
  export npm_config_nodedir=/usr
fi

# The lockfile copy pnpm keeps in node_modules tells a first install from a no-op one.
if ! cmp -s pnpm-lock.yaml node_modules/.pnpm/lock.yaml 2>/dev/null; then
  say "installing dependencies from pnpm-lock.yaml"
fi
quietly "pnpm install --frozen-lockfile" pnpm install --frozen-lockfile --reporter=append-only
# turbo replays cached builds, so a second run costs about a second.
quietly "pnpm build" pnpm exec turbo run build --output-logs=errors-only

[ "$services" = 1 ] || exit 0

# --- PostgreSQL ----------------------------------------------------------------------------------
postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

wait_for() {
  local what=$1 check=$2 i
  for i in $(seq 1 60); do
    if "$check"; then return 0; fi
    sleep 0.5
  done
  say "$what did not come up within 30 s; its server-backed suites will skip"
  return 1
}

if command -v pg_isready >/dev/null && [ -d /etc/postgresql ]; then
  if ! postgres_up; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start \
      >"$log_dir/postgres.log" 2>&1 || cat "$log_dir/postgres.log" >&2
  fi
  if wait_for PostgreSQL postgres_up; then
    psql_admin() { psql -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 -Atq "$@"; }
    if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
      # A concurrent bootstrap may win the race; the database existing is all that matters.
      psql_admin -c "CREATE DATABASE $DATABASE" >/dev/null 2>&1 ||
        [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" = 1 ] ||
        say "could not create PostgreSQL database $DATABASE"
    fi
  fi
else
  say "PostgreSQL is not installed; its suites will skip"
fi

# --- MariaDB -------------------------------------------------------------------------------------
mariadb_up() { mariadb-admin --protocol=socket -uroot ping >/dev/null 2>&1; }

if [ -x /usr/sbin/mariadbd ] && command -v mariadb-admin >/dev/null; then
  if ! mariadb_up; then
    say "starting MariaDB"
    if is_root && [ ! -d /run/mysqld ]; then install -d -o mysql -g mysql /run/mysqld; fi
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd \
      >"$log_dir/mariadb.log" 2>&1 || cat "$log_dir/mariadb.log" >&2
  fi
  if wait_for MariaDB mariadb_up; then
    mariadb --protocol=socket -uroot -e "CREATE DATABASE IF NOT EXISTS $DATABASE" ||
      say "could not create MariaDB database $DATABASE"
  fi
else
  say "MariaDB is not installed; its suites will skip"
fi

# --- FerretDB (MongoDB suites) --------------------------------------------------------------------
# Only the binary: the vitest projects that need a MongoDB server start their own FerretDB from it
# (and stop it) unless MONGODB_URL names a server. Cached per machine; the first build takes a few
# minutes, later ones return at once.
if ! bash scripts/ferretdb.sh path >/dev/null 2>&1; then
  say "building FerretDB from the Go module proxy (once per machine)"
  if ! bash scripts/ferretdb.sh build >"$log_dir/ferretdb.log" 2>&1; then
    cat "$log_dir/ferretdb.log" >&2
    say "FerretDB build failed; the MongoDB suites will skip unless MONGODB_URL is set"
  fi
fi

# --- Chromium (browser tests of @tokens/client) --------------------------------------------------
if ! command -v chromium >/dev/null; then
  if is_root && command -v apt-get >/dev/null; then
    say "installing Debian chromium"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq chromium >"$log_dir/apt.log" 2>&1; then
      # A fresh machine has no package lists yet.
      apt-get update -qq >>"$log_dir/apt.log" 2>&1 || true
      apt-get install -y -qq chromium >>"$log_dir/apt.log" 2>&1 ||
        { cat "$log_dir/apt.log" >&2; say "chromium install failed; browser tests will skip"; }
    fi
  else
    say "chromium is missing (install Debian's chromium package); browser tests will skip"
  fi
fi
