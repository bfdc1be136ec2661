#!/usr/bin/env bash
# Whole-process figures on the reference workload (release build, one core).
# Usage: bash Benchmarks/reference-figures.sh [HOURS...]   (default: 1 24)
# RUNS (default 7) sets how many timed runs give min/median/max; CORE (default 0)
# the core they are pinned to.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
swift build -c release --product sockstat-record >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export RECORD=$PWD/.build/release/sockstat-record
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-7}
hours=("$@")
[ ${#hours[@]} -gt 0 ] || hours=(1 24)

python3 - "${hours[@]}" <<'PY'
import os, statistics, subprocess, sys, tempfile, time
import shutil
convert, record, runs = os.environ['CONVERT'], os.environ['RECORD'], int(os.environ['RUNS'])
core = os.environ.get('CORE', '0')

def timed(args, **kw):
    """Wall seconds, user+sys CPU seconds and peak RSS (KB) of one run pinned to CORE."""
    report = os.path.join(work, 'time.txt')
    start = time.perf_counter()
    subprocess.run(['/usr/bin/time', '-f', '%U %S %M', '-o', report, 'taskset', '-c', core] + args, check=True, **kw)
    wall = time.perf_counter() - start
    user, system, rss = open(report).read().split()[-3:]
    return wall, float(user) + float(system), int(rss)

with tempfile.TemporaryDirectory() as work:
    empty = os.path.join(os.getcwd(), 'Fixtures/empty-segment/input.sslog')
    for hours in sys.argv[1:]:
        source = os.path.join(work, 'in-%s.jsonl' % hours)
        with open(source, 'wb') as f:
            subprocess.run([sys.executable, os.environ['WORKLOAD'], '--hours', hours, '--seed', '1'],
                           stdout=f, stderr=subprocess.DEVNULL, check=True)
        events = sum(1 for _ in open(source, 'rb'))
        json_bytes = os.path.getsize(source)
        segments = os.path.join(work, 'seg-%s' % hours)
        encode = timed([convert, 'encode', '-i', source, '-o', segments], stderr=subprocess.DEVNULL)
        stored = sum(os.path.getsize(os.path.join(segments, n)) for n in os.listdir(segments))
        out = subprocess.run([convert, segments], capture_output=True, check=True).stdout
        assert out == open(source, 'rb').read(), 'round trip failed'
        walls = []
        for _ in range(runs):
            with open(os.devnull, 'wb') as null:
                walls.append(timed([convert, segments], stdout=null))
        wall = sorted(w for w, _, _ in walls)
        median = statistics.median(wall)
        print('%s h: %d events; JSON lines %.2f B/event; segments %.2f B/event (%.2fx smaller)'
              % (hours, events, json_bytes / events, stored / events, json_bytes / stored))
        print('  decode to /dev/null, whole process, core %s, %d runs: %.4f / %.4f / %.4f s (min/median/max)'
              ' = %.2f M events/s at the median, %.2f M at the min; CPU %.4f s; peak RSS %d KB'
              % (core, runs, wall[0], median, wall[-1], events / median / 1e6, events / wall[0] / 1e6,
                 statistics.median(c for _, c, _ in walls), max(r for _, _, r in walls)))
        print('  (process start-up alone, decoding an empty segment: %.4f s median)'
              % statistics.median(timed([convert, empty])[0] for _ in range(runs)))
        print('  encode from JSON lines, whole process, core %s: %.3f s (%.2f M events/s)'
              % (core, encode[0], events / encode[0] / 1e6))
        replays = []
        for run in range(runs):
            logs = os.path.join(work, 'replay-%s-%d' % (hours, run))
            replays.append(timed([record, '--dir', logs, '--replay', source, '--max-total-bytes', str(1 << 30)],
                                 stderr=subprocess.DEVNULL))
        cpu = sorted(c for _, c, _ in replays)
        print('  sockstat-record --replay, max speed, core %s, %d runs: CPU %.2f / %.2f / %.2f s (min/median/max), wall %.2f s median'
              ' (%.0f k events/s), peak RSS %d KB'
              % (core, runs, cpu[0], statistics.median(cpu), cpu[-1], statistics.median(w for w, _, _ in replays),
                 events / statistics.median(w for w, _, _ in replays) / 1e3, max(r for _, _, r in replays)))
        sizes = []
        for name, command in (('gzip -6', ['gzip', '-6', '-c']), ('xz -9', ['xz', '-9', '-c']),
                              ('zstd -19', ['zstd', '-19', '-c', '-q'])):
            if shutil.which(command[0]) is None:
                continue
            with open(source, 'rb') as f:
                out = subprocess.run(command, stdin=f, capture_output=True, check=True).stdout
            sizes.append('%s %.2f' % (name, len(out) / events))
        if sizes:
            print('  the JSON lines as one file, B/event: ' + ', '.join(sizes))
PY
