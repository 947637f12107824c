#!/usr/bin/env bash
# The main job: build sagactl, validate and draw the example workflows, then run the checkout
# saga on the embedded SQLite store: one order that succeeds, one whose payment is declined
# (compensated in reverse order), one with a flaky inventory service (retried).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== build (release)"
swift build -c release --product sagactl 2>&1 | tail -1
sagactl=.build/release/sagactl
out=$(mktemp -d)
db="$out/demo.sqlite"

echo "== validate"
"$sagactl" validate workflows/*.yaml

echo "== graph"
"$sagactl" graph workflows/order-payment.yaml > "$out/order-payment.dot"
if command -v dot >/dev/null; then dot -Tsvg "$out/order-payment.dot" > "$out/order-payment.svg" && echo "drew $out/order-payment.svg"; fi

run() {
  local label=$1; shift
  echo "== $label"
  set +e
  env "$@" "$sagactl" run workflows/order-payment.yaml --services examples/services-exec.yaml \
    --input @examples/order.json --db "$db" > "$out/id"
  local code=$?
  set -e
  echo "exit status $code"
  "$sagactl" history "$(cat "$out/id")" --db "$db"
}
run "an order that succeeds" SHOP_LOG="$out/calls.log"
run "payment declined: compensated" SHOP_LOG="$out/calls.log" SHOP_FAIL=pay
run "flaky inventory: retried" SHOP_LOG="$out/calls.log" SHOP_FLAKY=reserve

echo "== instances"
"$sagactl" list --db "$db"
echo "files in $out"
