#!/usr/bin/env bash
# Fuzzes the workflow front end and the expression language with libFuzzer (DESIGN §9).
#
#   scripts/fuzz.sh [seconds] [target...]     # default: 60 seconds for each of: workflow expression
#
# How it is built (SwiftPM cannot link a libFuzzer entry point into a package target, so the
# script compiles by hand, which works with the Swift 6.3 toolchain on Linux):
#   1. libyaml (Yams' CYaml sources, fetched by `swift package resolve`) is compiled with the
#      toolchain's clang and `-fsanitize=fuzzer-no-link,address`, so libFuzzer sees coverage
#      inside libyaml too;
#   2. each target is one `swiftc -sanitize=fuzzer,address -parse-as-library` invocation over
#      every file of Sources/StateLang, Fuzz/Support and the target's main.swift, as one module
#      (the harness may use internal API), linked with those objects. `-O` for speed; overflow
#      and bounds checks stay on. `-package-name` as SwiftPM passes it, for `package` access.
# Binaries are rebuilt only when a source is newer. Everything goes to $FUZZ_OUT
# (default .build/fuzz): binaries, the growing corpus per target (kept between runs), the logs,
# and the reproducers of crashes (`artifacts/<target>-crash-…`, `-timeout-…`, `-oom-…`).
#
# Seeds: workflows/, Tests/StateLangTests/Fixtures/ and ../shared/corpus/seata for the
# workflow target; Fuzz/ExpressionFuzzer/seeds/ plus every `$…` string and `Expression` value
# found in those files for the expression target.
#
# Exits non-zero when a target crashes, hangs (-timeout=10 per input) or runs out of memory,
# and prints the reproducer's path. Replay one with `.build/fuzz/<target>-fuzzer FILE`; then
# commit it under Tests/StateLangTests/Fixtures/fuzz/ (FuzzRegressionTests loads every file
# there) and fix the code.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(workflow expression)
case "$seconds" in *[!0-9]*|'') echo "usage: scripts/fuzz.sh [seconds] [workflow|expression...]" >&2; exit 64 ;; esac

out=${FUZZ_OUT:-$root/.build/fuzz}
mkdir -p "$out/obj" "$out/artifacts" "$out/logs"

toolchain_bin=$(dirname "$(command -v swiftc)")
clang=$toolchain_bin/clang
[ -x "$clang" ] || clang=$(command -v clang)

yams=$root/.build/checkouts/Yams/Sources/CYaml
if [ ! -d "$yams" ]; then
  echo "== fetching Yams (swift package resolve)"
  swift package resolve >/dev/null
fi

# Is $1 older than any file under the following paths?
stale() {
  local target=$1; shift
  [ ! -e "$target" ] && return 0
  [ -n "$(find "$@" -newer "$target" -type f -print -quit)" ]
}

echo "== building libyaml with coverage"
objects=()
for c in "$yams"/src/*.c; do
  o="$out/obj/$(basename "${c%.c}").o"
  if stale "$o" "$c" "$yams/include" "$yams/src/yaml_private.h"; then
    "$clang" -c -O1 -g -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I "$yams/include" "$c" -o "$o"
  fi
  objects+=("$o")
done

build() {
  local name=$1 dir=$2
  local binary="$out/$name-fuzzer"
  if stale "$binary" Sources/StateLang Fuzz/Support "$dir" "${objects[@]}"; then
    echo "== building $name-fuzzer"
    mapfile -t sources < <(find Sources/StateLang Fuzz/Support -name '*.swift' | sort)
    swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -package-name sagactl -O -g \
      -module-name StateLang -I "$yams/include" \
      "${sources[@]}" "$dir/main.swift" "${objects[@]}" -o "$binary" 2> "$out/logs/$name-build.log" \
      || { cat "$out/logs/$name-build.log" >&2; exit 1; }
  fi
}

# Seeds go to a directory of their own; libFuzzer writes what it finds to the first corpus
# directory only, so the sources are never touched.
seed_workflows() {
  local seeds=$1
  rm -rf "$seeds" && mkdir -p "$seeds"
  local n=0
  while IFS= read -r -d '' file; do
    n=$((n + 1))
    cp "$file" "$seeds/$n-$(basename "$file")"
  done < <(find workflows Tests/StateLangTests/Fixtures ../shared/corpus/seata -type f \
             \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) -print0 2>/dev/null)
  echo "$n"
}

seed_expressions() {
  local seeds=$1
  rm -rf "$seeds" && mkdir -p "$seeds"
  cp Fuzz/ExpressionFuzzer/seeds/* "$seeds/"
  # `"$.[a]"`, `'$Exception{X}'`, `Expression: "[a] > 1"` and JSON keys of Status maps.
  { find workflows Tests/StateLangTests/Fixtures ../shared/corpus/seata -type f \
      \( -name '*.yaml' -o -name '*.json' \) -print0 2>/dev/null \
      | xargs -0 grep -ohE '"\$[^"]{1,200}"|"[^"$]{1,200}"[[:space:]]*:[[:space:]]*"(SU|FA|UN)"|Expression"?:[[:space:]]*"[^"]{1,200}"' || true
  } | sed -E 's/^Expression"?:[[:space:]]*//; s/^"//; s/"[[:space:]]*:[[:space:]]*"(SU|FA|UN)"$//; s/"$//' \
    | sort -u | while IFS= read -r expression; do
        printf '%s' "$expression" > "$seeds/x-$(printf '%s' "$expression" | cksum | cut -d' ' -f1)"
      done
  ls "$seeds" | wc -l
}

status=0
for target in "${targets[@]}"; do
  case "$target" in
    workflow) dir=Fuzz/WorkflowFuzzer; dict=$dir/workflow.dict; max_len=16384 ;;
    expression) dir=Fuzz/ExpressionFuzzer; dict=$dir/expression.dict; max_len=1024 ;;
    *) echo "unknown target '$target' (workflow, expression)" >&2; exit 64 ;;
  esac
  build "$target" "$dir"
  corpus="$out/corpus/$target"
  seeds="$out/seeds/$target"
  mkdir -p "$corpus"
  if [ "$target" = workflow ]; then count=$(seed_workflows "$seeds"); else count=$(seed_expressions "$seeds"); fi
  echo "== fuzzing $target for ${seconds} s ($count seeds, corpus $corpus)"
  log="$out/logs/$target.log"
  set +e
  # Leak detection is off: the Swift runtime's metadata caches look like leaks to LeakSanitizer.
  # Swift's own backtracer is off: under ASan it trips over itself and hides the real report.
  ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no \
    "$out/$target-fuzzer" "$corpus" "$seeds" -dict="$dict" -max_len=$max_len -timeout=10 \
      -rss_limit_mb=4096 -max_total_time="$seconds" -detect_leaks=0 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$target-" > "$log" 2>&1
  code=$?
  set -e
  grep -E '^stat::number_of_executed_units|^stat::average_exec_per_sec|^stat::peak_rss_mb' "$log" \
    | sed "s/^/   $target /" || true
  if [ $code -ne 0 ]; then
    status=1
    echo "!! $target fuzzer failed (exit $code); the last lines of $log:" >&2
    grep -E 'ERROR|fuzz invariant|Fatal error|SUMMARY|==[0-9]+==' "$log" | head -5 >&2 || true
    reproducer=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | sed 's/Test unit written to //')
    echo "!! reproducer: ${reproducer:-see $log}" >&2
    echo "!! replay: $out/$target-fuzzer ${reproducer:-FILE}" >&2
  fi
done
exit $status
