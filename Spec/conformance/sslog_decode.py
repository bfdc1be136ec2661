#!/usr/bin/env python3
"""Independent SockStatLog v1 decoder, written from Spec/FORMAT.md only.

A separate session wrote this from the Spec without reading the Swift sources,
to check that the Spec suffices; it was then updated where the Spec was
clarified (bad-magic offset, torn-tail length rule, directory order and
duplicates, section 10.4) and when the frame gained its header check
(section 5, 2026-12-01), and to read export streams (section 16: several
segments back to back in one file or on standard input). FixtureTests runs it over every fixture and
requires the same stdout and exit code as sockstat-convert.

Usage: python3 sslog_decode.py [--strict] PATH...   (PATH: a segment file, a stream, a directory, or -)
"""
import os
import struct
import sys
import zlib

MAGIC = b"\x89SSL\r\n\x1a\n"
MARKER = b"\xb5\x0c\x4b\x1d"
MAX_STORED = 4259840
MAX_PAYLOAD = 4194304
MAX_FILE = 1 << 26
MASK64 = (1 << 64) - 1


class Damage(Exception):
    pass


class StrictStop(Exception):
    pass


def to_i64(u):
    u &= MASK64
    return u - (1 << 64) if u >= (1 << 63) else u


def unzig(u):
    return to_i64((u >> 1) ^ -(u & 1))


def varint(b, i, end=None):
    if end is None:
        end = len(b)
    v = 0
    shift = 0
    n = 0
    while True:
        if i >= end:
            raise Damage("truncated varint")
        x = b[i]
        i += 1
        n += 1
        if n == 10 and x > 1:
            raise Damage("varint does not fit 64 bits")
        v |= (x & 0x7F) << shift
        shift += 7
        if x < 0x80:
            if n >= 2 and x == 0:
                raise Damage("overlong varint")
            return v, i


# ---------------- canonical JSON ----------------

def _decode_rune_len(b, i):
    """Return length of valid UTF-8 sequence at i, or 0 if invalid (Go's RuneError,1)."""
    n = len(b)
    c = b[i]
    if c < 0x80:
        return 1
    def cont(k, lo=0x80, hi=0xBF):
        return k < n and lo <= b[k] <= hi
    if 0xC2 <= c <= 0xDF:
        return 2 if cont(i + 1) else 0
    if c == 0xE0:
        return 3 if cont(i + 1, 0xA0) and cont(i + 2) else 0
    if 0xE1 <= c <= 0xEC or 0xEE <= c <= 0xEF:
        return 3 if cont(i + 1) and cont(i + 2) else 0
    if c == 0xED:
        return 3 if cont(i + 1, 0x80, 0x9F) and cont(i + 2) else 0
    if c == 0xF0:
        return 4 if cont(i + 1, 0x90) and cont(i + 2) and cont(i + 3) else 0
    if 0xF1 <= c <= 0xF3:
        return 4 if cont(i + 1) and cont(i + 2) and cont(i + 3) else 0
    if c == 0xF4:
        return 4 if cont(i + 1, 0x80, 0x8F) and cont(i + 2) and cont(i + 3) else 0
    return 0


_SIMPLE = {0x22: b'\\"', 0x5C: b"\\\\", 0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t",
           0x08: b"\\b", 0x0C: b"\\f", 0x3C: b"\\u003c", 0x3E: b"\\u003e", 0x26: b"\\u0026"}


def json_string(b):
    out = bytearray(b'"')
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            e = _SIMPLE.get(c)
            if e is not None:
                out += e
            elif c < 0x20:
                out += b"\\u00%02x" % c
            else:
                out.append(c)
            i += 1
            continue
        k = _decode_rune_len(b, i)
        if k == 0:
            out += b"\\ufffd"
            i += 1
            continue
        seq = b[i:i + k]
        if seq == b"\xe2\x80\xa8":
            out += b"\\u2028"
        elif seq == b"\xe2\x80\xa9":
            out += b"\\u2029"
        else:
            out += seq
        i += k
    out += b'"'
    return bytes(out)


def event_json(t, d, cell, stats):
    parts = [b'{"t":', str(t).encode(), b',"d":', str(d).encode()]
    if cell:
        parts.append(b',"c":1')
    parts.append(b',"s":{')
    first = True
    for label in sorted(stats):
        tx, rx = stats[label]
        if not first:
            parts.append(b",")
        first = False
        parts.append(json_string(label))
        parts.append(b":[%d,%d]" % (tx, rx))
    parts.append(b"}}\n")
    return b"".join(parts)


# ---------------- reader ----------------

class Reader:
    def __init__(self, strict):
        self.strict = strict
        self.damaged = False
        self.out = sys.stdout.buffer
        self.seen = {}  # (directory, sequence) -> path, for valid headers (Spec 10.4)

    def damage(self, path, offset, reason, skipped=None):
        self.damaged = True
        if skipped is None:
            msg = "%s: offset %d: %s\n" % (path, offset, reason)
        else:
            msg = "%s: offset %d: %s; skipped %d bytes\n" % (path, offset, reason, skipped)
        sys.stderr.write(msg)
        sys.stderr.flush()
        if self.strict:
            raise StrictStop()

    def note(self, path, offset, reason):
        sys.stderr.write("%s: offset %d: note: %s\n" % (path, offset, reason))

    # --- header ---
    @staticmethod
    def parse_header(data):
        """Return (kind, info). kind: 'empty', 'badmagic', 'damaged', 'version', 'features', 'ok'."""
        size = len(data)
        if size == 0:
            return "empty", 0
        k = min(8, size)
        for i in range(k):
            if data[i] != MAGIC[i]:
                return "badmagic", i
        if size < 40:
            return "damaged", "segment header truncated"
        n = struct.unpack_from("<H", data, 10)[0]
        if n < 40 or n > 4096 or n > size:
            return "damaged", "bad segment header length %d" % n
        crc = struct.unpack_from("<I", data, n - 4)[0]
        if zlib.crc32(data[0:n - 4]) != crc:
            return "damaged", "segment header checksum mismatch"
        version = struct.unpack_from("<H", data, 8)[0]
        if version != 1:
            return "version", version
        incompat = struct.unpack_from("<I", data, 12)[0]
        if incompat != 0:
            return "features", incompat
        seq = struct.unpack_from("<Q", data, 20)[0]
        return "ok", (n, seq)

    @staticmethod
    def frame_valid(data, pos):
        """End of the frame at pos if it is valid (Spec 5), else None."""
        size = len(data)
        if pos + 16 > size:
            return None
        if data[pos:pos + 4] != MARKER:
            return None
        m = struct.unpack_from("<I", data, pos + 4)[0]
        if m < 1 or m > MAX_STORED:
            return None
        if zlib.crc32(data[pos:pos + 12]) != struct.unpack_from("<I", data, pos + 12)[0]:
            return None
        end = pos + 16 + m
        if end > size:
            return None
        if zlib.crc32(data[pos + 16:end]) != struct.unpack_from("<I", data, pos + 8)[0]:
            return None
        return end

    @staticmethod
    def incomplete(data, pos):
        rest = data[pos:]
        r = len(rest)
        if r == 0:
            return False
        k = min(4, r)
        if rest[:k] != MARKER[:k]:
            return False
        if r < 8:
            return True
        m = struct.unpack_from("<I", rest, 4)[0]
        if not 1 <= m <= MAX_STORED:
            return False
        if r >= 16 and zlib.crc32(rest[:12]) != struct.unpack_from("<I", rest, 12)[0]:
            return False
        return 16 + m > r

    @staticmethod
    def decode_block(stored):
        d = zlib.decompressobj(-15)
        try:
            payload = d.decompress(stored, MAX_PAYLOAD + 1)
        except zlib.error as e:
            raise Damage("bad DEFLATE data (%s)" % e)
        if len(payload) > MAX_PAYLOAD:
            raise Damage("payload inflates past 4 MiB")
        if not d.eof:
            raise Damage("DEFLATE stream incomplete")
        if d.unused_data or d.unconsumed_tail:
            raise Damage("bytes after the DEFLATE stream")
        p = payload
        n = len(p)
        seq, i = varint(p, 0)
        idx, i = varint(p, i)
        u, i = varint(p, i)
        base = unzig(u)
        labels = {}
        label_set = set()
        events = []
        end = base
        prev_d = 0
        while i < n:
            rec_off = i
            h, i = varint(p, i)
            typ = h & 7
            length = h >> 3
            if length > n - i:
                raise Damage("record at payload offset %d runs past the payload" % rec_off)
            bstart = i
            bend = i + length
            i = bend
            if typ == 1:
                lid, j = varint(p, bstart, bend)
                if lid >= 65536:
                    raise Damage("label id %d out of range" % lid)
                if lid in labels:
                    raise Damage("label id %d defined twice" % lid)
                lab = bytes(p[j:bend])
                if len(lab) > 1024:
                    raise Damage("label longer than 1024 bytes")
                if lab in label_set:
                    raise Damage("label defined under two ids")
                labels[lid] = lab
                label_set.add(lab)
            elif typ in (2, 3, 4, 5):
                if typ in (2, 3):
                    g, j = varint(p, bstart, bend)
                else:
                    g, j = 0, bstart  # types 4/5: ADJACENT events, gap 0 not stored (Spec 6.2)
                dd, j = varint(p, j, bend)
                t = to_i64(end + unzig(g))
                dur = to_i64(prev_d + unzig(dd))
                end = to_i64(t + dur)
                prev_d = dur
                stats = {}
                seen = set()
                count = 0
                while j < bend:
                    lid, j = varint(p, j, bend)
                    tx, j = varint(p, j, bend)
                    rx, j = varint(p, j, bend)
                    if lid not in labels:
                        raise Damage("event at payload offset %d uses undefined label id %d" % (rec_off, lid))
                    if lid in seen:
                        raise Damage("label id %d twice in one event" % lid)
                    seen.add(lid)
                    count += 1
                    if count > 1024:
                        raise Damage("more than 1024 labels in one event")
                    stats[labels[lid]] = (tx, rx)
                events.append(event_json(t, dur, typ in (3, 5), stats))
            # other types: skipped
        return seq, idx, events

    def read_segment(self, path, data=None, header=None, scope_path=None):
        if data is None:
            try:
                with open(path, "rb") as f:
                    data = f.read(MAX_FILE + 1)
            except OSError as e:
                self.damage(path, 0, "cannot read (%s)" % e)
                return
        size = len(data)
        if size > MAX_FILE:
            self.damage(path, 0, "file larger than 64 MiB, refused")
            return
        if header is None:
            header = self.parse_header(data)
        kind, info = header
        if kind == "empty":
            self.damage(path, 0, "empty file, not a segment")
            return
        if kind == "badmagic":
            self.damage(path, info, "not a segment (bad magic)")
            return
        if kind == "version":
            self.damage(path, 8, "unsupported version %d" % info)
            return
        if kind == "features":
            self.damage(path, 12, "unsupported incompatible features 0x%x" % info)
            return
        if kind == "damaged":
            self.damage(path, 0, info, min(40, size))
            pos = 40
            seq = None
        else:
            pos, seq = info
            # A sequence number names a segment within its directory (Spec 10.4).
            scope_path = path if scope_path is None else scope_path
            scope = "-" if scope_path == "-" else os.path.normpath(os.path.dirname(scope_path))
            if (scope, seq) in self.seen:
                self.damage(path, 0, "segment %d already read from %s" % (seq, self.seen[(scope, seq)]))
                return
            self.seen[(scope, seq)] = path
        last_idx = None
        while pos < size:
            fend = self.frame_valid(data, pos)
            if fend is not None:
                try:
                    bseq, idx, events = self.decode_block(data[pos + 16:fend])
                    if seq is not None and bseq != seq:
                        raise Damage("block belongs to another segment (sequence %d, expected %d)" % (bseq, seq))
                    if last_idx is not None and idx <= last_idx:
                        raise Damage("block %d out of order after block %d" % (idx, last_idx))
                except Damage as e:
                    self.damage(path, pos, str(e), fend - pos)
                    pos = fend
                    continue
                if seq is None:
                    seq = bseq
                last_idx = idx
                self.out.write(b"".join(events))
                pos = fend
                continue
            nxt = None
            q = pos + 1
            while True:
                q = data.find(MARKER, q)
                if q < 0:
                    break
                if self.frame_valid(data, q) is not None:
                    nxt = q
                    break
                q += 1
            if nxt is not None:
                self.damage(path, pos, "invalid block frame", nxt - pos)
                pos = nxt
                continue
            if self.incomplete(data, pos):
                self.note(path, pos, "incomplete last block (torn write), %d bytes ignored" % (size - pos))
            elif data[pos:].count(0) == size - pos:
                self.note(path, pos, "zero-filled tail, %d bytes ignored" % (size - pos))
            else:
                self.damage(path, pos, "invalid block frame (to end of file)", size - pos)
            break

    @staticmethod
    def intact_header_at(data, off):
        """Whether an intact segment header (Spec 10.4) starts at data[off]."""
        if data[off:off + 8] != MAGIC or len(data) - off < 40:
            return False
        n = struct.unpack_from("<H", data, off + 10)[0]
        if n < 40 or n > 4096 or off + n > len(data):
            return False
        return zlib.crc32(data[off:off + n - 4]) == struct.unpack_from("<I", data, off + n - 4)[0]

    def read_stream(self, path):
        """A file or standard input: one segment, or several back to back (Spec 16)."""
        try:
            if path == "-":
                data = sys.stdin.buffer.read(MAX_FILE + 1)
            else:
                with open(path, "rb") as f:
                    data = f.read(MAX_FILE + 1)
        except OSError as e:
            self.damage(path, 0, "cannot read (%s)" % e)
            return
        if len(data) > MAX_FILE:
            self.read_segment(path, data)  # refused as too large
            return
        starts = [0]
        off = data.find(MAGIC, 1)
        while off != -1:
            if self.intact_header_at(data, off):
                starts.append(off)
                off = data.find(MAGIC, off + 40)
            else:
                off = data.find(MAGIC, off + 1)
        ends = starts[1:] + [len(data)]
        for start, end in zip(starts, ends):
            name = path if start == 0 else "%s at byte %d" % (path, start)
            piece = data if len(starts) == 1 else data[start:end]
            self.read_segment(name, piece, scope_path=path)

    def read_dir(self, path):
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            self.damage(path, 0, "cannot list directory (%s)" % e)
            return
        items = []
        for name in names:
            if not name.endswith(".sslog") or name.startswith("."):
                continue
            full = os.path.join(path, name)
            if not os.path.isfile(full):
                continue
            try:
                with open(full, "rb") as f:
                    data = f.read(MAX_FILE + 1)
            except OSError:
                data = None
            header = self.parse_header(data) if data is not None and len(data) <= MAX_FILE else ("empty", 0)
            key = None
            if header[0] in ("ok",):
                key = header[1][1]
            elif header[0] in ("version", "features"):
                key = struct.unpack_from("<Q", data, 20)[0]
            else:
                stem = name[:-len(".sslog")]
                digits = stem[9:]
                if stem.startswith("sockstat-") and len(digits) == 20 and digits.isdigit() and digits.isascii():
                    key = int(digits)
            grp = 0 if key is not None else 1
            items.append(((grp, key if key is not None else 0, name.encode("utf-8", "surrogateescape")), full, data, header, key))
        items.sort(key=lambda x: x[0])
        for _, full, data, header, key in items:
            if data is None:
                self.read_segment(full)
            else:
                self.read_segment(full, data, header)


def main(argv):
    strict = False
    paths = []
    for a in argv:
        if a == "--strict":
            strict = True
        else:
            paths.append(a)
    if not paths:
        sys.stderr.write("usage: sslog_decode.py [--strict] PATH...\n")
        return 2
    r = Reader(strict)
    try:
        for p in paths:
            if os.path.isdir(p):
                r.read_dir(p)
            else:
                r.read_stream(p)
    except StrictStop:
        sys.stdout.flush()
        return 2
    sys.stdout.flush()
    return 1 if r.damaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
