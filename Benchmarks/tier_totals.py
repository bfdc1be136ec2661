#!/usr/bin/env python3
"""The exact-totals check of a tiered log (issue 16), independent of the Swift code.

Usage: python3 Benchmarks/tier_totals.py INPUT.jsonl DECODED.jsonl

INPUT is what was recorded (canonical JSON lines), DECODED what
`sockstat-convert decode DIR` gives for the tiered directory. The kept
history starts at the first decoded window; that window may hold only the
part of its traffic that came after a deleted segment, so the check starts
at the end of it: from there on, for every label and network, the sums of
tx and of rx over the decoded events equal those over the recorded events
(selected by `t`, as windows are). Prints one line and exits 1 on a mismatch.
"""
import json
import sys
from collections import defaultdict


def sums(path, start):
    totals = defaultdict(lambda: [0, 0])
    events = 0
    with open(path, 'rb') as lines:
        for line in lines:
            event = json.loads(line)
            if event['t'] < start:
                continue
            events += 1
            network = event.get('c', 0)
            for label, (tx, rx) in event['s'].items():
                totals[(label, network)][0] += tx
                totals[(label, network)][1] += rx
    return totals, events


def main():
    recorded, decoded = sys.argv[1], sys.argv[2]
    with open(decoded, 'rb') as lines:
        first = json.loads(lines.readline())
    start = first['t'] + first['d']
    kept, kept_events = sums(decoded, start)
    source, source_events = sums(recorded, start)
    if kept != source:
        for key in sorted(set(kept) | set(source)):
            if kept.get(key) != source.get(key):
                print(f'MISMATCH from t={start}: label {key[0]!r} network {key[1]}: '
                      f'kept {kept.get(key)}, recorded {source.get(key)}')
                break
        sys.exit(1)
    tx = sum(value[0] for value in kept.values())
    rx = sum(value[1] for value in kept.values())
    print(f'exact: from t={start}, {len(kept)} label-network pairs, tx {tx} and rx {rx} bytes equal; '
          f'{kept_events} kept events for {source_events} recorded')


if __name__ == '__main__':
    main()
