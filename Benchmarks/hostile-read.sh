#!/usr/bin/env bash
# Time to decode hostile segments against real logs of the same size
# (Spec/FORMAT.md section 10.1, "Time"): a file of forged frame headers, each
# with a header check that holds and a length reaching the end of the file,
# made every candidate frame cost a CRC of the rest of the file before issue
# 13. Reading must stay linear in the input, whatever the input.
#
# Usage: RUNS=5 CORE=1 bash Benchmarks/hostile-read.sh [MiB ...]   (default 1 4 16)
#
# The real log of N MiB is the first N MiB of the reference workload encoded
# into one large segment (its cut end reads as a torn tail); the hostile
# files reuse its 40-byte header. Each figure is the best of RUNS runs of
# `sockstat-convert decode` to /dev/null, whole process.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-5}
core=${CORE:-1}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 4 16)
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT; echo "work: $work" >&2
swift build -c release --product sockstat-convert >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
convert=.build/release/sockstat-convert
largest=0
for size in "${sizes[@]}"; do (( size > largest )) && largest=$size; done
# About 4.9 MB per day of the workload: enough days for the largest size.
hours=$(( (largest * 1048576 / 4800000 + 1) * 24 ))
python3 "${WORKLOAD:-../shared/workload/workload.py}" --hours "$hours" --seed 1 >"$work/in.jsonl" 2>/dev/null
"$convert" encode -i "$work/in.jsonl" -o "$work/real" --max-segment-bytes 33554432 2>/dev/null
segment=$(ls "$work"/real/*.sslog)

python3 - "$segment" "$work" "${sizes[@]}" <<'EOF'
import struct, sys, zlib
segment, work, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
real = open(segment, "rb").read()
header = real[:40]
marker = bytes([0xB5, 0x0C, 0x4B, 0x1D])
def forged(length):  # a frame header whose check holds, stored CRC 0
    head = marker + struct.pack("<I", length) + bytes(4)
    return head + struct.pack("<I", zlib.crc32(head))
for mib in sizes:
    size = mib << 20
    assert len(real) >= size, "workload too short"
    open(f"{work}/real-{mib}.sslog", "wb").write(real[:size])
    body = bytearray(header)
    while len(body) + 16 <= size:
        body += forged(size - len(body) - 16)
    body += bytes(size - len(body))
    open(f"{work}/rest-{mib}.sslog", "wb").write(body)
    body = bytearray(header)
    while len(body) < size // 2:
        body += forged(size // 2 - 16)
    body += bytes(size - len(body))
    open(f"{work}/half-{mib}.sslog", "wb").write(body)
    body = bytearray(header)
    while len(body) < size:
        body += marker
    open(f"{work}/markers-{mib}.sslog", "wb").write(bytes(body[:size]))
EOF

best() {  # FILE: the best wall time of RUNS decodes, in seconds
    python3 - "$runs" "$core" "$convert" "$1" <<'EOF'
import subprocess, sys, time
runs, core, convert, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
best = float("inf")
for _ in range(runs):
    start = time.perf_counter()
    subprocess.run(["taskset", "-c", core, convert, "decode", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    best = min(best, time.perf_counter() - start)
print(f"{best:.3f}")
EOF
}

echo "| size | real log | forged headers claiming the rest | claiming half, then zeros | nothing but markers |"
echo "|---|---|---|---|---|"
for mib in "${sizes[@]}"; do
    real=$(best "$work/real-$mib.sslog")
    row="| $mib MiB | $real s"
    for kind in rest half markers; do
        t=$(best "$work/$kind-$mib.sslog")
        row+=" | $t s ($(python3 -c "print(f'{$t / $real:.2f}x')"))"
    done
    echo "$row |"
done
