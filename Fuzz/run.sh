#!/usr/bin/env bash
# Builds the libFuzzer targets with address sanitizer, seeds their corpora
# from Fixtures/, the reference workload and Fuzz/seeds/, and fuzzes each
# target in turn. See Fuzz/README.md.
#
# Usage: Fuzz/run.sh [--seconds N] [--runs N] [--cpu N] [--no-build] [TARGET...]
#   TARGET       segment-reader, json-lines (default: both, one after the other)
#   --seconds N  fuzzing time per target (default 600; -max_total_time)
#   --runs N     stop each target after N executions instead (-runs)
#   --cpu N      core the build and the fuzzers are pinned to (default 0)
#   --no-build   reuse the last build
# Each input may take at most 1 s (-timeout; README "Timeout"): a slower one
# is a finding, kept in crashes/ like a crash.
# Environment: FUZZ_SCRATCH, the build directory (default /tmp/fuzz-build);
# FUZZ_WORKLOAD, the reference workload generator (default
# ../shared/workload/workload.py beside the repository).
#
# Working corpora grow in Fuzz/corpus-work/<target>/ (gitignored) and are kept
# between runs, with each run's log as Fuzz/corpus-work/<target>.log. Inputs
# that crash, trip a check, time out or run out of memory are written to
# Fuzz/crashes/<target>/, which FuzzRegressionTests replays in `swift test`.
# Exit status: 0 when no target found anything, 1 otherwise.
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
seconds=600
runs=
cpu=0
build=1
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --cpu) cpu="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        segment-reader|json-lines) targets+=("$1"); shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(segment-reader json-lines)
scratch="${FUZZ_SCRATCH:-/tmp/fuzz-build}"
coverage=edge,inline-8bit-counters,pc-table
pin=(taskset -c "$cpu")

if [ "$build" = 1 ]; then
    echo "run.sh: building in $scratch (fuzzer + address sanitizer, pinned to CPU $cpu)"
    # SwiftPM hands swiftc `-sanitize=fuzzer -sanitize=address` as two options,
    # and swiftc 6.3 keeps only the last for compiling: no coverage counters.
    # The combined option, passed last, instruments every module.
    # -sanitize-coverage without trace-cmp: edge counters only, no call at
    # every comparison (half of each run; README "Speed"). FUZZ_HARNESS_COVERAGE
    # gives the checks the same (Package.swift).
    # SwiftPM does not rebuild the dependencies when these flags change, so a
    # scratch directory built with other flags is started afresh.
    flags="fuzzer,address $coverage FUZZING"
    if [ -d "$scratch" ] && [ "$(cat "$scratch/.run-sh-flags" 2>/dev/null)" != "$flags" ]; then
        echo "run.sh: $scratch was built with other flags; building afresh"
        rm -rf "$scratch"
    fi
    (cd "$fuzz_dir" && FUZZ_HARNESS_COVERAGE="$coverage" "${pin[@]}" swift build -c release \
        --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address \
        -Xswiftc -sanitize-coverage="$coverage" -Xswiftc -DFUZZING --scratch-path "$scratch")
    echo "$flags" > "$scratch/.run-sh-flags"
fi
bin="$scratch/release"

# Seeds are copied in on every run (same name, same bytes: nothing grows).
seed_segment_reader() {
    local corpus="$1" file name
    cp "$fuzz_dir"/seeds/segment-reader/* "$corpus"/ 2>/dev/null || true
    while IFS= read -r file; do
        name="${file#"$root"/Fixtures/}"
        cp "$file" "$corpus/fixture-${name//\//-}"
    done < <(find "$root/Fixtures" -name '*.sslog' | sort)
    # A directory as one input: the reader cuts it at each magic.
    cat "$root"/Fixtures/several-segments/input/sockstat-0000000000000000000[123].sslog \
        > "$corpus/fixture-several-segments-1-to-3-concatenated"
}

seed_json_lines() {
    local corpus="$1" file name
    cp "$fuzz_dir"/seeds/json-lines/* "$corpus"/ 2>/dev/null || true
    # Every fixture's lines, in 16-line pieces (at most 8 per file).
    while IFS= read -r file; do
        name="${file#"$root"/Fixtures/}"
        head -n 128 "$file" | split -l 16 -d -a 2 - "$corpus/fixture-${name//\//-}-"
    done < <(find "$root/Fixtures" -name '*.jsonl' -size +0 | sort)
    # Three minutes of the reference workload, in 16-line pieces.
    python3 "${FUZZ_WORKLOAD:-$root/../shared/workload/workload.py}" --hours 0.05 --seed 1 2>/dev/null \
        | split -l 16 -d -a 3 - "$corpus/workload-" \
        || echo "run.sh: reference workload not found; seeding without it" >&2
}

found=0
summary=()
for target in "${targets[@]}"; do
    case "$target" in
        segment-reader) binary="$bin/SegmentReaderFuzzer"; max_len=4096 ;;
        json-lines) binary="$bin/JSONLinesFuzzer"; max_len=4096 ;;
    esac
    corpus="$fuzz_dir/corpus-work/$target"
    crashes="$fuzz_dir/crashes/$target"
    log="$fuzz_dir/corpus-work/$target.log"
    mkdir -p "$corpus" "$crashes"
    "seed_${target//-/_}" "$corpus"
    before=$(find "$crashes" -type f ! -name '.*' | wc -l)
    span="$seconds s"; [ -z "$runs" ] || span="$runs runs"
    echo "run.sh: fuzzing $target for $span on CPU $cpu ($(ls "$corpus" | wc -l) corpus files); log in $log"
    status=0
    # SWIFT_BACKTRACE=enable=no: Swift's backtracer would otherwise take the
    # crash signal first and libFuzzer would write no crash file.
    limit=(-max_total_time="$seconds")
    [ -z "$runs" ] || limit=(-runs="$runs")
    # malloc_context_size=0: no stack trace recorded at every allocation (a
    # tenth of each run); reproduce a finding without it for its stacks.
    ASAN_OPTIONS="malloc_context_size=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    SWIFT_BACKTRACE=enable=no "${pin[@]}" "$binary" "$corpus" \
        "${limit[@]}" -max_len="$max_len" -timeout=1 -rss_limit_mb=2048 \
        -dict="$fuzz_dir/$target.dict" -artifact_prefix="$crashes/" -print_final_stats=1 \
        > "$log" 2>&1 || status=$?
    after=$(find "$crashes" -type f ! -name '.*' | wc -l)
    executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    start=$(grep -oE 'INITED cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | head -n 1 | sed 's/INITED //' || true)
    end=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 || true)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    slowest=$(sed -n 's/^stat::slowest_unit_time_sec: *//p' "$log" | tail -n 1)
    line="$target: exit $status, ${executed:-?} runs (${rate:-?}/s), from ${start:-?} to ${end:-no coverage line}, peak RSS ${rss:-?} MB, slowest ${slowest:-?} s, $((after - before)) new in crashes/$target/"
    summary+=("$line")
    if [ "$status" != 0 ] || [ "$after" -gt "$before" ]; then
        found=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*property violated|artifact_prefix|Test unit written)' "$log" | head -n 20 || true
        echo "run.sh: reproduce with: SWIFT_BACKTRACE=enable=no $binary $crashes/<file>"
    fi
done

printf 'run.sh: %s\n' "${summary[@]}"
exit "$found"
