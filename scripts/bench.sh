#!/usr/bin/env bash
# Regenerates BENCHMARKS.md and docs/benchmarks.svg: runs every bench
# (criterion's `overhead` and `cpu`, the custom `abort` and `memory`
# harnesses), then the `report` bench, which collects their results and
# writes both files. Takes a few minutes; each bench's full output goes to
# target/failfast-bench/<bench>.log.
#
#   scripts/bench.sh
#
# Knobs (environment): FAILFAST_BENCH_ITEMS, FAILFAST_BENCH_ABORT_RUNS,
# FAILFAST_BENCH_MEMORY_ITEMS (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."

# Pin the target directory so the report finds what the benches wrote.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
out="$CARGO_TARGET_DIR/failfast-bench"
mkdir -p "$out"

start=$(date +%s)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== build"
cargo bench --all-features --no-run 2>&1 | tail -n 1
# Results older than this are stale: the report refuses them.
since=$(date +%s)
for bench in overhead cpu abort memory; do
    echo "== $bench"
    bench_start=$(date +%s)
    if ! cargo bench --all-features --bench "$bench" >"$out/$bench.log" 2>&1; then
        tail -n 30 "$out/$bench.log" >&2
        echo "bench $bench failed: see $out/$bench.log" >&2
        exit 1
    fi
    # A summary: criterion's medians, or the harness's table.
    grep -vE '^(Benchmarking|Found|  [0-9]+ \(|Warning|    (Finished|Running))' "$out/$bench.log" |
        grep -E 'time:|^[a-z]' | grep -vE '^(change|thrpt)' || true
    echo "   ($(($(date +%s) - bench_start)) s)"
done
echo "== report"
FAILFAST_BENCH_SINCE=$since FAILFAST_BENCH_SECONDS=$(($(date +%s) - start)) FAILFAST_BENCH_DATE=$started \
    FAILFAST_BENCH_LOAD_BEFORE=$load_before FAILFAST_BENCH_LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg) \
    cargo bench --all-features --bench report -- --write 2>&1 | tail -n 1
echo "== done in $(($(date +%s) - start)) s"
