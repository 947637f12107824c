#!/usr/bin/env bash
# The SQLite floor of a saga at concurrency 1 (see floor.c): the store's statements for a
# 5-step saga replayed from C, alternated with raw single-row commits, on the same disk.
#
# Usage: Benchmarks/sqlite-floor/run.sh [SAGAS] [ROUNDS]   (defaults: 2000 sagas, 5 rounds)
# Needs a C compiler and SQLite's headers (Debian: gcc libsqlite3-dev) and a release build of
# sagactl (swift build -c release --product sagactl), whose store makes the template database.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sagas=${1:-2000}
rounds=${2:-5}
sagactl=${SAGACTL:-$root/.build/release/sagactl}
if [[ ! -x $sagactl ]]; then
  echo "run.sh: no release build at $sagactl; run: swift build -c release --product sagactl (or set SAGACTL)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/floor" "$here/floor.c" -lsqlite3
# A database made by the store, for its schema.
if ! "$sagactl" bench --abandon 1 --stop-at 1 --keep-db "$work/template.sqlite" > "$work/template.log" 2>&1; then
  cat "$work/template.log" >&2
  exit 1
fi
"$work/floor" "$work/template.sqlite" "$work" "$sagas" "$rounds"
