#!/usr/bin/env bash
# FerretDB, the MongoDB wire-protocol server the MongoDB suites run against where no MongoDB is
# given (MONGODB_URL unset). Built from the Go module proxy once per machine and kept in a cache
# outside the work tree, so clones and work trees of the project share one binary.
#
#   bash scripts/ferretdb.sh build        builds it unless cached (quiet; bootstrap.sh calls this)
#   bash scripts/ferretdb.sh path         prints the cached binary's path; exit 1 if not built
#   bash scripts/ferretdb.sh serve [DIR]  runs it in the foreground on 127.0.0.1:27017
#                                         (FERRETDB_PORT to change), SQLite data in DIR
#                                         (default: node_modules/.cache/ferretdb/data)
#
# Where the server runs during the tests: nowhere by default. Each vitest project that needs one
# (`mongodb`, `express-mongodb`) starts its own from the cached binary in a vitest globalSetup
# (packages/mongodb/test/support/global-setup.ts), on a free loopback port with its SQLite data
# in a temporary folder, and stops it when the run ends. So `npm test`, `.ci/run` and a plain
# `pnpm exec vitest run --project mongodb` all work, nothing is left running, and parallel runs
# never share a server. A MONGODB_URL that is set (a real MongoDB) is used instead.
#
# Cache: ${TOKENS_CACHE:-${XDG_CACHE_HOME:-~/.cache}/tokens}/ferretdb/ holds the binary
# (ferretdb-<version>) and the Go module and build caches it was built from (GOPATH, GOCACHE).
# A cold build takes a few minutes on 2 cores; a cached one returns at once.
#
# Why not `go install …/cmd/ferretdb@version`: it installs, but the binary panics at start, since
# FerretDB embeds its version from build/version/version.txt, a file its release process
# generates and the module does not contain. So the module is downloaded (`go mod download`),
# copied out of the read-only module cache, given that file, and built there.
set -euo pipefail

FERRETDB_VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB

cache=${TOKENS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokens}/ferretdb
binary=$cache/ferretdb-$FERRETDB_VERSION

say() { echo "ferretdb: $*" >&2; }

find_go() {
  if command -v go >/dev/null; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

build() {
  [ -x "$binary" ] && return 0
  local go
  if ! go=$(find_go); then
    say "Go is not installed: cannot build FerretDB $FERRETDB_VERSION"
    return 1
  fi
  mkdir -p "$cache"
  # One build at a time on the machine: a concurrent bootstrap waits, then finds the binary.
  exec 9>"$cache/.lock"
  flock 9
  [ -x "$binary" ] && return 0

  export GOPATH=$cache/go GOMODCACHE=$cache/go/pkg/mod GOCACHE=$cache/go-build
  # The toolchain at hand, never a download of another; -modcacherw keeps the cache removable.
  export GOTOOLCHAIN=local GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0
  local dir
  work=$(mktemp -d "$cache/build.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && "$go" mod download -json "$MODULE@$FERRETDB_VERSION") >"$work/module.json"
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$work/module.json")
  [ -d "$dir" ] || { say "go mod download gave no module directory"; return 1; }
  cp -R "$dir" "$work/src"
  chmod -R u+w "$work/src"
  echo "$FERRETDB_VERSION" >"$work/src/build/version/version.txt"
  (cd "$work/src" && "$go" build -trimpath -ldflags="-s -w" -o "$work/ferretdb" ./cmd/ferretdb)
  "$work/ferretdb" --version | grep -qx "version: $FERRETDB_VERSION"
  mv "$work/ferretdb" "$binary"
}

case "${1:-}" in
  build) build ;;
  path)
    [ -x "$binary" ] || { say "not built yet (bash scripts/bootstrap.sh builds it)"; exit 1; }
    echo "$binary"
    ;;
  serve)
    build
    data=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/node_modules/.cache/ferretdb/data}
    mkdir -p "$data"
    port=${FERRETDB_PORT:-27017}
    say "serving on mongodb://127.0.0.1:$port (SQLite data in $data); Ctrl-C stops it"
    exec "$binary" --handler=sqlite --sqlite-url="file:$data/" --state-dir="$data" \
      --listen-addr="127.0.0.1:$port" --debug-addr=- --telemetry=disable --log-level=warn
    ;;
  *)
    echo "usage: bash scripts/ferretdb.sh build | path | serve [DIR]" >&2
    exit 2
    ;;
esac
