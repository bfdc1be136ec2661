#!/usr/bin/env bash
# `sockstat-convert decode --follow` against a recorder of this host (release
# build): the lag from a block's write to its events on the follower's stdout,
# the age of each event when it is printed, and the follower's CPU cost.
# Usage: bash Benchmarks/follow-lag.sh [SECONDS]   (default 60 per run)
# Runs the recorder at the default flush interval (10 s) and at
# --flush-interval 1, then the follower on a directory nobody writes (the
# cost of polling alone). CORE (default 1) is the follower's core; the
# recorder, the loopback traffic and this harness run on the other.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
swift build -c release --product sockstat-record >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export RECORD=$PWD/.build/release/sockstat-record
export SECONDS_PER_RUN=${1:-60}

python3 - <<'PY'
import json, os, socket, statistics, subprocess, sys, tempfile, threading, time
convert, record = os.environ['CONVERT'], os.environ['RECORD']
seconds = float(os.environ['SECONDS_PER_RUN'])
core = os.environ.get('CORE', '1')
other = '0' if core != '0' else '1'

HEADER = 40  # a segment's header alone (SegmentHeader.encodedSize): not a block

def loopback_traffic(stop):
    """About 100 datagrams a second on loopback, so that every poll has an event."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    while not stop.is_set():
        s.sendto(b'x' * 200, s.getsockname()); s.recv(1024); time.sleep(0.01)

def cpu_seconds(pid):
    """CPU seconds of a running process, all its threads, in nanoseconds from
    /proc (schedstat: clock ticks are too coarse for a minute of polling)."""
    total = 0
    for thread in os.listdir(f'/proc/{pid}/task'):
        total += int(open(f'/proc/{pid}/task/{thread}/schedstat').read().split()[0])
    return total / 1e9

def run(flush):
    work = tempfile.mkdtemp(prefix='follow-lag-')
    logs = os.path.join(work, 'logs')
    os.mkdir(logs, 0o700)
    stop = threading.Event()
    threading.Thread(target=loopback_traffic, args=(stop,), daemon=True).start()
    recorder = None
    if flush is not None:
        recorder = subprocess.Popen(['taskset', '-c', other, record, '--dir', logs, '--exclude-interfaces', '',
                                     '--flush-interval', str(flush)], stderr=subprocess.DEVNULL)
    # Block writes: the open segment's size, looked at every 2 ms.
    writes = []
    def watch():
        sizes = {}
        while not stop.is_set():
            try:
                names = sorted(n for n in os.listdir(logs) if n.endswith('.sslog'))
                if names:
                    size = os.stat(os.path.join(logs, names[-1])).st_size
                    if size != sizes.get(names[-1]):
                        if names[-1] in sizes or size > HEADER:
                            writes.append(time.time())
                        sizes[names[-1]] = size
            except FileNotFoundError:
                pass
            time.sleep(0.002)
    threading.Thread(target=watch, daemon=True).start()
    time.sleep(0.5)
    follower = subprocess.Popen(['taskset', '-c', core, convert, 'decode', '--follow', logs],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    arrivals = []  # (wall time, line)
    def read():
        for line in follower.stdout:
            arrivals.append((time.time(), line))
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    started = time.time()
    time.sleep(seconds)
    cpu = cpu_seconds(follower.pid)
    elapsed = time.time() - started
    follower.terminate()
    follower.wait()
    reader.join()
    stop.set()
    if recorder:
        recorder.terminate(); recorder.wait()
    subprocess.run(['rm', '-rf', work])
    # A block's lines arrive together: its lag is the first line's arrival
    # minus the last block write before it.
    lags, ages = [], []
    last = None
    for arrival, line in arrivals:
        event = json.loads(line)
        ages.append(arrival - (event['t'] + event['d']) / 1000)
        if last is None or arrival - last > 0.05:
            before = [w for w in writes if w <= arrival]
            if before:
                lags.append(arrival - before[-1])
        last = arrival
    bursts = lags
    return dict(flush=flush, seconds=elapsed, cpu=cpu, lines=len(arrivals), blocks=len(bursts),
                lag=bursts, age=ages)

def summary(values):
    if not values:
        return 'n/a'
    values = sorted(values)
    return '%.3f / %.3f / %.3f' % (values[0], statistics.median(values), values[-1])

print('| recorder | s followed | lines | blocks | write → stdout lag, s (min / median / max) | event age when printed, s (min / median / max) | follower CPU s | CPU s per hour |')
print('|---|---|---|---|---|---|---|---|')
for flush in [10, 1, None]:
    result = run(flush)
    name = 'nobody writes' if flush is None else ('default (10 s)' if flush == 10 else f'--flush-interval {flush}')
    print(f"| {name} | {result['seconds']:.0f} | {result['lines']} | {result['blocks']} | {summary(result['lag'])} | "
          f"{summary(result['age'])} | {result['cpu']:.3f} | {result['cpu'] * 3600 / result['seconds']:.2f} |", flush=True)
PY
