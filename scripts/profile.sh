#!/usr/bin/env bash
# Profiles one overhead benchmark: CPU time, context switches and migrations
# per item (perf stat), where the time goes (perf record), and instructions
# per item by function (callgrind).
#
#   scripts/profile.sh overhead-trivial/failfast-smol
#   scripts/profile.sh overhead-yield/failfast-inline [perf|callgrind|all]
#
# The ids are the overhead bench's configurations (hand-inline,
# failfast-tokio-main-thread, ...: see benches/common/mod.rs).
#
# The benchmark runs outside criterion (FAILFAST_BENCH_PROFILE, see
# benches/overhead.rs): FAILFAST_BENCH_PROFILE_ITERS iterations (default 20;
# 2 under callgrind) of FAILFAST_BENCH_ITEMS items (default 100,000), after one
# warm-up iteration. Builds with line tables in target/profile, so the normal
# build is left alone; outputs stay there.
set -euo pipefail
cd "$(dirname "$0")/.."
id=${1:?usage: scripts/profile.sh <group/peer> [perf|callgrind|all]}
what=${2:-all}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}/profile"
export CARGO_PROFILE_BENCH_DEBUG=line-tables-only
export FAILFAST_BENCH_PROFILE="$id"
export FAILFAST_BENCH_ITEMS=${FAILFAST_BENCH_ITEMS:-100000}
exe=$(cargo bench --all-features --bench overhead --no-run --message-format=json 2>/dev/null |
    jq -r 'select(.executable != null and .target.name == "overhead") | .executable')
out="$CARGO_TARGET_DIR/${id//\//_}"
iters=${FAILFAST_BENCH_PROFILE_ITERS:-20}
items=$((FAILFAST_BENCH_ITEMS * (iters + 1)))

if [[ $what == perf || $what == all ]]; then
    echo "== $id: perf stat ($items items, warm-up included)"
    FAILFAST_BENCH_PROFILE_ITERS=$iters perf stat -x, -o "$out.stat" \
        -e task-clock,context-switches,cpu-migrations "$exe"
    awk -F, -v items="$items" '$3 ~ /task-clock/ { printf "   CPU time: %.0f ns per item\n", $1 * 1e6 / items }
        $3 ~ /context-switches|cpu-migrations/ { printf "   %s: %.3f per item\n", $3, $1 / items }' "$out.stat"
    echo "== $id: perf record, top symbols by CPU time (self)"
    FAILFAST_BENCH_PROFILE_ITERS=$iters perf record -q -e cpu-clock -g -o "$out.perf" "$exe" >/dev/null
    perf report -i "$out.perf" --no-children --sort symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9]+\.[0-9]+%' | head -n 25
fi
if [[ $what == callgrind || $what == all ]]; then
    citers=${FAILFAST_BENCH_CALLGRIND_ITERS:-2}
    citems=$((FAILFAST_BENCH_ITEMS * (citers + 1)))
    echo "== $id: callgrind, instructions per item ($citems items, warm-up included)"
    FAILFAST_BENCH_PROFILE_ITERS=$citers valgrind --tool=callgrind --callgrind-out-file="$out.callgrind" \
        "$exe" >/dev/null 2>"$out.callgrind.log"
    # callgrind_annotate splits a function by the source files inlined into
    # it; add those parts up per function.
    per_function() {
        callgrind_annotate --auto=no --threshold=100 --inclusive="$1" "$out.callgrind" 2>/dev/null |
            awk -v items="$citems" '
                /PROGRAM TOTALS/ { gsub(",", "", $1); total = $1; next }
                /^ *[0-9,]+ +\(/ {
                    n = $1; gsub(",", "", n)
                    line = $0; sub(/^ *[0-9,]+ +\([^)]*\) +/, "", line)
                    sub(/ \[[^]]*\]$/, "", line)
                    i = index(line, ":"); if (i > 0) line = substr(line, i + 1)
                    cost[line] += n
                }
                END {
                    printf "0\t   total: %.0f instructions per item\n", total / items
                    for (f in cost) printf "1\t   %7.0f  %s\n", cost[f] / items, f
                }' | sort -t "$(printf '\t')" -k1,1n -k2,2nr | cut -f2-
    }
    echo "-- self, top 25"
    per_function no | sed -n '1,26p'
    echo "-- inclusive, failfast's own functions"
    per_function yes | grep -E 'total:|failfast::' | sed -n '1,25p'
fi
