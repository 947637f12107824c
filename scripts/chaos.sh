#!/usr/bin/env bash
# The chaos run: N order-payment sagas against the demo shop with random faults, run by
# `sagactl worker` processes that are SIGKILLed K times at random moments and restarted, then
# the whole fleet is killed and `sagactl recover` finishes what is left. Judged by
# `sagactl demo check --require-settled`: every instance terminal (succeeded, compensated,
# failed, or needs-intervention with a reason), the shop's consistency checker passes, no side
# effect applied twice. Exits non-zero on any violation and keeps its work directory then.
#
#   scripts/chaos.sh [N] [K]            N sagas (default 300), K kills (default 5)
#
# Environment (all optional):
#   CHAOS_SEED=S          seed of the orders, the faults, the outages and the kill schedule
#                         (printed; the same seed replays the same decisions, not the same timing)
#   CHAOS_WORKERS=3       worker processes          CHAOS_CONCURRENCY=32  instances per worker
#   CHAOS_FAULT_RATE=0.06 share of calls to inventory, orders, payments, points that fail
#   CHAOS_OUTAGE_EVERY=4s mean time between outages (a service refusing connections)
#   CHAOS_TIMEOUT=S       give up after S seconds (default 600 + N/5)
#   CHAOS_DIR=DIR         work directory (default: a new one under $TMPDIR); kept on failure
#   CHAOS_DB=URL          run on PostgreSQL (postgres://…, e.g. `bash scripts/postgres.sh url`)
#                         instead of an SQLite file: in a new schema of that database, dropped
#                         after a success when psql is installed, kept on failure
#   CHAOS_KEEP=1          keep the work directory after a success too
#   SAGACTL=PATH          a built sagactl (default: `swift build --product sagactl` here)
# The last line of output is `chaos-result {JSON}` with every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C

N=${1:-${CHAOS_SAGAS:-300}}
K=${2:-${CHAOS_KILLS:-5}}
SEED=${CHAOS_SEED:-$(( $(od -An -N2 -tu2 /dev/urandom) ))}
WORKERS=${CHAOS_WORKERS:-3}
CONCURRENCY=${CHAOS_CONCURRENCY:-32}
RATE=${CHAOS_FAULT_RATE:-0.06}
OUTAGE_EVERY=${CHAOS_OUTAGE_EVERY:-4s}
TIMEOUT=${CHAOS_TIMEOUT:-}
WORKFLOW=workflows/order-payment.yaml

fail() { echo "chaos: FAILED: $*" >&2; exit 1; }
for n in "$N" "$K" "$SEED" "$WORKERS" "$CONCURRENCY" ${TIMEOUT:+"$TIMEOUT"}; do
  [[ "$n" =~ ^[0-9]{1,18}$ ]] ||
    fail "'$n' is not a whole number below 10^18 (N, K, CHAOS_SEED, CHAOS_WORKERS, CHAOS_CONCURRENCY, CHAOS_TIMEOUT)"
done
# Decimal, whatever leading zeros say (bash would read 010 as octal; JSON refuses it).
N=$((10#$N)) K=$((10#$K)) SEED=$((10#$SEED)) WORKERS=$((10#$WORKERS)) CONCURRENCY=$((10#$CONCURRENCY))
TIMEOUT=$(( 10#${TIMEOUT:-$(( 600 + N / 5 ))} ))
# The shop's stock, balances and points grow with N, so that orders keep meeting stock and money
# (about 1 in 10 is still declined on purpose) instead of mostly running out of them.
SCALE=$(( N / 250 + 1 ))
(( N > 0 && WORKERS >= 2 )) || fail "N must be positive and CHAOS_WORKERS at least 2 (a kill needs survivors)"
[[ "$RATE" =~ ^0?\.[0-9]+$|^0$ ]] || fail "CHAOS_FAULT_RATE must be a number in [0, 1), got '$RATE'"
command -v jq >/dev/null || fail "jq is needed to read sagactl's --json output (apt-get install jq)"

if [ -z "${SAGACTL:-}" ]; then
  swift build --product sagactl >&2 || fail "swift build failed"
  SAGACTL="$(swift build --show-bin-path)/sagactl"
fi
[ -x "$SAGACTL" ] || fail "no sagactl at $SAGACTL"

if [ -n "${CHAOS_DIR:-}" ]; then
  W=$CHAOS_DIR
  mkdir -p "$W"
  [ -z "$(ls -A "$W")" ] || fail "CHAOS_DIR $W is not empty"
else
  W=$(mktemp -d "${TMPDIR:-/tmp}/sagactl-chaos.XXXXXX")
fi
STORE=sqlite
SCHEMA=
if [ -n "${CHAOS_DB:-}" ]; then
  [[ "$CHAOS_DB" =~ ^postgres(ql)?:// ]] ||
    fail "CHAOS_DB must be a postgres:// URL (without it the run uses an SQLite file in its work directory)"
  [[ "$CHAOS_DB" != *schema=* ]] || fail "CHAOS_DB must not name a schema: each run makes a new one"
  # The checker judges every instance of the database: a schema of its own keeps other runs out.
  SCHEMA=chaos_${SEED}_$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  if [[ "$CHAOS_DB" == *\?* ]]; then DB="$CHAOS_DB&schema=$SCHEMA"; else DB="$CHAOS_DB?schema=$SCHEMA"; fi
  STORE=postgres
else
  DB=$W/sagas.sqlite
fi
export SAGACTL_DB=$DB

SHOP_PID=
declare -a WORKER_PID=()
STOPPED_WORKERS=()
ok=0
cleanup() {
  local pid t
  for pid in "${STOPPED_WORKERS[@]}"; do kill -CONT "$pid" 2>/dev/null || true; done
  for pid in "${WORKER_PID[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$SHOP_PID" ]; then
    kill -TERM "$SHOP_PID" 2>/dev/null || true
    for ((t = 0; t < 300; t++)); do kill -0 "$SHOP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SHOP_PID" 2>/dev/null || true  # it did not stop within 30 s of SIGTERM
  fi
  wait 2>/dev/null || true
  if [ -n "$SCHEMA" ]; then
    if [ "$ok" = 1 ] && [ -z "${CHAOS_KEEP:-}" ] && command -v psql >/dev/null; then
      psql -q "$CHAOS_DB" -c "DROP SCHEMA $SCHEMA CASCADE" >/dev/null 2>&1 ||
        echo "chaos: could not drop schema $SCHEMA (drop it by hand)" >&2
    else
      echo "chaos: PostgreSQL schema kept: $SCHEMA (add schema=$SCHEMA to the URL to look at it)" >&2
    fi
  fi
  if [ "$ok" = 1 ] && [ -z "${CHAOS_KEEP:-}" ]; then
    rm -rf "$W"
  else
    echo "chaos: work directory kept: $W (shop.log, worker-*.err, recover-*.json, check.json, sagas.sqlite unless on PostgreSQL, shop/)" >&2
  fi
}
trap cleanup EXIT
trap 'echo "chaos: interrupted" >&2; exit 130' INT TERM

STARTED=$(date +%s)
DEADLINE=$(( STARTED + TIMEOUT ))
RANDOM=$SEED
echo "chaos: N=$N K=$K seed=$SEED workers=$WORKERS fault-rate=$RATE outage-every=$OUTAGE_EVERY store=$STORE${SCHEMA:+ (schema $SCHEMA)} dir=$W" >&2
echo "chaos: replay with CHAOS_SEED=$SEED${SCHEMA:+ CHAOS_DB=URL} scripts/chaos.sh $N $K" >&2

# --- the shop: five services on free loopback ports, with faults ------------------------------
# Inventory, orders, payments and points: 5xx, reset, dropped reply after the commit and a held
# reply past the workflow's TimeoutSeconds (5 s) share the rate; every service is slow now and
# then. Notifications get only latency: the outbox gives a message 3 attempts, and the checker
# wants every succeeded order notified. Outages close a service's listener (refused connections).
share=$(awk -v r="$RATE" 'BEGIN { printf "%.4f", r / 4 }')
spec=""
for s in inventory orders payments points; do
  spec+="$s.*:rate=$share,kind=5xx;$s.*:rate=$share,kind=reset;$s.*:rate=$share,kind=drop;"
  spec+="$s.*:rate=$share,kind=timeout,hold=6s;"
done
spec+="*.*:rate=0.2,latency=3ms;*.*:rate=0.01,latency=400ms"
"$SAGACTL" demo serve --directory "$W/shop" --faults "$spec" --seed "$SEED" \
  --outage-every "$OUTAGE_EVERY" --outage-length 700ms --report "$W/faults.json" --scale "$SCALE" \
  >"$W/shop.env" 2>"$W/shop.log" &
SHOP_PID=$!
until [ "$(grep -c '^export [A-Z]*_URL=http://127\.0\.0\.1:[0-9]*$' "$W/shop.env")" = 5 ]; do
  kill -0 "$SHOP_PID" 2>/dev/null || fail "the shop did not start: $(cat "$W/shop.log")"
  (( $(date +%s) < STARTED + 120 )) || fail "the shop did not report its 5 ports within 120 s"
  sleep 0.1
done
# shellcheck disable=SC1091
source "$W/shop.env"
echo "chaos: shop on $INVENTORY_URL $ORDERS_URL $PAYMENTS_URL $POINTS_URL $NOTIFICATIONS_URL" >&2

# --- N sagas, enqueued at once -----------------------------------------------------------------
"$SAGACTL" demo orders --count "$N" --seed "$SEED" --scale "$SCALE" >"$W/orders.ndjson"
"$SAGACTL" start "$WORKFLOW" --inputs "$W/orders.ndjson" >"$W/ids.txt" || fail "sagactl start --inputs failed"
started=$(wc -l <"$W/ids.txt")
[ "$started" -eq "$N" ] || fail "started $started instances, expected $N"

# --- workers, killed K times -------------------------------------------------------------------
start_worker() {  # slot
  "$SAGACTL" worker --concurrency "$CONCURRENCY" >>"$W/worker-$1.err" 2>&1 &
  WORKER_PID[$1]=$!
}
# Instances a worker finished: each worker prints "<id> <status>" when it ends one.
finished() {
  cat "$W"/worker-*.err | grep -cE '^[0-9A-Za-z-]{26} (succeeded|failed|compensated|unknown|needs-intervention)$' || true
}
for ((i = 0; i < WORKERS; i++)); do start_worker "$i"; done

# Kill moments: K random points of progress between 2 % and 90 % of the sagas finished.
mapfile -t thresholds < <(for ((i = 0; i < K; i++)); do echo $(( N * (20 + RANDOM % 881) / 1000 )); done | sort -n)
kills=0
orphaned=0
while (( kills < K )); do
  (( $(date +%s) < DEADLINE )) || fail "timed out after ${TIMEOUT} s with $kills of $K kills done, $(finished) of $N sagas finished"
  for ((i = 0; i < WORKERS; i++)); do
    kill -0 "${WORKER_PID[$i]}" 2>/dev/null || fail "worker $i (pid ${WORKER_PID[$i]}) exited by itself: $(tail -5 "$W/worker-$i.err")"
  done
  if (( $(finished) < thresholds[kills] )); then sleep 0.05; continue; fi
  sleep "0.$(( RANDOM % 10 ))"  # a random moment, not just a multiple of the poll period
  victim=$(( RANDOM % WORKERS ))
  pid=${WORKER_PID[$victim]}
  # Pause the survivors so that the dead worker's instances can be counted before they are
  # taken over (a survivor on this host takes them at once); resume them right after.
  STOPPED_WORKERS=()
  for ((i = 0; i < WORKERS; i++)); do
    if (( i != victim )); then
      kill -STOP "${WORKER_PID[$i]}" || fail "worker $i (pid ${WORKER_PID[$i]}) is gone: $(tail -5 "$W/worker-$i.err")"
      STOPPED_WORKERS+=("${WORKER_PID[$i]}")
    fi
  done
  kill -KILL "$pid" || fail "worker $victim (pid $pid) is gone: $(tail -5 "$W/worker-$victim.err")"
  wait "$pid" 2>/dev/null || true
  held=0
  for status in running compensating; do
    listed=0
    list=$(timeout 60 "$SAGACTL" list --status "$status" --limit 1000000 --json) || listed=$?
    # 124: timeout ended it. A reader waiting on a lock a stopped survivor holds is a bug of
    # the store (reading must not wait for a writer), not of this script.
    [ "$listed" != 124 ] ||
      fail "sagactl list --status $status did not answer within 60 s while the survivors were stopped (SIGSTOP): it waits on a lock one of them holds"
    [ "$listed" = 0 ] || fail "sagactl list --status $status exited $listed while counting the killed worker's instances"
    n=$(jq --arg pid "$pid" '[.[] | select(.lease_owner != null and (.lease_owner | split("/")[1]) == $pid)] | length' <<<"$list") ||
      fail "sagactl list --status $status printed JSON jq could not read while counting the killed worker's instances"
    held=$(( held + n ))
  done
  for p in "${STOPPED_WORKERS[@]}"; do kill -CONT "$p"; done
  STOPPED_WORKERS=()
  kills=$(( kills + 1 ))
  orphaned=$(( orphaned + held ))
  echo "chaos: kill $kills/$K: worker $victim (pid $pid) with $held instances in flight, at $(finished)/$N finished" >&2
  start_worker "$victim"
done

# --- the fleet crashes near the end; recover finishes ------------------------------------------
# The whole fleet dies at a random point between 80 % and 95 % of the sagas finished (after the
# K kills), leaving recover instances in flight, in backoff and not yet started.
fleet_at=$(( N * (800 + RANDOM % 151) / 1000 ))
until (( $(finished) >= fleet_at )); do
  (( $(date +%s) < DEADLINE )) || fail "timed out after ${TIMEOUT} s: $(finished) of $N sagas finished"
  for ((i = 0; i < WORKERS; i++)); do
    kill -0 "${WORKER_PID[$i]}" 2>/dev/null || fail "worker $i (pid ${WORKER_PID[$i]}) exited by itself: $(tail -5 "$W/worker-$i.err")"
  done
  sleep 0.1
done
for ((i = 0; i < WORKERS; i++)); do kill -KILL "${WORKER_PID[$i]}"; wait "${WORKER_PID[$i]}" 2>/dev/null || true; done
WORKER_PID=()
echo "chaos: all workers killed at $(finished)/$N finished; recovering" >&2

recovered=0
resolved=0
round=0
while :; do
  (( $(date +%s) < DEADLINE )) || fail "timed out after ${TIMEOUT} s in recovery"
  round=$(( round + 1 ))
  (( round <= 10 )) || fail "10 rounds of sagactl recover left instances running or messages pending"
  status=0
  # recover waits at most 300 s for instances and messages in a retry backoff.
  timeout 600 "$SAGACTL" recover --json >"$W/recover-$round.json" 2>"$W/recover-$round.err" || status=$?
  [ "$status" = 0 ] || fail "sagactl recover (round $round) exited $status: $(cat "$W/recover-$round.err")"
  recovered=$(( recovered + $(jq '.resumed | length' "$W/recover-$round.json") ))
  resolved=$(( resolved + $(jq '.resolved | length' "$W/recover-$round.json") ))
  live=$(jq '(.counts.running // 0) + (.counts.compensating // 0)' "$W/recover-$round.json")
  pending=$(timeout 60 "$SAGACTL" outbox list --status pending --limit 1000000 --json | jq length) ||
    fail "sagactl outbox list failed"
  echo "chaos: recover round $round: resumed $(jq '.resumed | length' "$W/recover-$round.json"), resolved $(jq '.resolved | length' "$W/recover-$round.json"); $live running, $pending notifications pending" >&2
  (( live == 0 && pending == 0 )) && break
done

# --- judge -------------------------------------------------------------------------------------
kill -TERM "$SHOP_PID"
for ((t = 0; t < 600; t++)); do kill -0 "$SHOP_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SHOP_PID" 2>/dev/null && fail "the shop did not stop within 60 s of SIGTERM"
shop_status=0
wait "$SHOP_PID" || shop_status=$?
SHOP_PID=
[ "$shop_status" = 0 ] || fail "the shop exited $shop_status: $(tail -5 "$W/shop.log")"
[ -s "$W/faults.json" ] || fail "the shop wrote no fault report"

check_status=0
timeout 600 "$SAGACTL" demo check --directory "$W/shop" --require-settled --json >"$W/check.json" 2>"$W/check.err" || check_status=$?
jq -e . "$W/check.json" >/dev/null 2>&1 || fail "sagactl demo check exited $check_status without a report: $(cat "$W/check.err")"
SECONDS_TAKEN=$(( $(date +%s) - STARTED ))

result=$(jq -c -n --slurpfile check "$W/check.json" --slurpfile faults "$W/faults.json" \
  --argjson n "$N" --argjson k "$K" --argjson seed "$SEED" --arg store "$STORE" --argjson orphaned "$orphaned" \
  --argjson recovered "$recovered" --argjson resolved "$resolved" --argjson seconds "$SECONDS_TAKEN" '
  ($check[0]) as $c | ($faults[0]) as $f |
  { sagas: $n, kills: $k, seed: $seed, store: $store, seconds: $seconds,
    statuses: ($c.sagas.statuses | with_entries(select(.value > 0))),
    faults_injected: ($f.serverErrors + $f.timeouts + $f.resets + $f.droppedReplies + $f.delayed + $f.outages),
    faults: $f,
    retries: $c.sagas.retries,
    compensations: ($c.sagas.statuses.compensated + $c.sagas.statuses.failed),
    compensation_steps: $c.sagas.compensation_steps,
    instances_recovered: ($orphaned + $recovered + $resolved),
    taken_over_after_kills: $orphaned, resumed_by_recover: $recovered, unknown_resolved_by_recover: $resolved,
    replayed_requests: $c.checker.statistics.replayedRequests,
    duplicate_deliveries_deduplicated: $c.checker.statistics.duplicateDeliveries,
    needs_intervention: $c.sagas.needs_intervention,
    not_settled: ($c.not_settled | length),
    invariant_violations: ($c.invariant_violations + ($c.not_settled | length)),
    passed: $c.passed }')

jq -r '
  "sagas                  \(.sagas) in \(.seconds) s (seed \(.seed), \(.store))",
  "statuses               \(.statuses | to_entries | map("\(.key) \(.value)") | join(", "))",
  "kills                  \(.kills) SIGKILLs of one worker, then the whole fleet",
  "faults injected        \(.faults_injected): \(.faults.serverErrors) 5xx, \(.faults.timeouts) timeouts, \(.faults.resets) resets, \(.faults.droppedReplies) dropped replies, \(.faults.delayed) slow replies, \(.faults.outages) outages (\(.faults.outageSeconds * 10 | round / 10) s refusing connections) in \(.faults.requests) requests",
  "retries                \(.retries)",
  "compensations          \(.compensations) sagas rolled back (\(.compensation_steps) compensation steps)",
  "instances recovered    \(.instances_recovered): \(.taken_over_after_kills) taken over after kills, \(.resumed_by_recover) resumed and \(.unknown_resolved_by_recover) resolved by recover",
  "requests replayed      \(.replayed_requests) (answered from the idempotency table), \(.duplicate_deliveries_deduplicated) duplicate notifications deduplicated",
  "invariant violations   \(.invariant_violations)"' <<<"$result"
if [ "$check_status" != 0 ] || [ "$(jq -r .passed <<<"$result")" != true ]; then
  jq -r '.not_settled[:20][] | "not settled: \(.)"' "$W/check.json" >&2
  jq -r '.violations[]' "$W/check.json" >&2
  echo "chaos-result $result"
  fail "the run is not consistent (sagactl demo check exited $check_status; details above and in $W/check.json)"
fi
echo "chaos-result $result"
echo "chaos: PASSED" >&2
ok=1
