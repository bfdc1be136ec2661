#!/usr/bin/env bash
# How decoding cost grows (release build, one core): with input size (the
# reference workload over 1 h, 6 h, 24 h and 7 days), with the number of
# segments (the day cut into thousands of small ones), and with the number of
# labels per segment (1 to 1,000). Peak RSS alongside shows memory staying flat.
# Usage: bash Benchmarks/scaling.sh   (RUNS=3 timed runs each; CORE=0 pins them)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null 2>&1
export CONVERT=$PWD/.build/release/sockstat-convert
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-3} CORE=${CORE:-0}

python3 - <<'PY'
import os, random, statistics, subprocess, sys, tempfile, time
convert, runs, core = os.environ['CONVERT'], int(os.environ['RUNS']), os.environ['CORE']

def timed(args, **kw):
    """Median wall seconds and largest peak RSS (KB) of RUNS runs pinned to CORE."""
    walls, rss = [], 0
    report = os.path.join(work, 'time.txt')
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', report, 'taskset', '-c', core] + args, check=True, **kw)
        walls.append(time.perf_counter() - start)
        rss = max(rss, int(open(report).read().split()[-1]))
    return statistics.median(walls), rss

def encode(source, segments, *extra):
    subprocess.run([convert, 'encode', '-i', source, '-o', segments] + list(extra),
                   check=True, stderr=subprocess.DEVNULL)
    names = os.listdir(segments)
    return len(names), sum(os.path.getsize(os.path.join(segments, n)) for n in names)

def decode(segments, source):
    out = subprocess.run([convert, segments], capture_output=True, check=True).stdout
    assert out == open(source, 'rb').read(), 'round trip failed for %s' % segments
    with open(os.devnull, 'wb') as null:
        return timed([convert, segments], stdout=null)

def row(*cells):
    print('| ' + ' | '.join(str(c) for c in cells) + ' |', flush=True)

with tempfile.TemporaryDirectory() as work:
    print('### Decode time against input size (reference workload, seed 1)\n')
    row('input', 'events', 'segments', 'B/event', 'decode wall (median of %d)' % runs, 'M events/s', 'peak RSS')
    row(*['---'] * 7)
    day = None
    for hours, name in [('1', '1 hour'), ('6', '6 hours'), ('24', '24 hours'), ('168', '7 days')]:
        source = os.path.join(work, 'in-%s.jsonl' % hours)
        with open(source, 'wb') as f:
            subprocess.run([sys.executable, os.environ['WORKLOAD'], '--hours', hours, '--seed', '1'],
                           stdout=f, stderr=subprocess.DEVNULL, check=True)
        events = sum(1 for _ in open(source, 'rb'))
        segments = os.path.join(work, 'seg-%s' % hours)
        count, size = encode(source, segments)
        wall, rss = decode(segments, source)
        row(name, '{:,}'.format(events), count, '%.2f' % (size / events), '%.1f ms' % (wall * 1e3),
            '%.2f' % (events / wall / 1e6), '%.1f MB' % (rss / 1024))
        if hours == '24':
            day, day_events = source, events

    print('\n### The reference day in more, smaller segments\n')
    row('--max-segment-bytes', '--flush-interval', 'segments', 'B/event', 'decode wall', 'M events/s', 'peak RSS')
    row(*['---'] * 7)
    # 4096 bytes is the smallest segment encode accepts; 1 s blocks fill it sooner.
    for limit, interval in [('262144', '10000'), ('16384', '10000'), ('4096', '10000'), ('4096', '1000')]:
        segments = os.path.join(work, 'day-%s-%s' % (limit, interval))
        count, size = encode(day, segments, '--max-segment-bytes', limit, '--flush-interval', interval)
        wall, rss = decode(segments, day)
        row(limit, interval, '{:,}'.format(count), '%.2f' % (size / day_events), '%.1f ms' % (wall * 1e3),
            '%.2f' % (day_events / wall / 1e6), '%.1f MB' % (rss / 1024))

    print('\n### Labels per segment (200,000 synthetic events, 2 labels each, 10 Hz)\n')
    row('distinct labels', 'segments', 'B/event', 'decode wall', 'M events/s', 'peak RSS')
    row(*['---'] * 6)
    for labels in [1, 10, 100, 1000]:
        rng = random.Random(labels)
        names = ['iface-%04d' % i for i in range(labels)]
        source = os.path.join(work, 'labels-%d.jsonl' % labels)
        with open(source, 'w') as f:
            t = 1_764_288_000_000
            for _ in range(200_000):
                chosen = sorted(set(rng.choice(names) for _ in range(2)))
                body = ','.join('"%s":[%d,%d]' % (n, rng.randint(1, 5000), rng.randint(1, 50000)) for n in chosen)
                f.write('{"t":%d,"d":100,"s":{%s}}\n' % (t, body))
                t += 100
        segments = os.path.join(work, 'labels-seg-%d' % labels)
        count, size = encode(source, segments)
        wall, rss = decode(segments, source)
        row(labels, count, '%.2f' % (size / 200_000), '%.1f ms' % (wall * 1e3),
            '%.2f' % (200_000 / wall / 1e6), '%.1f MB' % (rss / 1024))
PY
