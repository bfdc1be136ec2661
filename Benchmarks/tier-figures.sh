#!/usr/bin/env bash
# Issue 16's figures: a long workload replayed at full speed into the default
# 5 MiB with the default tiers, and what each tier then holds.
# Usage: bash Benchmarks/tier-figures.sh [PROFILE HOURS]...   (default: phone 480 busy 72)
# `--hours 480` of the phone profile spans about 30 wall days (its sleep gaps
# add half again). Prints, per run: the recorder's CPU with the default tiers
# and with --tiers none (the same replay deleting instead), its rollup line,
# each tier's span, resolution and bytes, and the exact-totals check
# (Benchmarks/tier_totals.py, independent of the Swift code).
# With YEARS=N (default 2) each phone run is also stretched to N years to see
# the 1 h tier fill: its 1-minute rollup (`decode --resolution 1m`) repeated,
# shifted by whole days, compacted by `encode --max-total-bytes 5242880` with
# the default tiers. Synthetic (the same month again and again), but the 1 h
# tier holds what it would hold of that traffic.
# SCRATCH (default a new directory under /tmp) holds the JSON lines: about 0.7 GB
# for phone 480 and 2 GB for busy 72; it is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product sockstat-convert >/dev/null
swift build -c release --product sockstat-record >/dev/null
export CONVERT=$PWD/.build/release/sockstat-convert
export RECORD=$PWD/.build/release/sockstat-record
export WORKLOAD=$PWD/Tests/Workload/workload.py
export CHECK=$PWD/Benchmarks/tier_totals.py
export SCRATCH=${SCRATCH:-$(mktemp -d /tmp/tier-figures.XXXXXX)}
trap 'rm -rf "$SCRATCH"' EXIT
runs=("$@")
[ ${#runs[@]} -gt 0 ] || runs=(phone 480 busy 72)

python3 - "${runs[@]}" <<'PY'
import datetime, json, os, subprocess, sys
convert, record, workload, check, scratch = (os.environ[k] for k in ('CONVERT', 'RECORD', 'WORKLOAD', 'CHECK', 'SCRATCH'))

def timed(args):
    """User+sys CPU seconds, peak RSS (KB) and stdout+stderr of one run pinned to core 0."""
    report = os.path.join(scratch, 'time.txt')
    done = subprocess.run(['/usr/bin/time', '-f', '%U %S %M', '-o', report, 'taskset', '-c', '0'] + args,
                          check=True, capture_output=True, text=True)
    user, system, rss = open(report).read().split()[-3:]
    return float(user) + float(system), int(rss), done.stdout + done.stderr

def tier_of(name):
    middle = name[len('sockstat-'):-len('.sslog')]
    return middle[:-21] if len(middle) > 20 else 'recorded'

def span(files):
    first = last = None
    events = 0
    out = subprocess.run([convert, 'decode'] + files, check=True, capture_output=True).stdout
    for line in out.splitlines():
        event = json.loads(line)
        events += 1
        first = event['t'] if first is None else min(first, event['t'])
        last = event['t'] + event['d'] if last is None else max(last, event['t'] + event['d'])
    return first, last, events

def hours(ms):
    return ms / 3_600_000

def when(ms):
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')

def tier_table(directory):
    names = sorted(n for n in os.listdir(directory) if n.startswith('sockstat-') and n.endswith('.sslog'))
    total = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory))
    print(f'- directory: {len(names)} segments, {total:,} B of {5 * 1024 * 1024:,}')
    print('\n| tier | segments | bytes | span | from | to | events |\n|---|---:|---:|---:|---|---|---:|')
    tiers = {}
    for n in names:
        tiers.setdefault(tier_of(n), []).append(os.path.join(directory, n))
    for tier in sorted(tiers, key=lambda t: (t == 'recorded', -len(t), t)):
        files = tiers[tier]
        a, b, events = span(files)
        size = sum(os.path.getsize(f) for f in files)
        print(f'| {tier} | {len(files)} | {size:,} | {hours(b - a):.1f} h ({hours(b - a) / 24:.1f} d) | {when(a)} | {when(b)} | {events:,} |')
    print()

def stretched(source, years):
    """The 1-minute rollup of `source` repeated to `years` years, compacted with the default tiers."""
    raw, minutes, long = (os.path.join(scratch, n) for n in ('stretch-raw', 'stretch-1m.jsonl', 'stretch.jsonl'))
    subprocess.run([convert, 'encode', '-i', source, '-o', raw], check=True, capture_output=True)
    with open(minutes, 'wb') as out:
        subprocess.run([convert, 'decode', raw, '--resolution', '1m'], check=True, stdout=out)
    lines = open(minutes, 'rb').read().splitlines()
    first, last = json.loads(lines[0])['t'], json.loads(lines[-1])['t'] + 60_000
    period = -(-(last - first) // 86_400_000) * 86_400_000
    repeats = -(-years * 365 * 86_400_000 // period)
    with open(long, 'w') as out:
        for repeat in range(repeats):
            for line in lines:
                event = json.loads(line)
                event['t'] += repeat * period
                out.write(json.dumps(event, separators=(',', ':')) + '\n')
    directory = os.path.join(scratch, 'stretch-tiers')
    cpu, rss, said = timed([convert, 'encode', '--max-total-bytes', str(5 * 1024 * 1024), '-i', long, '-o', directory])
    print(f'### stretched: the 1-minute rollup ({len(lines):,} events over {period // 86_400_000} days) repeated {repeats} times '
          f'({repeats * period / 86_400_000 / 365:.1f} years), `encode --max-total-bytes 5242880`: {cpu:.1f} s CPU\n')
    tier_table(directory)
    for path in (raw, directory):
        subprocess.run(['rm', '-rf', path])
    os.remove(minutes)
    os.remove(long)

args = sys.argv[1:]
for profile, ticks in zip(args[0::2], args[1::2]):
    source = os.path.join(scratch, f'{profile}.jsonl')
    with open(source, 'wb') as out:
        subprocess.run(['python3', workload, '--profile', profile, '--hours', ticks, '--seed', '1'], check=True, stdout=out)
    first = last = None
    recorded = 0
    with open(source, 'rb') as lines:
        for line in lines:
            event = json.loads(line)
            recorded += 1
            first = event['t'] if first is None else first
            last = event['t'] + event['d']
    print(f'## {profile}, --hours {ticks}: {recorded:,} events over {hours(last - first) / 24:.1f} wall days, '
          f'{os.path.getsize(source):,} B of JSON lines')
    results = {}
    for name, extra in (('tiers', []), ('none', ['--tiers', 'none'])):
        directory = os.path.join(scratch, f'{profile}-{name}')
        cpu, rss, said = timed([record, '--replay', source, '--speed', 'max', '--dir', directory] + extra)
        results[name] = (cpu, rss, said, directory)
        print(f'- replay with {"the default tiers" if name == "tiers" else "--tiers none"}: {cpu:.1f} s CPU, '
              f'peak RSS {rss:,} KB; it said: {said.strip().splitlines()[-1] if said.strip() else "(nothing)"}')
    import re
    rolled = re.search(r'\((\d+) rolled up first\)', results['tiers'][2])
    extra = results['tiers'][0] - results['none'][0]
    per = f', {extra / int(rolled.group(1)) * 1000:.1f} ms per segment rolled up ({rolled.group(1)})' if rolled and int(rolled.group(1)) else ''
    print(f'- the rollups\' share of the replay\'s CPU: {extra:+.1f} s{per}')
    directory = results['tiers'][3]
    tier_table(directory)
    decoded = os.path.join(scratch, f'{profile}-decoded.jsonl')
    with open(decoded, 'wb') as out:
        subprocess.run([convert, 'decode', directory], check=True, stdout=out)
    verdict = subprocess.run(['python3', check, source, decoded], capture_output=True, text=True)
    print(f'\n- exact totals: {verdict.stdout.strip()} (exit {verdict.returncode})\n')
    for name in ('tiers', 'none'):
        subprocess.run(['rm', '-rf', results[name][3]])
    if profile == 'phone' and int(os.environ.get('YEARS', '2')) > 0:
        stretched(source, int(os.environ.get('YEARS', '2')))
    os.remove(source)
    os.remove(decoded)
PY
