#!/usr/bin/env python3
"""Regenerates Fixtures/: golden segments, damaged variants and their expected output.

Usage: python3 Fixtures/make-fixtures.py PATH/TO/sockstat-convert

Intact segments are written by `sockstat-convert encode` from JSON lines made
here; damaged ones are byte edits of intact ones made here with Python's zlib
(no Swift involved). Expected output is what `sockstat-convert decode` printed
when the fixtures were made; it was reviewed by hand and is cross-checked by an
independent decoder written from Spec/FORMAT.md. Rerun only when the format
changes on purpose, and review the diff.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
MARKER = bytes([0xB5, 0x0C, 0x4B, 0x1D])


def go_string(s):
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == '\\':
            out.append('\\\\')
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\r':
            out.append('\\r')
        elif ch == '\t':
            out.append('\\t')
        elif ch == '\b':
            out.append('\\b')
        elif ch == '\f':
            out.append('\\f')
        elif o < 0x20 or ch in '<>&' or o in (0x2028, 0x2029):
            out.append('\\u%04x' % o)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def line(t, d, cell, stats):
    keys = sorted(stats, key=lambda k: k.encode('utf-8'))
    body = ','.join('%s:[%d,%d]' % (go_string(k), stats[k][0], stats[k][1]) for k in keys)
    return '{"t":%d,"d":%d%s,"s":{%s}}\n' % (t, d, ',"c":1' if cell else '', body)


def workload(hours, seed):
    out = subprocess.run([sys.executable, os.path.join(HERE, '..', '..', 'shared', 'workload', 'workload.py'),
                          '--hours', str(hours), '--seed', str(seed)],
                         check=True, capture_output=True, text=True).stdout
    return out


def sources():
    T = 1764288339865
    s = {}
    s['one-event'] = line(T, 100, False, {'2': [148, 148], '8': [1024, 96]})
    s['cellular'] = ''.join(line(T + 100 * i, 100, i % 3 != 0, {'rmnet0': [40 * i, 60 * i]}) for i in range(1, 10))
    s['many-labels'] = line(T, 100, False, {'label-%04d' % i: [i, 2 * i + 1] for i in range(1000)}) + \
        line(T + 100, 100, False, {'label-0001': [1, 1]})
    odd = ['é', '日本語', '😀', 'a"b', 'back\\slash', '<tag>&amp;', 'line\u2028sep', 'para\u2029sep',
           '\x01ctl', 'tab\tnew\nline', '', '\x7f', 'Z', 'a', '\u00ff', 'x' * 1024]
    s['unicode-labels'] = ''.join(line(T + 100 * i, 100, False, {lab: [i, i + 1], 'plain': [1, 2]})
                                  for i, lab in enumerate(odd))
    I64MIN, I64MAX, U64MAX = -(1 << 63), (1 << 63) - 1, (1 << 64) - 1
    s['extreme-values'] = ''.join([
        line(I64MIN, I64MAX, False, {'a': [0, U64MAX]}),
        line(I64MAX, I64MIN, True, {'a': [U64MAX, 0]}),
        line(0, 0, False, {'a': [0, 0]}),
        line(-1, -1, False, {'b': [1, 1]}),
        line(I64MIN, 0, False, {'b': [U64MAX, U64MAX]}),
        line(I64MAX, I64MAX, False, {}),
    ])
    # For decode --resolution (Spec/OUTPUT.md): sums that would pass 2^64-1 in one
    # window, cellular beside non-cellular, an event with no labels, time going
    # back to a window already written, and windows of negative t.
    W = 1764288339000
    s['windows-and-overflow'] = ''.join([
        line(W, 100, False, {'a': [U64MAX - 5, 1], 'b': [1, 2]}),
        line(W + 100, 100, False, {'a': [5, 1]}),
        line(W + 200, 100, False, {'a': [1, 0], 'b': [3, 3]}),
        line(W + 300, 100, True, {'a': [U64MAX, U64MAX]}),
        line(W + 400, 100, True, {'a': [0, 1]}),
        line(W + 500, 100, False, {}),
        line(W + 1000, 100, False, {'a': [U64MAX, 0]}),
        line(W + 950, 100, False, {'b': [1, 1]}),
        line(W + 999, 100, True, {}),
        line(-1001, 100, False, {'n': [1, 1]}),
        line(-1000, 100, False, {'n': [2, 2]}),
        line(-1, 100, False, {'n': [4, 4]}),
        line(0, 100, False, {'n': [8, 8]}),
    ])
    s['several-blocks'] = workload(0.02, 7)
    s['several-segments'] = workload(0.3, 8)
    return s


def run(convert, args, cwd):
    p = subprocess.run([convert] + args, cwd=cwd, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def frames(data, start=40):
    """Offsets and lengths of the frames in an intact segment."""
    out = []
    pos = start
    while pos < len(data):
        assert data[pos:pos + 4] == MARKER
        (n,) = struct.unpack_from('<I', data, pos + 4)
        out.append((pos, 16 + n))
        pos += 16 + n
    return out


def frame(stored):
    head = MARKER + struct.pack('<II', len(stored), zlib.crc32(stored))
    return head + struct.pack('<I', zlib.crc32(head)) + stored


def forged_header(length):
    """A frame header whose check holds, claiming `length` stored bytes that are not there."""
    head = MARKER + struct.pack('<II', length, 0)
    return head + struct.pack('<I', zlib.crc32(head))


def header(seq, ctime, incompat=0, compat=0, version=1):
    h = bytes([0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]) + struct.pack('<HHIIQq', version, 40, incompat, compat, seq, ctime)
    return h + struct.pack('<I', zlib.crc32(h))


def fix_header_crc(data):
    return data[:36] + struct.pack('<I', zlib.crc32(data[:36])) + data[40:]


def raw_deflate(payload):
    c = zlib.compressobj(6, zlib.DEFLATED, -15, 8)
    return c.compress(payload) + c.flush()


def main():
    convert = os.path.abspath(sys.argv[1])
    for name in os.listdir(HERE):
        path = os.path.join(HERE, name)
        if os.path.isdir(path) and name != 'crashes':
            shutil.rmtree(path)
    cases = {}  # name -> (input relative path, bytes or directory)

    work = os.path.join(HERE, '.work')
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    intact = {}
    for name, text in sources().items():
        d = os.path.join(HERE, name)
        os.makedirs(d)
        with open(os.path.join(d, 'source.jsonl'), 'w') as f:
            f.write(text)
        args = ['encode', '--input', 'source.jsonl', '--output', 'input']
        if name == 'several-segments':
            args += ['--max-segment-bytes', '4096']
        code, _, err = run(convert, args, d)
        assert code == 0, err
        segs = sorted(os.listdir(os.path.join(d, 'input')))
        if name != 'several-segments':
            os.rename(os.path.join(d, 'input', segs[0]), os.path.join(d, 'input.sslog'))
            os.rmdir(os.path.join(d, 'input'))
            intact[name] = open(os.path.join(d, 'input.sslog'), 'rb').read()

    def damaged(name, data):
        d = os.path.join(HERE, name)
        os.makedirs(d)
        with open(os.path.join(d, 'input.sslog'), 'wb') as f:
            f.write(data)

    damaged('empty-segment', header(1, 1764288339865))
    base = intact['several-blocks']
    fr = frames(base)
    assert len(fr) >= 5, fr
    (b1, l1), (b2, l2), (b3, l3) = fr[1], fr[2], fr[3]
    damaged('torn-in-marker', base[:b3 + 2])
    damaged('torn-in-frame-header', base[:b3 + 9])
    damaged('torn-mid-payload', base[:b3 + l3 // 2])
    damaged('torn-last-byte', base[:-1])
    damaged('zero-filled-tail', base + bytes(300))

    def flip(data, offset, mask=0x01):
        return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1:]
    damaged('flipped-header-byte', flip(base, 30))
    damaged('flipped-magic', flip(base, 1))
    damaged('flipped-block-marker', flip(base, b2))
    damaged('flipped-block-length', flip(base, b2 + 5, 0x10))
    damaged('flipped-block-checksum', flip(base, b2 + 9))
    damaged('flipped-header-check', flip(base, b2 + 13))
    damaged('flipped-block-payload', flip(base, b2 + 16 + l2 // 2))
    # The last block's length pointing past the end: the header check catches it (not a torn write).
    (bl, ll) = fr[-1]
    damaged('flipped-last-block-length', flip(base, bl + 6, 0x01))
    # Forged frame headers (checks hold, stored bytes absent) where block 2 was, each claiming
    # most of the file: damage up to block 3, found without checksumming the claims again and again.
    size = b2 + 32 * 16 + len(base) - b3
    forged = b''.join(forged_header(size - (b2 + 16 * i) - 16) for i in range(32))
    damaged('forged-frame-headers', base[:b2] + forged + base[b3:])
    # Block 2 cut short by block 3 (a torn write with more after it): damage, block 3 is read.
    damaged('block-cut-short', base[:b2 + l2 // 2] + base[b3:])
    damaged('zeroed-run', base[:b2 + 20] + bytes(40) + base[b2 + 60:])
    damaged('junk-appended', base + b'this is not a block\n')
    # A frame start at the end whose length, though present, is out of range: damage, not a torn tail.
    damaged('bad-length-at-end', base + MARKER + bytes(6))
    damaged('block-duplicated', base[:b3] + base[b2:b2 + l2] + base[b3:])
    damaged('blocks-swapped', base[:b2] + base[b3:b3 + l3] + base[b2:b2 + l2] + base[b3 + l3:])
    damaged('unknown-incompatible-feature', fix_header_crc(base[:12] + struct.pack('<I', 1 << 7) + base[16:]))
    damaged('unknown-compatible-feature', fix_header_crc(base[:16] + struct.pack('<I', 1 << 3) + base[20:]))
    damaged('unsupported-version', fix_header_crc(base[:8] + struct.pack('<H', 2) + base[10:]))

    # A CRC-valid block with unknown record types (6, then 0 and 7) before and after its records.
    stored = base[b2 + 16:b2 + l2]
    payload = zlib.decompress(stored, -15)
    # Skip the preamble (three varints) to insert right after it.
    pos = 0
    for _ in range(3):
        while payload[pos] & 0x80:
            pos += 1
        pos += 1
    unknown6 = bytes([(4 << 3) | 6]) + b'\x01\x02\x03\x04'
    unknown0 = bytes([(2 << 3) | 0]) + b'\xff\xff'
    unknown7 = bytes([0x80 | (1 << 3) | 7, 0x01]) + b'\x00' * 17
    payload2 = payload[:pos] + unknown6 + payload[pos:] + unknown0 + unknown7
    damaged('unknown-record-type', base[:b2] + frame(raw_deflate(payload2)) + base[b2 + l2:])
    # A CRC-valid block whose payload uses an undefined label id: detected, costs only that block.
    pos_end = len(payload)
    bad = payload[:pos] + bytes([(5 << 3) | 2, 0, 0, 0x7F, 1, 1]) + payload[pos:]
    damaged('undefined-label-id', base[:b2] + frame(raw_deflate(bad)) + base[b2 + l2:])

    rnd = random.Random(5)
    damaged('random-bytes', bytes(rnd.randrange(256) for _ in range(2000)))
    damaged('json-text', intact['one-event'] and sources()['one-event'].encode())
    damaged('empty-file', b'')

    streams(damaged)
    tiers(convert, work)

    # Expected output of every case, default and --strict.
    for name in sorted(os.listdir(HERE)):
        d = os.path.join(HERE, name)
        if not os.path.isdir(d) or name.startswith('.'):
            continue
        record_expected(convert, d)
    # Golden output of decode --format and --resolution (Spec/OUTPUT.md), written by the
    # independent implementation in Spec/conformance (no Swift involved): FORMAT.EXT is
    # `--format EXT`, window-DURATION.EXT is `--resolution DURATION --format EXT`.
    output = os.path.join(HERE, '..', 'Spec', 'conformance', 'sslog_output.py')
    for name, files in OUTPUTS.items():
        d = os.path.join(HERE, name)
        target = 'input' if os.path.isdir(os.path.join(d, 'input')) else 'input.sslog'
        for file in files:
            stem, ext = file.rsplit('.', 1)
            args = ['--format', ext]
            if stem.startswith('window-'):
                args += ['--resolution', stem[len('window-'):]]
            p = subprocess.run([sys.executable, output] + args + [target], cwd=d, capture_output=True, check=True)
            with open(os.path.join(d, file), 'wb') as f:
                f.write(p.stdout)
    shutil.rmtree(work, ignore_errors=True)


def streams(damaged):
    """Export streams (Spec/FORMAT.md 16): segments of several-segments back to back."""
    d = os.path.join(HERE, 'several-segments', 'input')
    segs = [open(os.path.join(d, n), 'rb').read() for n in sorted(os.listdir(d))]
    # The whole directory as one stream: what `export -o -` writes.
    damaged('export-stream', b''.join(segs))
    # The second segment's header damaged (its blocks then belong to the piece
    # before: "block belongs to another segment"), and the first segment again
    # at the end (a duplicate, skipped).
    second = segs[1][:30] + bytes([segs[1][30] ^ 0x01]) + segs[1][31:]
    damaged('export-stream-damaged', segs[0] + second + segs[2] + segs[0])


def rollup_header(seq, ctime, window, source, first, last, length=72, incompat=1):
    """A rollup tier header (Spec/FORMAT.md 4.1): feature bit 0 and the tier's fields."""
    h = bytes([0x89, 0x53, 0x53, 0x4C, 0x0D, 0x0A, 0x1A, 0x0A]) + struct.pack('<HHIIQq', 1, length, incompat, 0, seq, ctime)
    h += struct.pack('<QQQQ', window, source, first, last)[:length - 40] + bytes(max(0, length - 72))
    return h[:length - 4] + struct.pack('<I', zlib.crc32(h[:length - 4]))


def segment_name(seq, window=0):
    units = [('d', 86400000), ('h', 3600000), ('m', 60000), ('s', 1000), ('ms', 1)]
    tier = '' if window == 0 else next('%d%s-' % (window // size, unit) for unit, size in units if window % size == 0)
    return 'sockstat-%s%020d.sslog' % (tier, seq)


def tiers(convert, work):
    """Rollup tiers (Spec/FORMAT.md 4.1, 10.4): a recorder's directory after its
    oldest segments were rolled up into a 1 min tier and the oldest of those into
    a 1 h tier, made as a recorder's rollups make them: the source segments
    decoded with --resolution, the events encoded, the header made a rollup
    header holding exactly those sources (here, by Python)."""
    src = os.path.join(work, 'tiers')
    os.makedirs(src)
    with open(os.path.join(src, 'workload.jsonl'), 'w') as f:
        f.write(workload(2, 9))
    code, _, err = run(convert, ['encode', '--input', 'workload.jsonl', '--output', 'raw', '--max-segment-bytes', '8192'], src)
    assert code == 0, err
    raw = {n: open(os.path.join(src, 'raw', segment_name(n)), 'rb').read() for n in range(1, len(os.listdir(os.path.join(src, 'raw'))) + 1)}
    made = [0]

    def rollup(sources, source_window, window, seq, flush_seconds):
        """The tier segment `seq` of `window` holding `sources` (name -> bytes) of the source tier."""
        made[0] += 1
        d = os.path.join(src, 'rollup-%d' % made[0])
        os.makedirs(d)
        paths = []
        for name, data in sources:
            paths.append(os.path.join(d, name))
            with open(paths[-1], 'wb') as f:
                f.write(data)
        code, out, err = run(convert, ['decode', '--resolution', '%dms' % window] + paths, d)
        assert code == 0, err
        with open(os.path.join(d, 'windows.jsonl'), 'wb') as f:
            f.write(out)
        # The encoder numbers its segments after the highest present: a header-only
        # segment seq - 1 makes the one written carry seq (in its blocks too).
        os.makedirs(os.path.join(d, 'out'))
        if seq > 1:
            with open(os.path.join(d, 'out', segment_name(seq - 1)), 'wb') as f:
                f.write(header(seq - 1, 0))
        code, _, err = run(convert, ['encode', '--input', 'windows.jsonl', '--output', 'out', '--max-segment-bytes', '16777216',
                                     '--flush-interval', str(flush_seconds)], d)
        assert code == 0, err
        data = open(os.path.join(d, 'out', segment_name(seq)), 'rb').read()
        assert sorted(os.listdir(os.path.join(d, 'out'))) == sorted({segment_name(seq), segment_name(max(seq - 1, 1))})
        assert data[20:28] == struct.pack('<Q', seq)
        numbers = [struct.unpack_from('<Q', b, 20)[0] for _, b in sources]
        (ctime,) = struct.unpack_from('<q', data, 28)
        return rollup_header(seq, ctime, window, source_window, min(numbers), max(numbers)) + data[40:]

    n = len(raw)
    assert n >= 40, n
    kept_raw = 2                       # the newest recorded segments stay as they are
    groups = [list(range(i, min(i + 8, n - kept_raw + 1))) for i in range(1, n - kept_raw + 1, 8)]
    minutes = {j: rollup([(segment_name(k), raw[k]) for k in g], 0, 60000, j, 86400) for j, g in enumerate(groups, 1)}
    hour_groups = [[1, 2], [3, 4]]
    hours = {j: rollup([(segment_name(k, 60000), minutes[k]) for k in g], 60000, 3600000, j, 1000000)
             for j, g in enumerate(hour_groups, 1)}
    assert len(minutes) > 5
    remaining = {}
    for j, data in hours.items():
        remaining[segment_name(j, 3600000)] = data
    for j, data in minutes.items():
        if j > 4:
            remaining[segment_name(j, 60000)] = data
    for k in range(n - kept_raw + 1, n + 1):
        remaining[segment_name(k)] = raw[k]

    def directory(case, files):
        d = os.path.join(HERE, case, 'input')
        os.makedirs(d)
        for name, data in files.items():
            with open(os.path.join(d, name), 'wb') as f:
                f.write(data)

    directory('tiered-directory', remaining)
    # Cut mid-rollup: a recorder stopped after writing a tier segment and before
    # deleting its sources: 1 min segment 4 (held by 1 h segment 2) and the last
    # rolled-up recorded segment (held by the newest 1 min segment) are still there.
    cut = dict(remaining)
    cut[segment_name(4, 60000)] = minutes[4]
    cut[segment_name(n - kept_raw)] = raw[n - kept_raw]
    directory('tiered-mid-rollup', cut)
    # The same as one export stream (Spec/FORMAT.md 16), in directory order:
    # the held pieces are skipped there too.
    order = sorted(cut, key=lambda name: (-(60000 if '-1m-' in name else 3600000 if '-1h-' in name else 0), name))
    d = os.path.join(HERE, 'tiered-stream')
    os.makedirs(d)
    with open(os.path.join(d, 'input.sslog'), 'wb') as f:
        f.write(b''.join(cut[name] for name in order))
    # A tier segment whose header is damaged: its key comes from its name, so it
    # is still read in its place (after the 1 h tier, first of the 1 min tier).
    damaged_header = dict(remaining)
    first_minute = segment_name(5, 60000)
    data = damaged_header[first_minute]
    damaged_header[first_minute] = data[:30] + bytes([data[30] ^ 0x01]) + data[31:]
    directory('tiered-damaged-header', damaged_header)
    # Bit 0 with fields that break the rules (or no room for them): refused.
    body = minutes[1][72:]
    (ctime,) = struct.unpack_from('<q', minutes[1], 28)
    directory('rollup-header-invalid', {
        segment_name(1, 60000): rollup_header(1, ctime, 60000, 60000, 1, 4) + body,        # source window not below R
        segment_name(2, 60000): rollup_header(1, ctime, 60000, 0, 5, 4) + body,            # first source after last
        segment_name(3, 60000): rollup_header(1, ctime, 0, 0, 1, 4) + body,                # window 0
        segment_name(4, 60000): rollup_header(1, ctime, 366 * 86400000 + 1, 0, 1, 4) + body,  # window past 366 days
        segment_name(5, 60000): rollup_header(1, ctime, 60000, 0, 1, 4, length=40) + body,  # bit 0, n = 40
    })


def record_expected(convert, d):
    """Writes the expected output of the case in folder d, default and --strict."""
    target = 'input' if os.path.isdir(os.path.join(d, 'input')) else 'input.sslog'
    for mode, extra in (('expected', []), ('strict', ['--strict'])):
        code, out, err = run(convert, ['decode'] + extra + [target], d)
        if mode == 'strict' and code == 0:
            continue  # intact input: --strict must give exactly the default output
        with open(os.path.join(d, mode + '.jsonl'), 'wb') as f:
            f.write(out)
        with open(os.path.join(d, mode + '.stderr'), 'wb') as f:
            f.write(err)
        with open(os.path.join(d, mode + '.exit'), 'w') as f:
            f.write('%d\n' % code)


# Which intact cases have golden --format/--resolution output, and which.
OUTPUTS = {
    'cellular': ['format.csv', 'format.tsv', 'window-1s.jsonl', 'window-1s.csv'],
    'unicode-labels': ['format.csv', 'format.tsv', 'window-1s.jsonl'],
    'extreme-values': ['format.csv', 'format.tsv', 'window-1d.jsonl', 'window-1ms.jsonl'],
    'windows-and-overflow': ['format.csv', 'window-1s.jsonl', 'window-1s.csv', 'window-1s.tsv', 'window-1000ms.jsonl'],
    'several-blocks': ['format.csv', 'window-10s.jsonl', 'window-1m.csv'],
    # Across tiers: a resolution finer than a tier's is given at the tier's.
    'tiered-directory': ['window-10s.jsonl', 'window-1m.jsonl', 'window-1h.jsonl', 'window-1d.csv'],
}


if __name__ == '__main__':
    main()
