#!/usr/bin/env python3
"""Independent implementation of Spec/OUTPUT.md: decode --format and --resolution.

Written from Spec/OUTPUT.md, not from the Swift sources. Events come from the
independent decoder beside it (sslog_decode.py, written from Spec/FORMAT.md),
with their raw label bytes; this script only turns them into CSV, TSV or
windowed output. Fixtures/make-fixtures.py writes the golden output files with
it, and FixtureTests checks that sockstat-convert and this script both give them.

Usage: python3 sslog_output.py [--format jsonl|csv|tsv] [--resolution DURATION]
                               [--since MS] [--until MS] [--no-header] PATH...
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sslog_decode  # noqa: E402

I64MIN = -(1 << 63)
U64MAX = (1 << 64) - 1
UNITS = {'ms': 1, 's': 1000, 'm': 60000, 'h': 3600000, 'd': 86400000}
canonical_json = sslog_decode.event_json


def duration(text):
    m = re.fullmatch(r'([0-9]+)(ms|s|m|h|d)', text)
    if not m:
        raise SystemExit('bad duration %r' % text)
    ms = int(m.group(1)) * UNITS[m.group(2)]
    if not 0 < ms <= 366 * 86400000:
        raise SystemExit('duration out of range %r' % text)
    return ms


def replaced(label):
    """The label's text as canonical JSON gives it, unescaped: each byte that
    does not start a valid UTF-8 sequence becomes U+FFFD (Go's rule)."""
    out = bytearray()
    i = 0
    while i < len(label):
        k = sslog_decode._decode_rune_len(label, i)
        if k == 0:
            out += '\ufffd'.encode()
            i += 1
        else:
            out += label[i:i + k]
            i += k
    return bytes(out)


def csv_field(label):
    text = replaced(label)
    if text == b'' or any(c in text for c in b',"\r\n'):
        return b'"' + text.replace(b'"', b'""') + b'"'
    return text


def tsv_field(label):
    text = replaced(label)
    return (text.replace(b'\\', b'\\\\').replace(b'\t', b'\\t')
            .replace(b'\n', b'\\n').replace(b'\r', b'\\r'))


class Table:
    def __init__(self, out, sep, field, header):
        self.out, self.sep, self.field = out, sep, field
        if header:
            out.write(sep.join([b't', b'd', b'c', b'label', b'tx', b'rx']) + b'\n')

    def __call__(self, t, d, cell, stats):
        for label in sorted(stats):  # raw bytes order, as canonical JSON
            tx, rx = stats[label]
            self.out.write(self.sep.join([b'%d' % t, b'%d' % d, b'1' if cell else b'0',
                                          self.field(label), b'%d' % tx, b'%d' % rx]) + b'\n')


class Windows:
    """OUTPUT.md "Windows": one window at a time, a run of events in it."""

    def __init__(self, resolution, sink):
        self.r, self.sink = resolution, sink
        self.current = None          # (start, length)
        self.sums = {False: None, True: None}  # network -> {label: [tx, rx]} or None

    def window(self, t):
        start = t - t % self.r      # Python's % floors: also right for negative t
        if start < I64MIN:
            return I64MIN, start + self.r - I64MIN
        return start, self.r

    def __call__(self, t, d, cell, stats):
        if d > self.r:
            # Already coarser than asked (a tier's event): ends the run, written unchanged.
            self.close()
            self.current = None
            self.sink(t, d, cell, stats)
            return
        w = self.window(t)
        if self.current is not None and w[0] != self.current[0]:
            self.close()
        self.current = w
        sums = self.sums[cell]
        if sums is None:
            sums = self.sums[cell] = {}
        elif any(l in sums and (sums[l][0] + tx > U64MAX or sums[l][1] + rx > U64MAX)
                 for l, (tx, rx) in stats.items()):
            self.sink(w[0], w[1], cell, sums)
            sums = self.sums[cell] = {}
        for label, (tx, rx) in stats.items():
            s = sums.setdefault(label, [0, 0])
            s[0] += tx
            s[1] += rx

    def close(self):
        for cell in (False, True):
            if self.sums[cell] is not None:
                self.sink(self.current[0], self.current[1], cell, self.sums[cell])
                self.sums[cell] = None


def main(argv):
    fmt, resolution, since, until, header, paths = 'jsonl', None, None, None, True, []
    # --name=value is --name value (for negative times).
    args = iter([part for a in argv for part in (a.split('=', 1) if a.startswith('--') and '=' in a else [a])])
    for a in args:
        if a == '--format':
            fmt = next(args)
        elif a == '--resolution':
            resolution = duration(next(args))
        elif a == '--since':
            since = int(next(args))
        elif a == '--until':
            until = int(next(args))
        elif a == '--no-header':
            header = False
        else:
            paths.append(a)
    out = sys.stdout.buffer
    if fmt == 'jsonl':
        sink = lambda t, d, cell, stats: out.write(canonical_json(t, d, cell, stats))  # noqa: E731
    elif fmt == 'csv':
        sink = Table(out, b',', csv_field, header)
    elif fmt == 'tsv':
        sink = Table(out, b'\t', tsv_field, header)
    else:
        raise SystemExit('bad format %r' % fmt)
    windows = Windows(resolution, sink) if resolution else None
    first = windows or sink

    def event(t, d, cell, stats):
        # Filter by the event's own t first, then window (OUTPUT.md).
        if (since is None or t >= since) and (until is None or t < until):
            first(t, d, cell, dict(stats))
        return b''

    sslog_decode.event_json = event
    code = sslog_decode.main(paths)
    if windows:
        windows.close()
    out.flush()
    return code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
