#!/usr/bin/env bash
# Issue 15's library figures, release builds:
#  1. echo throughput over loopback, 16 KiB writes, with no handler and with
#     ByteCountingHandler (whenQueued, whenWritten) on both ends; the modes
#     take turns in one process, so the ratios compare like with like;
#  2. the recorder's CPU and peak RSS with 10, 100 and 1,000 in-process labels
#     all changing at 10 Hz, against the same counting with no recorder;
#  3. instructions per poll at those label counts (callgrind, two runs
#     subtracted, so start-up cancels out).
# Usage: bash Benchmarks/library-figures.sh
#   (SECONDS_PER_RUN=60, ECHO_MIB=256, ECHO_ROUNDS=9; valgrind for part 3)
set -euo pipefail
cd "$(dirname "$0")"
seconds=${SECONDS_PER_RUN:-60}
swift build -c release --product LibraryFigures >/dev/null
figures=$(swift build -c release --show-bin-path)/LibraryFigures

echo "# echo over loopback, ${ECHO_MIB:-256} MiB per round, ${ECHO_ROUNDS:-9} rounds per mode (medians)"
"$figures" echo "${ECHO_MIB:-256}" "${ECHO_ROUNDS:-9}"

echo "# recorder, labels changing at 10 Hz, ${seconds} s each"
for labels in 10 100 1000; do
    "$figures" recorder timed "$labels" "$seconds" --no-recorder
    "$figures" recorder timed "$labels" "$seconds"
done

if command -v valgrind >/dev/null 2>&1; then
    echo "# instructions per poll (callgrind; 600 polls minus 300 polls, / 300)"
    # valgrind cannot read the unstripped Swift binary's debug info (heap.sh).
    stripped=$(mktemp)
    trap 'rm -f "$stripped" callgrind.out.*' EXIT
    strip -o "$stripped" "$figures"
    instructions() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$stripped" recorder polls "$1" "$2" 2>&1 \
            | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    for labels in 10 100 1000; do
        short=$(instructions "$labels" 300)
        long=$(instructions "$labels" 600)
        echo "labels=$labels instructions_per_poll=$(( (long - short) / 300 ))"
    done
fi
