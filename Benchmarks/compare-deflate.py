#!/usr/bin/env python3
"""Our DEFLATE encoder against zlib on the same block payloads.

Usage: python3 Benchmarks/compare-deflate.py   (after swift build -c release)

Encodes each workload with `sockstat-convert encode`, takes every block's
payload back out (Python's zlib inflates it), recompresses the payloads with
zlib level 6 and with zlib's Huffman-only strategy, and prints bytes per event
for all three with the same frames and headers. Workloads: the reference hour
and day (../shared/workload/workload.py --seed 1) and the synthetic label sets
of Benchmarks/scaling.sh (200,000 events, 2 labels each, 1 to 1,000 labels).
Prints the table in Spec/FORMAT.md, section 12, "Compression".
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONVERT = os.path.join(ROOT, '.build/release/sockstat-convert')
WORKLOAD = os.environ.get('WORKLOAD', os.path.join(ROOT, '../shared/workload/workload.py'))
MARKER = b'\xb5\x0c\x4b\x1d'


def payloads(directory):
    """The inflated payload of every valid frame in the directory's segments."""
    out = []
    for name in sorted(os.listdir(directory)):
        data = open(os.path.join(directory, name), 'rb').read()
        position = 0
        while True:
            position = data.find(MARKER, position)
            if position < 0:
                break
            length = struct.unpack_from('<I', data, position + 4)[0]
            try:
                out.append(zlib.decompress(data[position + 16:position + 16 + length], -15))
                position += 16 + length
            except zlib.error:
                position += 1
    return out


def zlib_size(payload, strategy):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15, 8, strategy)
    return len(compressor.compress(payload) + compressor.flush())


def row(name, source, work):
    events = sum(1 for _ in open(source, 'rb'))
    segments = os.path.join(work, name + '.seg')
    subprocess.run([CONVERT, 'encode', '-i', source, '-o', segments], check=True, stderr=subprocess.DEVNULL)
    ours = sum(os.path.getsize(os.path.join(segments, n)) for n in os.listdir(segments))
    blocks = payloads(segments)
    # Everything but the compressed bytes: segment headers and frame headers.
    framing = ours - sum(length for length in frame_lengths(segments))
    level6 = framing + sum(zlib_size(p, zlib.Z_DEFAULT_STRATEGY) for p in blocks)
    huffman = framing + sum(zlib_size(p, zlib.Z_HUFFMAN_ONLY) for p in blocks)
    print('| %s | %.2f (%s B) | %.2f (%s B) | %.2f |' % (
        name, ours / events, '{:,}'.format(ours), level6 / events, '{:,}'.format(level6), huffman / events), flush=True)


def frame_lengths(directory):
    """The stored length of every valid frame."""
    for name in sorted(os.listdir(directory)):
        data = open(os.path.join(directory, name), 'rb').read()
        position = 0
        while True:
            position = data.find(MARKER, position)
            if position < 0:
                break
            length = struct.unpack_from('<I', data, position + 4)[0]
            try:
                zlib.decompress(data[position + 16:position + 16 + length], -15)
                yield length
                position += 16 + length
            except zlib.error:
                position += 1


def main():
    work = tempfile.mkdtemp()
    try:
        print('| workload | this encoder | zlib level 6 | zlib Huffman only |')
        print('|---|---|---|---|')
        for hours, name in (('1', 'reference hour'), ('24', 'reference day')):
            source = os.path.join(work, 'reference-%s.jsonl' % hours)
            with open(source, 'wb') as f:
                subprocess.run([sys.executable, WORKLOAD, '--hours', hours, '--seed', '1'],
                               stdout=f, stderr=subprocess.DEVNULL, check=True)
            row(name, source, work)
        for labels in (1, 10, 100, 1000):
            # The same generator as Benchmarks/scaling.sh.
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
            row('{:,} label{}'.format(labels, '' if labels == 1 else 's'), source, work)
    finally:
        shutil.rmtree(work)


if __name__ == '__main__':
    main()
