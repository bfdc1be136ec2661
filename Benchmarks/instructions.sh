#!/usr/bin/env bash
# Instructions executed by whole processes on the reference workload, counted
# by valgrind's callgrind: the same number on every run, where this VM's
# timings swing by 30% or more (Benchmarks/README.md). Use it to compare two
# versions of the code; the time targets are still measured as time.
#
# Usage: bash Benchmarks/instructions.sh [HOURS]   (default 6; the day takes
# about a minute per tool under valgrind)
#
# Like heap.sh, it builds the release tools with a dynamic libc into
# .build-heap, since valgrind cannot follow a static libc.
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:-6}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SOCKSTAT_DYNAMIC_LIBC=1 swift build -c release --static-swift-stdlib --build-path .build-heap \
    >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
# valgrind cannot read the debug information of an unstripped Swift binary;
# the symbols stay, for callgrind_annotate.
for tool in sockstat-record sockstat-convert; do
    strip --strip-debug -o "$work/$tool" ".build-heap/release/$tool"
done
python3 "${WORKLOAD:-../shared/workload/workload.py}" --hours "$hours" --seed 1 >"$work/in.jsonl" 2>/dev/null
events=$(wc -l <"$work/in.jsonl")
"$work/sockstat-convert" encode -i "$work/in.jsonl" -o "$work/segments" 2>/dev/null

count() {  # NAME COMMAND...: instructions of one run
    local name=$1 key=${1// /-}
    shift
    valgrind --tool=callgrind --callgrind-out-file="$work/$key.callgrind" "$@" >/dev/null 2>"$work/$key.log"
    local total
    total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$key.log")
    python3 -c "import sys; t, e = int(sys.argv[2]), int(sys.argv[3]); print('| %s | {:,} | {:,.0f} |'.format(t, t / e) % sys.argv[1])" "$name" "$total" "$events"
}

echo "$hours h of the reference workload, $events events"
echo
echo "| run | instructions | per event |"
echo "|---|---|---|"
count "sockstat-record --replay" "$work/sockstat-record" --dir "$work/replay" --replay "$work/in.jsonl" \
    --max-total-bytes $((1 << 30))
count "sockstat-convert encode" "$work/sockstat-convert" encode -i "$work/in.jsonl" -o "$work/encoded"
count "sockstat-convert decode" "$work/sockstat-convert" "$work/segments"
count "sockstat-convert decode --format csv" "$work/sockstat-convert" decode --format csv "$work/segments"
count "sockstat-convert decode --resolution 1s" "$work/sockstat-convert" decode --resolution 1s "$work/segments"
if [ -n "${KEEP:-}" ]; then
    mkdir -p "$KEEP" && cp "$work"/*.callgrind "$KEEP"/
    echo
    echo "callgrind profiles in $KEEP (callgrind_annotate FILE)"
fi
