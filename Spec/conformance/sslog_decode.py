#!/usr/bin/env python3
"""Independent SockStatLog v1 decoder, written from Spec/FORMAT.md only.

A separate session wrote this from the Spec without reading the Swift sources,
to check that the Spec suffices; it was then updated where the Spec was
clarified (bad-magic offset, torn-tail length rule, directory order and
duplicates, section 10.4) and when the frame gained its header check
(section 5, 2026-12-01), to read export streams (section 16: several
segments back to back in one file or on standard input), and for rollup
tiers (section 4.1: incompatible feature bit 0; section 10.4: keys of a
window and a sequence number, coarse tiers first, held segments skipped;
section 11: tier names). FixtureTests runs it over every fixture and
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
ROLLUP = 1                 # incompatible feature bit 0 (Spec 4, 4.1)
MAX_WINDOW = 31622400000   # 366 days (Spec 4.1)
WINDOW_UNITS = [("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)]


def window_text(r):
    """A tier window's text in names (Spec 11): the largest unit that divides it."""
    for unit, size in WINDOW_UNITS:
        if r % size == 0:
            return "%d%s" % (r // size, unit)


def window_of_text(text):
    """The window a name's text spells, or None when it is not exactly a window's text."""
    for unit, size in sorted(WINDOW_UNITS, key=lambda u: -len(u[0])):
        digits = text[:-len(unit)]
        if text.endswith(unit) and digits and all(c in "0123456789" for c in digits) and digits[0] != "0":
            r = int(digits) * size
            if 1 <= r <= MAX_WINDOW and window_text(r) == text:
                return r
            return None
    return None


def name_key(name):
    """(window, sequence) from a segment's file name (Spec 10.4 rule 2), or None."""
    if not (name.startswith("sockstat-") and name.endswith(".sslog")):
        return None
    mid = name[len("sockstat-"):-len(".sslog")]
    digits = mid[-20:]
    if len(digits) != 20 or not all(c in "0123456789" for c in digits) or int(digits) > MASK64:
        return None
    if len(mid) == 20:
        return 0, int(digits)
    if len(mid) > 21 and mid[-21] == "-":
        r = window_of_text(mid[:-21])
        if r is not None:
            return r, int(digits)
    return None


def tier_fields(data, n):
    """(window, source window, first, last) of a rollup header of n bytes, or None when invalid (Spec 4.1)."""
    if n < 72:
        return None
    r, src, first, last = struct.unpack_from("<QQQQ", data, 36)
    if not 1 <= r <= MAX_WINDOW or src >= r or first > last:
        return None
    return r, src, first, last


def intact_header(data):
    """Whether data starts with an intact header (Spec 10.4 rule 1): its length n, else None."""
    if len(data) < 40 or data[:8] != MAGIC:
        return None
    n = struct.unpack_from("<H", data, 10)[0]
    if n < 40 or n > 4096 or n > len(data):
        return None
    if zlib.crc32(data[:n - 4]) != struct.unpack_from("<I", data, n - 4)[0]:
        return None
    return n


def intact_tier(data):
    """The tier fields of an intact version 1 header with bit 0 and valid fields, else None."""
    n = intact_header(data)
    if n is None:
        return None
    version, _, incompat = struct.unpack_from("<HHI", data, 8)
    if version != 1 or not incompat & ROLLUP:
        return None
    return tier_fields(data, n)


def file_key(data, name):
    """A file's key (window, sequence), Spec 10.4: from an intact header, else from its name, else None."""
    if data is not None and intact_header(data) is not None:
        tier = intact_tier(data)
        return (tier[0] if tier else 0), struct.unpack_from("<Q", data, 20)[0]
    return name_key(name) if name is not None else None


def describe(window, seq):
    return "segment %d" % seq if window == 0 else "%s segment %d" % (window_text(window), seq)


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
        if incompat & ~ROLLUP:
            return "features", incompat & ~ROLLUP
        seq = struct.unpack_from("<Q", data, 20)[0]
        tier = None
        if incompat & ROLLUP:
            tier = tier_fields(data, n)
            if tier is None:
                return "tier", None
        return "ok", (n, seq, tier)

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
        if kind == "tier":
            self.damage(path, 36, "invalid rollup tier header")
            return
        if kind == "damaged":
            self.damage(path, 0, info, min(40, size))
            pos = 40
            seq = None
        else:
            pos, seq, tier = info
            # A key names a segment within its directory (Spec 10.4).
            key = (scope_of(path if scope_path is None else scope_path), tier[0] if tier else 0, seq)
            if key in self.seen:
                self.damage(path, 0, "%s already read from %s" % (describe(key[1], seq), self.seen[key]))
                return
            self.seen[key] = path
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
        return data[off:off + 8] == MAGIC and intact_header(data[off:off + 4096]) is not None

    def read_error(self, path, error):
        self.damage(path, 0, "cannot read (%s)" % error)

    # --- the run: every input's segments listed first, for held segments (Spec 10.4) ---
    def stream_units(self, path):
        """A file or standard input: one segment, or several back to back (Spec 16)."""
        try:
            if path == "-":
                data = sys.stdin.buffer.read(MAX_FILE + 1)
            else:
                with open(path, "rb") as f:
                    data = f.read(MAX_FILE + 1)
        except OSError as e:
            return [(self.read_error, (path, e))]
        if len(data) > MAX_FILE:
            return [(self.read_segment, (path, data))]  # refused as too large
        starts = [0]
        off = data.find(MAGIC, 1)
        while off != -1:
            if self.intact_header_at(data, off):
                starts.append(off)
                off = data.find(MAGIC, off + 40)
            else:
                off = data.find(MAGIC, off + 1)
        ends = starts[1:] + [len(data)]
        units = []
        for start, end in zip(starts, ends):
            name = path if start == 0 else "%s at byte %d" % (path, start)
            piece = data if len(starts) == 1 else data[start:end]
            # Only a whole file's name (or its first piece's) can give a key.
            base = os.path.basename(path) if start == 0 and path != "-" else None
            units.append((self.read_unit, (name, piece, path, base)))
        return units

    def dir_units(self, path):
        try:
            names = sorted(os.listdir(path))
        except OSError as e:
            return [(self.damage, (path, 0, "cannot list directory (%s)" % e))]
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
            key = file_key(data, name)
            # Longer windows first, the recorded events (window 0) last; then
            # sequence; then name bytes; files without a key after all others.
            order = (0, -key[0], key[1]) if key is not None else (1, 0, 0)
            items.append((order + (name.encode("utf-8", "surrogateescape"),), full, data, name))
        items.sort(key=lambda x: x[0])
        return [(self.read_unit, (full, data, full, name)) for _, full, data, name in items]

    def read_unit(self, name, data, scope_path, base):
        """One segment of the run, unless a tier segment of the run holds it (Spec 10.4)."""
        if data is None:
            self.read_segment(name)
            return
        if len(data) <= MAX_FILE:
            key = file_key(data, base)
            if key is not None:
                scope = scope_of(scope_path)
                for hscope, src, first, last, holder in self.holdings:
                    if hscope == scope and src == key[0] and first <= key[1] <= last and holder != name:
                        # Not damage: its events are in the holder (exit status unaffected).
                        sys.stderr.write("%s: %s is already rolled up into %s; skipped\n" % (name, describe(*key), holder))
                        return
        self.read_segment(name, data, scope_path=scope_path)

    def run(self, paths):
        units = []
        for p in paths:
            units += self.dir_units(p) if os.path.isdir(p) else self.stream_units(p)
        # What the tier headers of the run hold, known before anything is read.
        self.holdings = []
        for fn, args in units:
            if fn == self.read_unit and args[1] is not None and len(args[1]) <= MAX_FILE:
                tier = intact_tier(args[1])
                if tier is not None:
                    self.holdings.append((scope_of(args[2]), tier[1], tier[2], tier[3], args[0]))
        for fn, args in units:
            fn(*args)


def scope_of(path):
    """The directory a key is in (Spec 10.4): the normalized directory part; standard input its own."""
    return "-" if path == "-" else os.path.normpath(os.path.dirname(path))


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
        r.run(paths)
    except StrictStop:
        sys.stdout.flush()
        return 2
    sys.stdout.flush()
    return 1 if r.damaged else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
