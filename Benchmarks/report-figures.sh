#!/usr/bin/env bash
# `sockstat-convert report` of the reference workload: wall time (release
# build, one core), page size, and what Chromium takes to show it.
# Usage: bash Benchmarks/report-figures.sh [HOURS]   (default: 24)
# RUNS (default 5) timed runs give min/median; CORE (default 0) pins them.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export WORKLOAD=${WORKLOAD:-$PWD/../shared/workload/workload.py}
export RUNS=${RUNS:-5} HOURS=${1:-24}

python3 - <<'PY'
import json, os, statistics, subprocess, sys, tempfile, time
convert, runs, hours = os.environ['CONVERT'], int(os.environ['RUNS']), os.environ['HOURS']
core = os.environ.get('CORE', '0')
with tempfile.TemporaryDirectory() as work:
    source, log = os.path.join(work, 'in.jsonl'), os.path.join(work, 'log')
    with open(source, 'wb') as f:
        subprocess.run([sys.executable, os.environ['WORKLOAD'], '--hours', hours, '--seed', '1'],
                       stdout=f, stderr=subprocess.DEVNULL, check=True)
    subprocess.run([convert, 'encode', '-i', source, '-o', log], check=True, stderr=subprocess.DEVNULL)
    page, svg = os.path.join(work, 'report.html'), os.path.join(work, 'overview.svg')
    walls, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(['/usr/bin/time', '-f', '%M', '-o', os.path.join(work, 'rss'), 'taskset', '-c', core,
                        convert, 'report', '-o', page, '--svg', svg, log], check=True)
        walls.append(time.perf_counter() - start)
        rss.append(int(open(os.path.join(work, 'rss')).read().split()[-1]))
    data = open(page).read()
    start = data.index('id="report-data">') + len('id="report-data">')
    detail = json.loads(data[start:data.index('</script>', start)])['detail']
    expected = os.path.join(work, 'summary.json')
    with open(expected, 'wb') as f:
        subprocess.run([convert, 'summary', '--json', log], stdout=f, check=True)
    browser = subprocess.run([sys.executable, 'Tests/Browser/check_report.py', '--report', page, '--expected', expected,
                              '--screenshots', os.path.join(work, 'shots')], capture_output=True, text=True)
    if browser.returncode != 0:
        sys.exit('browser check failed:\n' + browser.stderr)
    measured = json.loads(browser.stdout)
    events = sum(1 for _ in open(source, 'rb'))
    print('| figure | value |')
    print('|---|---|')
    print('| events | %d |' % events)
    print('| report wall time, min / median of %d | %.2f s / %.2f s |' % (runs, min(walls), statistics.median(walls)))
    print('| peak RSS | %.0f MB |' % (max(rss) / 1024))
    print('| page size | %d bytes |' % os.path.getsize(page))
    print('| overview SVG size | %d bytes |' % os.path.getsize(svg))
    print('| chunks with 100 ms events / 1 s sums only / neither | %d / %d / %d |' % (detail['rawChunks'], detail['secondChunks'], detail['bareChunks']))
    print('| Chromium first-contentful-paint | %.0f ms |' % measured['first_contentful_paint_ms'])
    print('| Chromium until the chart is drawn (load + inflate + first render) | %.0f ms |' % (measured['ready_seconds'] * 1000))
PY
