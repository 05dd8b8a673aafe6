#!/usr/bin/env bash
# Regenerates BENCHMARKS.md and docs/benchmarks.svg: runs every bench, then
# the `report` bench, which collects their results and writes both files:
#
# - overhead: every configuration in FAILFAST_BENCH_PROCESSES separate
#   processes (`overhead -- --processes`, wall time per item);
# - callgrind: instructions per item of the single-threaded designs, from
#   `valgrind --tool=callgrind` on the overhead binary's profile mode at two
#   item counts (the difference cancels start-up and warm-up costs);
# - cpu: the sequential loop and every configuration in
#   FAILFAST_BENCH_PROCESSES separate processes (`cpu -- --processes`,
#   FAILFAST_BENCH_CPU_RUNS timed runs each);
# - abort and memory (custom harnesses).
#
# Takes about 5 minutes on 2 cores; each step's full output goes to
# target/failfast-bench/<step>.log.
#
#   scripts/bench.sh
#
# Knobs (environment): FAILFAST_BENCH_ITEMS, FAILFAST_BENCH_PROCESSES,
# FAILFAST_BENCH_PROCESS_ITERS, FAILFAST_BENCH_CPU_RUNS, FAILFAST_BENCH_CALLGRIND_ITEMS,
# FAILFAST_BENCH_ABORT_RUNS, FAILFAST_BENCH_MEMORY_ITEMS (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind jq; do
    command -v "$tool" >/dev/null || {
        echo "scripts/bench.sh needs $tool" >&2
        exit 1
    }
done

# Pin the target directory so the report finds what the benches wrote.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
out="$CARGO_TARGET_DIR/failfast-bench"
mkdir -p "$out/callgrind"

start=$(date +%s)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== build"
cargo bench --all-features --no-run 2>&1 | tail -n 1
overhead=$(cargo bench --all-features --bench overhead --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.executable != null and .target.name == "overhead") | .executable')
# Results older than this are stale: the report refuses them.
since=$(date +%s)

# Runs `cargo bench --bench $1 -- <rest>`, its output to $out/$1.log, and
# prints a summary: the harness's table.
run_bench() {
    local bench=$1 bench_start
    shift
    echo "== $bench"
    bench_start=$(date +%s)
    if ! cargo bench --all-features --bench "$bench" -- "$@" >"$out/$bench.log" 2>&1; then
        tail -n 30 "$out/$bench.log" >&2
        echo "bench $bench failed: see $out/$bench.log" >&2
        exit 1
    fi
    grep -vE '^(Benchmarking|Found|  [0-9]+ \(|Warning|    (Finished|Running))' "$out/$bench.log" |
        grep -E 'time:|^[a-z]' | grep -vE '^(change|thrpt)' || true
    echo "   ($(($(date +%s) - bench_start)) s)"
}

run_bench overhead --processes

echo "== callgrind"
step_start=$(date +%s)
# Two item counts, one measured iteration each after the profile mode's
# warm-up: 2 passes over the items per process.
IFS=, read -r items1 items2 <<<"${FAILFAST_BENCH_CALLGRIND_ITEMS:-10000,30000}"
passes=2
entries=()
: >"$out/callgrind.log"
for group in overhead-trivial overhead-yield; do
    for config in failfast-inline hand-inline try_for_each_concurrent buffer_unordered; do
        ir=()
        for items in "$items1" "$items2"; do
            file="$out/callgrind/$group.$config.$items.out"
            if ! FAILFAST_BENCH_PROFILE="$group/$config" FAILFAST_BENCH_ITEMS=$items FAILFAST_BENCH_PROFILE_ITERS=$((passes - 1)) \
                valgrind --tool=callgrind --callgrind-out-file="$file" "$overhead" >>"$out/callgrind.log" 2>&1; then
                tail -n 30 "$out/callgrind.log" >&2
                echo "callgrind of $group/$config failed: see $out/callgrind.log" >&2
                exit 1
            fi
            ir+=("$(awk '/^totals:/ { print $2 }' "$file")")
        done
        awk -v id="$group/$config" -v a="${ir[0]}" -v b="${ir[1]}" -v n=$(((items2 - items1) * passes)) \
            'BEGIN { printf "%-40s %7.0f instructions per item\n", id, (b - a) / n }'
        entries+=("$(printf '{"group": "%s", "config": "%s", "items": [%s, %s], "passes": %s, "instructions": [%s, %s]}' \
            "$group" "$config" "$items1" "$items2" "$passes" "${ir[0]}" "${ir[1]}")")
    done
done
printf '%s\n' "${entries[@]}" | jq -s . >"$out/callgrind.json"
echo "   ($(($(date +%s) - step_start)) s)"

run_bench cpu --processes
run_bench abort
run_bench memory

echo "== report"
FAILFAST_BENCH_SINCE=$since FAILFAST_BENCH_SECONDS=$(($(date +%s) - start)) FAILFAST_BENCH_DATE=$started \
    FAILFAST_BENCH_LOAD_BEFORE=$load_before FAILFAST_BENCH_LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg) \
    cargo bench --all-features --bench report -- --write 2>&1 | tail -n 1
echo "== done in $(($(date +%s) - start)) s"
