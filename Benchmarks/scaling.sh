#!/usr/bin/env bash
# How decoding cost grows (release build, one core): with input size (the
# reference workload over 1 h, 6 h, 24 h and 7 days), with the number of
# segments (the day cut into thousands of small ones), and with the number of
# labels per segment (1 to 1,000). Peak RSS alongside shows memory staying flat.
# Last, what the flush interval (the most a crash can lose) costs in size and
# recorder CPU, since zlib's cost is mostly per block.
# Usage: bash Benchmarks/scaling.sh   (RUNS=3 timed runs each; CORE=0 pins them)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null 2>&1
swift build -c release --product sockstat-record >/dev/null 2>&1
export CONVERT=$PWD/.build/release/sockstat-convert
export RECORD=$PWD/.build/release/sockstat-record
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-3} CORE=${CORE:-0}

python3 - <<'PY'
import os, random, re, shutil, statistics, subprocess, sys, tempfile, time
convert, record = os.environ['CONVERT'], os.environ['RECORD']
runs, core = int(os.environ['RUNS']), os.environ['CORE']

def cpu(args, **kw):
    """Median user+sys CPU seconds of RUNS runs pinned to CORE."""
    report = os.path.join(work, 'time.txt')
    seconds = []
    for _ in range(runs):
        subprocess.run(['/usr/bin/time', '-f', '%U %S', '-o', report, 'taskset', '-c', core] + args, check=True, **kw)
        user, system = open(report).read().split()[-2:]
        seconds.append(float(user) + float(system))
    return statistics.median(seconds)

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
    for limit, interval in [("262144", "10"), ("16384", "10"), ("4096", "10"), ("4096", "1")]:
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

    print('\n### Flush interval: the reference day recorded with longer blocks\n')
    row('--flush-interval', 'blocks', 'B/event', 'sockstat-record --replay CPU (median of %d)' % runs,
        'decode wall', 'M events/s')
    row(*['---'] * 6)
    for interval in ['1', '10', '30', '60', '300']:
        logs = os.path.join(work, 'flush-%s' % interval)
        replay = [record, '--dir', logs, '--replay', day, '--flush-interval', interval, '--max-total-bytes', str(1 << 30)]
        seconds = []
        for _ in range(runs):
            shutil.rmtree(logs, ignore_errors=True)
            seconds.append(cpu(replay, stderr=subprocess.DEVNULL))
        shutil.rmtree(logs, ignore_errors=True)
        summary = subprocess.run(replay, capture_output=True, text=True, check=True).stderr
        blocks = re.search(r'(\d+) blocks', summary).group(1)
        size = sum(os.path.getsize(os.path.join(logs, n)) for n in os.listdir(logs))
        wall, _ = decode(logs, day)
        row(interval + ' s', '{:,}'.format(int(blocks)), '%.2f' % (size / day_events), '%.2f s' % statistics.median(seconds),
            '%.1f ms' % (wall * 1e3), '%.2f' % (day_events / wall / 1e6))
PY
