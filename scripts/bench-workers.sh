#!/usr/bin/env bash
# Throughput of 1, 2 and 4 `sagactl` worker processes sharing one PostgreSQL database.
#
#   bash scripts/bench-workers.sh URL [SAGAS] [CONCURRENCY] [WORKER COUNTS...]
#   bash scripts/bench-workers.sh "$(bash scripts/postgres.sh start)" 5000 64 1 2 4
#
# For each worker count W it runs `sagactl bench --workers W` on a fresh schema of the
# database at URL (bench_w<W>_<time>, dropped afterwards with `psql` when it is installed):
# SAGAS sagas of the bench workflow (5 no-op steps) are created first, untimed, then W worker
# processes, CONCURRENCY sagas at a time each, drain them; it prints sagas/s per W.
# Uses the release build in .build-release (build it first:
# swift build -c release --scratch-path .build-release), or $SAGACTL if set.
set -euo pipefail

[ $# -ge 1 ] || { sed -n '2,12p' "$0" >&2; exit 64; }
URL=$1
SAGAS=${2:-5000}
CONCURRENCY=${3:-64}
shift $(( $# < 3 ? $# : 3 ))
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 2 4)
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAGACTL=${SAGACTL:-$ROOT/.build-release/release/sagactl}
[ -x "$SAGACTL" ] || { echo "bench-workers.sh: no sagactl at $SAGACTL; build it or set SAGACTL" >&2; exit 69; }

with_schema() {  # URL with schema=$2 added to its query
  case "$1" in *\?*) echo "$1&schema=$2" ;; *) echo "$1?schema=$2" ;; esac
}

echo "sagactl bench --workers: $SAGAS sagas, $CONCURRENCY at a time per worker, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
for W in "${COUNTS[@]}"; do
  SCHEMA="bench_w${W}_$(date +%s)"
  # The workers get the URL through their environment; this process has it on its command
  # line, so use a throwaway cluster's URL (scripts/postgres.sh), not a production password.
  "$SAGACTL" bench --db "$(with_schema "$URL" "$SCHEMA")" --workers "$W" --sagas "$SAGAS" --concurrency "$CONCURRENCY"
  if command -v psql >/dev/null; then
    PGOPTIONS="-c client_min_messages=warning" psql "${URL%%\?*}" -q -c "DROP SCHEMA $SCHEMA CASCADE" || echo "bench-workers.sh: could not drop schema $SCHEMA" >&2
  else
    echo "bench-workers.sh: psql not found; schema $SCHEMA is left in the database" >&2
  fi
done
