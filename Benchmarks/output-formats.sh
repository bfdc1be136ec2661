#!/usr/bin/env bash
# decode's output formats (issue 14) on the reference workload: throughput of
# --format jsonl, csv and tsv, and of --resolution, measured in the same run,
# interleaved, so that this VM's drift hits them alike (release build, whole
# process, pinned to one core, output to /dev/null).
# Usage: bash Benchmarks/output-formats.sh [HOURS...]   (default: 24)
# RUNS (default 7) timed runs per variant; CORE (default 0) the core.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-7}
hours=("$@")
[ ${#hours[@]} -gt 0 ] || hours=(24)

python3 - "${hours[@]}" <<'PY'
import os, statistics, subprocess, sys, tempfile, time
convert, runs, core = os.environ['CONVERT'], int(os.environ['RUNS']), os.environ.get('CORE', '0')
variants = [
    ('jsonl', []),
    ('csv', ['--format', 'csv']),
    ('tsv', ['--format', 'tsv']),
    ('jsonl --resolution 1s', ['--resolution', '1s']),
    ('csv --resolution 1s', ['--format', 'csv', '--resolution', '1s']),
    ('csv --resolution 1m', ['--format', 'csv', '--resolution', '1m']),
]

def timed(args, work):
    report = os.path.join(work, 'time.txt')
    with open(os.devnull, 'wb') as null:
        start = time.perf_counter()
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', report, 'taskset', '-c', core] + args, stdout=null, check=True)
        wall = time.perf_counter() - start
    return wall, int(open(report).read().split()[-1])

with tempfile.TemporaryDirectory() as work:
    for hours in sys.argv[1:]:
        source = os.path.join(work, 'in-%s.jsonl' % hours)
        with open(source, 'wb') as f:
            subprocess.run([sys.executable, os.environ['WORKLOAD'], '--hours', hours, '--seed', '1'],
                           stdout=f, stderr=subprocess.DEVNULL, check=True)
        events = sum(1 for _ in open(source, 'rb'))
        segments = os.path.join(work, 'seg-%s' % hours)
        subprocess.run([convert, 'encode', '-i', source, '-o', segments], stderr=subprocess.DEVNULL, check=True)
        sizes = {name: len(subprocess.run([convert, 'decode'] + args + [segments], capture_output=True, check=True).stdout)
                 for name, args in variants}
        results = {name: [] for name, _ in variants}
        for _ in range(runs):
            for name, args in variants:
                results[name].append(timed([convert, 'decode'] + args + [segments], work))
        print('%s h of the reference workload: %d events; decode to /dev/null, whole process, core %s, %d runs each, interleaved'
              % (hours, events, core, runs))
        print()
        print('| output | bytes out | median s | min s | M events/s (median) | MB/s out (median) | time vs jsonl | peak RSS KB |')
        print('|---|---|---|---|---|---|---|---|')
        base = statistics.median(w for w, _ in results['jsonl'])
        for name, _ in variants:
            walls = sorted(w for w, _ in results[name])
            median = statistics.median(walls)
            print('| %s | %d | %.3f | %.3f | %.2f | %.0f | %.2fx | %d |'
                  % (name, sizes[name], median, walls[0], events / median / 1e6, sizes[name] / median / 1e6,
                     median / base, max(r for _, r in results[name])))
        print()
PY
