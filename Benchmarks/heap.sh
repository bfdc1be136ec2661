#!/usr/bin/env bash
# Heap held by sockstat-record, whole process, measured with valgrind massif:
# a replay of the reference day at max speed, then this host's interfaces
# recorded for DURATION seconds (default 30).
#
# The release tools are fully static executables (Package.swift), and valgrind
# cannot put its allocator in front of a static libc's malloc; so this builds
# them into .build-heap with the Swift runtime static but libc dynamic
# (SOCKSTAT_DYNAMIC_LIBC=1 turns the static-executable flags off). The code
# measured is the same. Usage: bash Benchmarks/heap.sh [HOURS]   (default 24)
set -euo pipefail
cd "$(dirname "$0")/.."
hours=${1:-24}
duration=${DURATION:-30}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
SOCKSTAT_DYNAMIC_LIBC=1 swift build -c release --static-swift-stdlib --build-path .build-heap \
    --product sockstat-record >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
# valgrind cannot read the debug information of an unstripped Swift binary.
strip -o "$work/sockstat-record" .build-heap/release/sockstat-record
python3 "${WORKLOAD:-../shared/workload/workload.py}" --hours "$hours" --seed 1 >"$work/in.jsonl" 2>/dev/null

valgrind --tool=massif --massif-out-file="$work/replay.massif" "$work/sockstat-record" \
    --dir "$work/replay" --replay "$work/in.jsonl" --max-total-bytes $((1 << 30)) 2>/dev/null
valgrind --tool=massif --time-unit=ms --massif-out-file="$work/host.massif" "$work/sockstat-record" \
    --dir "$work/host" --duration "$duration" 2>/dev/null

python3 - "$work/replay.massif" "$work/host.massif" "$hours" "$duration" <<'PY'
import sys

def snapshots(path):
    """(time, heap bytes including allocator overhead) of each massif snapshot."""
    out, time, heap = [], None, 0
    for line in open(path):
        key, _, value = line.strip().partition('=')
        if key == 'time':
            time = int(value)
        elif key == 'mem_heap_B':
            heap = int(value)
        elif key == 'mem_heap_extra_B':
            out.append((time, heap + int(value)))
    return out

replay, host, hours, duration = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
peak = max(h for _, h in snapshots(replay))
# Peak, allocator overhead included, of everything in the process: the
# Swift runtime, swift-log, argument parsing, zlib's inflate state if any.
print('replay of %s h at max speed: peak heap %.0f KB (whole process)' % (hours, peak / 1024))
print('recording this host for %s s: peak heap %.0f KB (whole process)'
      % (duration, max(h for _, h in snapshots(host)) / 1024))
PY
