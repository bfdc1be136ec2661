#!/usr/bin/env bash
# Issue 16's figures: a long workload replayed at full speed into the default
# 5 MiB with the default tiers, and what each tier then holds.
# Usage: bash Benchmarks/tier-figures.sh [PROFILE HOURS]...   (default: phone 480 busy 72)
# `--hours 480` of the phone profile spans about 30 wall days (its sleep gaps
# add half again). Prints, per run: the recorder's CPU with the default tiers
# and with --tiers none (the same replay deleting instead), its rollup line,
# each tier's span, resolution and bytes, and the exact-totals check
# (Benchmarks/tier_totals.py, independent of the Swift code).
# SCRATCH (default a new directory under /tmp) holds the JSON lines: about 1.4 GB
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
    print(f'- the rollups\' share of the replay\'s CPU: {results["tiers"][0] - results["none"][0]:+.1f} s')
    directory = results['tiers'][3]
    names = sorted(n for n in os.listdir(directory) if n.startswith('sockstat-') and n.endswith('.sslog'))
    total = sum(os.path.getsize(os.path.join(directory, n)) for n in os.listdir(directory))
    print(f'- directory: {len(names)} segments, {total:,} B of {5 * 1024 * 1024:,}')
    print('\n| tier | segments | bytes | span | from | to | events |\n|---|---:|---:|---:|---|---|---:|')
    tiers = {}
    for n in names:
        tiers.setdefault(tier_of(n), []).append(os.path.join(directory, n))
    order = sorted(tiers, key=lambda t: (t == 'recorded', -len(t), t))
    for tier in order:
        files = tiers[tier]
        a, b, events = span(files)
        size = sum(os.path.getsize(f) for f in files)
        when = lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')
        print(f'| {tier} | {len(files)} | {size:,} | {hours(b - a):.1f} h ({hours(b - a) / 24:.1f} d) | {when(a)} | {when(b)} | {events:,} |')
    decoded = os.path.join(scratch, f'{profile}-decoded.jsonl')
    with open(decoded, 'wb') as out:
        subprocess.run([convert, 'decode', directory], check=True, stdout=out)
    verdict = subprocess.run(['python3', check, source, decoded], capture_output=True, text=True)
    print(f'\n- exact totals: {verdict.stdout.strip()} (exit {verdict.returncode})\n')
    for name in ('tiers', 'none'):
        subprocess.run(['rm', '-rf', results[name][3]])
    os.remove(source)
    os.remove(decoded)
PY
