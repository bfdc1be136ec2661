#!/usr/bin/env bash
# Whole-process figures of `sockstat-convert summary` on the reference
# workload (release build, one core): time and peak RSS, --by total at each
# length (the memory must stay flat) and --by hour/day at the longest, with
# decode of the same segments in the same run for scale.
# Usage: bash Benchmarks/summary-figures.sh [HOURS...]   (default: 24 168)
# RUNS (default 7) sets how many timed runs give min/median/max; CORE (default 0)
# the core they are pinned to.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-7}
hours=("$@")
[ ${#hours[@]} -gt 0 ] || hours=(24 168)

python3 - "${hours[@]}" <<'PY'
import os, statistics, subprocess, sys, tempfile, time
convert, runs = os.environ['CONVERT'], int(os.environ['RUNS'])
core = os.environ.get('CORE', '0')

def timed(args):
    """Wall seconds, user+sys CPU seconds and peak RSS (KB) of one run pinned to CORE, stdout discarded."""
    report = os.path.join(work, 'time.txt')
    start = time.perf_counter()
    with open(os.devnull, 'wb') as null:
        subprocess.run(['/usr/bin/time', '-f', '%U %S %M', '-o', report, 'taskset', '-c', core] + args,
                       stdout=null, check=True)
    wall = time.perf_counter() - start
    user, system, rss = open(report).read().split()[-3:]
    return wall, float(user) + float(system), int(rss)

def figures(name, args):
    results = [timed(args) for _ in range(runs)]
    wall = sorted(w for w, _, _ in results)
    cpu = sorted(c for _, c, _ in results)
    print('  %-22s wall %.3f / %.3f / %.3f s (min/median/max), CPU %.2f / %.2f / %.2f s, peak RSS %d KB'
          % (name, wall[0], statistics.median(wall), wall[-1], cpu[0], statistics.median(cpu), cpu[-1],
             max(r for _, _, r in results)))

with tempfile.TemporaryDirectory() as work:
    for index, hours in enumerate(sys.argv[1:]):
        source = os.path.join(work, 'in-%s.jsonl' % hours)
        with open(source, 'wb') as f:
            subprocess.run([sys.executable, os.environ['WORKLOAD'], '--hours', hours, '--seed', '1'],
                           stdout=f, stderr=subprocess.DEVNULL, check=True)
        events = sum(1 for _ in open(source, 'rb'))
        segments = os.path.join(work, 'seg-%s' % hours)
        subprocess.run([convert, 'encode', '-i', source, '-o', segments], stderr=subprocess.DEVNULL, check=True)
        os.remove(source)
        stored = sum(os.path.getsize(os.path.join(segments, n)) for n in os.listdir(segments))
        print('%s h: %d events, %d segment bytes; whole process, core %s, %d runs:' % (hours, events, stored, core, runs))
        figures('summary', [convert, 'summary', segments])
        figures('summary --json', [convert, 'summary', '--json', segments])
        if index == len(sys.argv) - 2:
            for by in ('hour', 'day'):
                figures('summary --by ' + by, [convert, 'summary', '--by', by, segments])
        figures('decode (for scale)', [convert, segments])
PY
