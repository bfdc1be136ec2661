#!/usr/bin/env python3
"""A model of format v1 and of the layouts it was chosen over (Spec section 12).

Usage: python3 Benchmarks/format-model.py EVENTS.jsonl

Prints bytes per event, frames and headers included, for each layout. The v1
row uses the Swift writer's records and block and segment cuts, with zlib
level 6 standing in for the writer's own DEFLATE encoder (the same size to
within 0.2% on the reference workload, Spec section 12, "Compression"); it
agrees with `sockstat-convert encode` to within 0.2%.
"""
import json
import sys
import zlib

INTERVAL = 10_000
SEGMENT = 256 * 1024
FRAME = 16
HEADER = 40


def uv(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def zz(n):
    n &= (1 << 64) - 1
    s = n - (1 << 64) if n >= (1 << 63) else n
    return ((s << 1) ^ (s >> 63)) & ((1 << 64) - 1)


def blocks(events, interval):
    current, start = [], None
    for e in events:
        if current and not (0 <= e['t'] - start < interval):
            yield current
            current = []
        if not current:
            start = e['t']
        current.append(e)
    if current:
        yield current


def define(labels, ids, defined, out):
    """Appends a LABEL record for each label this block has not defined yet."""
    for label in labels:
        if label not in ids:
            ids[label] = len(ids)
        if ids[label] not in defined:
            defined.add(ids[label])
            body = uv(ids[label]) + label.encode()
            out += uv(len(body) << 3 | 1) + body


def payload(block, ids, index, adjacent=True, columns=False):
    """The v1 payload of one block (or its columnar variant)."""
    out = bytearray(uv(1) + uv(index) + uv(zz(block[0]['t'])))
    defined, end, prev_d = set(), block[0]['t'], 0
    cols = [bytearray() for _ in range(6)]
    for e in block:
        labels = sorted(e['s'], key=lambda k: k.encode())
        define(labels, ids, defined, out)
        gap = zz(e['t'] - end)
        dd = zz(e['d'] - prev_d)
        cell = 1 if e.get('c') else 0
        if columns:
            cols[0] += uv(gap)
            cols[1] += uv(dd)
            cols[2] += uv(len(labels) << 1 | cell)
            for label in labels:
                cols[3] += uv(ids[label])
                cols[4] += uv(e['s'][label][0])
                cols[5] += uv(e['s'][label][1])
        else:
            body = bytearray()
            if gap or not adjacent:
                body += uv(gap)
            body += uv(dd)
            for label in labels:
                body += uv(ids[label]) + uv(e['s'][label][0]) + uv(e['s'][label][1])
            kind = (4 if adjacent and gap == 0 else 2) + cell
            out += uv(len(body) << 3 | kind) + body
        prev_d, end = e['d'], e['t'] + e['d']
    if columns:
        out += b''.join(cols)
    return bytes(out)


def split_payload(block, ids, index):
    """Not varint records: each tx/rx as a bit-length byte in the deflated
    record stream, its bits below the leading 1 packed raw in a second stream
    (what beating per-block deflate on random low-order bytes would take)."""
    out = bytearray(uv(1) + uv(index) + uv(zz(block[0]['t'])))
    defined, end, prev_d, bits = set(), block[0]['t'], 0, []
    for e in block:
        labels = sorted(e['s'], key=lambda k: k.encode())
        define(labels, ids, defined, out)
        gap = zz(e['t'] - end)
        body = bytearray(uv(gap) if gap else b'') + uv(zz(e['d'] - prev_d))
        for label in labels:
            body += uv(ids[label])
            for value in e['s'][label]:
                length = value.bit_length()
                body.append(length)
                if length > 1:
                    bits.append((value & ((1 << (length - 1)) - 1), length - 1))
        out += uv(len(body) << 3 | (4 if gap == 0 else 2) + (1 if e.get('c') else 0)) + body
        prev_d, end = e['d'], e['t'] + e['d']
    packed, acc, count = bytearray(), 0, 0
    for value, width in bits:
        acc |= value << count
        count += width
        while count >= 8:
            packed.append(acc & 0xFF)
            acc >>= 8
            count -= 8
    if count:
        packed.append(acc)
    return bytes(out), bytes(packed)


def split(events, interval=INTERVAL):
    """Independent blocks of the split layout: frame, deflated records, raw bits (with a 2-byte length)."""
    total, ids = 0, {}
    for index, block in enumerate(blocks(events, interval)):
        records, packed = split_payload(block, ids, index)
        total += FRAME + len(deflate(records)) + 2 + len(packed)
    return total


def deflate(data, zdict=None):
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, *([zdict] if zdict else []))
    return c.compress(data) + c.flush()


def independent(events, interval=INTERVAL, zdict=None, **kw):
    """Segments of independent blocks, cut and rotated as the Swift writer does."""
    total = 0
    segment_bytes, largest, ids, index = None, 0, {}, 0
    for block in blocks(events, interval):
        if segment_bytes is None or segment_bytes + largest > SEGMENT:
            total += segment_bytes or 0
            segment_bytes, largest, ids, index = HEADER, 0, {}, 0
        size = FRAME + len(deflate(payload(block, ids, index, **kw), zdict))
        segment_bytes += size
        largest = max(largest, size)
        index += 1
    return total + (segment_bytes or 0)


def chained(events):
    """One deflate stream per segment, Z_SYNC_FLUSH after each block."""
    total, segment_bytes, ids, index = 0, None, {}, 0
    for block in blocks(events, INTERVAL):
        if segment_bytes is None or segment_bytes > SEGMENT:
            total += segment_bytes or 0
            segment_bytes, ids, index = HEADER, {}, 0
            stream = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
        data = stream.compress(payload(block, ids, index)) + stream.flush(zlib.Z_SYNC_FLUSH)
        segment_bytes += FRAME + len(data)
        index += 1
    return total + (segment_bytes or 0)


def main():
    path = sys.argv[1]
    events = [json.loads(line) for line in open(path)]
    n = len(events)
    size = sum(len(line) for line in open(path, 'rb'))
    zeroed = [dict(e, s={k: [0, 0] for k in e['s']}) for e in events]
    rows = [
        ('JSON lines', size),
        ('v1 (independent 10 s blocks, one record per event)', independent(events)),
        ('v1 without adjacent event types 4/5', independent(events, adjacent=False)),
        ('v1 with every tx/rx set to 0 (cost of structure alone)', independent(zeroed)),
        ('chained: one stream per segment, Z_SYNC_FLUSH per block', chained(events)),
        ('independent 60 s blocks', independent(events, interval=60_000)),
        ('fields in columns within a block', independent(events, columns=True)),
        ('split: tx/rx as bit length + raw packed bits (no varints)', split(events)),
        ('split, 60 s blocks', split(events, interval=60_000)),
    ]
    print('%d events' % n)
    for name, total in rows:
        print('%-58s %8.2f B/event' % (name, total / n))


if __name__ == '__main__':
    main()
