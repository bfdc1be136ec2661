package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestRangeChecksumsEqualDirectOnes(t *testing.T) {
	data := make([]byte, 3000)
	rand.New(rand.NewSource(1)).Read(data)
	c := newRangeChecksummer(data)
	for a := 0; a <= len(data); a += 37 {
		for b := a; b <= len(data); b += 53 {
			if got, want := c.checksum(a, b), crc32.ChecksumIEEE(data[a:b]); got != want {
				t.Fatalf("crc[%d:%d] = %#x, want %#x", a, b, got, want)
			}
		}
	}
}

func TestVarintBoundaries(t *testing.T) {
	good := []struct {
		bytes []byte
		value uint64
	}{
		{[]byte{0}, 0}, {[]byte{0x7F}, 127}, {[]byte{0x80, 1}, 128}, {[]byte{0xAC, 2}, 300},
		{[]byte{0x80, 0x80, 1}, 16384},
		{[]byte{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1}, 1<<64 - 1},
	}
	for _, c := range good {
		if v, n, err := readVarint(c.bytes); err != nil || v != c.value || n != len(c.bytes) {
			t.Errorf("%x: %d %d %v", c.bytes, v, n, err)
		}
	}
	bad := [][]byte{
		{}, {0x80}, {0xFF, 0xFF},
		{0x80, 0},
		{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 2},
		{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0},
	}
	for _, b := range bad {
		if _, _, err := readVarint(b); err == nil {
			t.Errorf("%x accepted", b)
		}
	}
	for n, u := range map[int64]uint64{0: 0, -1: 1, 1: 2, -2: 3, 1<<63 - 1: 1<<64 - 2, -1 << 63: 1<<64 - 1} {
		if unzigzag(u) != n {
			t.Errorf("unzigzag(%d) = %d", u, unzigzag(u))
		}
	}
}

func deflate(t *testing.T, payload []byte) []byte {
	var out bytes.Buffer
	w, _ := flate.NewWriter(&out, 6)
	w.Write(payload)
	w.Close()
	return out.Bytes()
}

func TestInflateTakesExactlyOneStreamOfAtMost4MiB(t *testing.T) {
	stream := deflate(t, []byte("hello"))
	if p, err := inflate(stream); err != nil || string(p) != "hello" {
		t.Fatalf("%q %v", p, err)
	}
	if _, err := inflate(append(append([]byte{}, stream...), 0)); err == nil {
		t.Error("a byte after the stream was accepted")
	}
	for cut := 0; cut < len(stream); cut++ {
		if _, err := inflate(stream[:cut]); err == nil {
			t.Errorf("stream cut at %d accepted", cut)
		}
	}
	if _, err := inflate(deflate(t, make([]byte, maxPayloadBytes))); err != nil {
		t.Errorf("4 MiB refused: %v", err)
	}
	if _, err := inflate(deflate(t, make([]byte, maxPayloadBytes+1))); err == nil {
		t.Error("4 MiB + 1 accepted")
	}
}

// A tiny writer of sections 4–6, enough to build cases.

func segmentHeader(sequence uint64) []byte {
	h := make([]byte, 40)
	copy(h, magic)
	binary.LittleEndian.PutUint16(h[8:], 1)
	binary.LittleEndian.PutUint16(h[10:], 40)
	binary.LittleEndian.PutUint64(h[20:], sequence)
	binary.LittleEndian.PutUint32(h[36:], crc32.ChecksumIEEE(h[:36]))
	return h
}

func frame(t *testing.T, payload []byte) []byte {
	stored := deflate(t, payload)
	f := make([]byte, 16, 16+len(stored))
	copy(f, syncMarker)
	binary.LittleEndian.PutUint32(f[4:], uint32(len(stored)))
	binary.LittleEndian.PutUint32(f[8:], crc32.ChecksumIEEE(stored))
	binary.LittleEndian.PutUint32(f[12:], crc32.ChecksumIEEE(f[:12]))
	return append(f, stored...)
}

func appendVarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// payloadOf: one label "a" (id 0) and one adjacent event at base time.
func payloadOf(sequence, index uint64, baseTime int64) []byte {
	p := appendVarint(nil, sequence)
	p = appendVarint(p, index)
	p = appendVarint(p, uint64(baseTime<<1^baseTime>>63))
	p = append(p, 2<<3|recordLabel, 0, 'a')
	p = append(p, 5<<3|recordAdjacentEvent, 200, 1, 0, 5, 6) // d = +100, "a": [5, 6]
	return p
}

type recorder struct {
	damages []string
	torn    int
	events  []event
	refusal string
}

func (r *recorder) damage(offset, length int, reason string) bool {
	r.damages = append(r.damages, reason)
	return true
}
func (r *recorder) refused(offset int, reason string)            { r.refusal = reason }
func (r *recorder) tornTail(offset, length int, zeroFilled bool) { r.torn++ }
func (r *recorder) emit(events []event) error                    { r.events = append(r.events, events...); return nil }

func read(data []byte) *recorder {
	r := &recorder{}
	readSegment(data, r)
	return r
}

func TestDamagedHeaderTakesItsSequenceFromTheFirstBlock(t *testing.T) {
	data := segmentHeader(7)
	data[30] ^= 1
	data = append(data, frame(t, payloadOf(7, 0, 1000))...)
	data = append(data, frame(t, payloadOf(8, 1, 2000))...) // from another segment
	data = append(data, frame(t, payloadOf(7, 2, 3000))...)
	r := read(data)
	if len(r.events) != 2 || len(r.damages) != 2 || !strings.Contains(r.damages[1], "another segment") {
		t.Fatalf("%+v", r)
	}
}

func TestOrderIsCheckedAgainstTheLastBlockEmitted(t *testing.T) {
	data := segmentHeader(1)
	for _, index := range []uint64{5, 3, 6, 6, 9} {
		data = append(data, frame(t, payloadOf(1, index, int64(index)))...)
	}
	r := read(data)
	if len(r.events) != 3 || len(r.damages) != 2 {
		t.Fatalf("%+v", r)
	}
}

func TestEventsWithoutLabelsAndWrappingTimes(t *testing.T) {
	p := appendVarint(nil, 1)
	p = appendVarint(p, 0)
	p = appendVarint(p, 1<<64-2)                  // base time 2^63 − 1
	p = append(p, 1<<3|recordAdjacentEvent, 2)    // d = 1: end wraps to −2^63
	p = append(p, 2<<3|recordCellularEvent, 0, 0) // a stored gap of 0 is accepted
	r := read(append(segmentHeader(1), frame(t, p)...))
	if len(r.damages) != 0 || len(r.events) != 2 {
		t.Fatalf("%+v", r)
	}
	if e := r.events[1]; e.Time != -1<<63 || e.Duration != 1 || e.Cellular != 1 || e.Stats == nil {
		t.Fatalf("%+v", e)
	}
}

func TestForgedFrameHeadersReadInLinearTime(t *testing.T) {
	// Headers whose checks hold, each claiming the rest of a 4 MiB file:
	// a naive reader checksums megabytes at each of them.
	const size = 4 << 20
	data := segmentHeader(1)
	for len(data)+32 < size {
		h := make([]byte, 16)
		copy(h, syncMarker)
		binary.LittleEndian.PutUint32(h[4:], uint32(min(size-len(data)-16, maxStoredLength)))
		binary.LittleEndian.PutUint32(h[12:], crc32.ChecksumIEEE(h[:12]))
		data = append(data, h...)
	}
	data = append(data, make([]byte, size-len(data))...) // every claim fits the file
	start := time.Now()
	r := read(data)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %v", elapsed)
	}
	if len(r.damages) != 1 || len(r.events) != 0 {
		t.Fatalf("%+v", r.damages)
	}
}

// Section 11's tier names and section 10.4's keys from them.
func TestTierNames(t *testing.T) {
	good := map[string]key{
		"sockstat-00000000000000000007.sslog":        {0, 7},
		"sockstat-1m-00000000000000000003.sslog":     {60000, 3},
		"sockstat-1h-18446744073709551615.sslog":     {3600000, 1<<64 - 1},
		"sockstat-90s-00000000000000000001.sslog":    {90000, 1},
		"sockstat-1500ms-00000000000000000001.sslog": {1500, 1},
		"sockstat-7d-00000000000000000001.sslog":     {7 * 86400000, 1},
		"sockstat-366d-00000000000000000001.sslog":   {366 * 86400000, 1},
	}
	for name, want := range good {
		if got, ok := nameKey(name); !ok || got != want {
			t.Errorf("%s: %v %v, want %v", name, got, ok, want)
		}
		if want.window != 0 && !strings.HasPrefix(name, "sockstat-"+windowText(want.window)+"-") {
			t.Errorf("windowText(%d) = %s", want.window, windowText(want.window))
		}
	}
	bad := []string{
		"sockstat-60s-00000000000000000001.sslog",    // 1m
		"sockstat-01m-00000000000000000001.sslog",    // leading zero
		"sockstat-0m-00000000000000000001.sslog",     // window 0
		"sockstat-367d-00000000000000000001.sslog",   // past 366 days
		"sockstat-1m-0000000000000000001.sslog",      // 19 digits
		"sockstat-18446744073709551616.sslog",        // past 2^64-1
		"sockstat-1x-00000000000000000001.sslog",     // no such unit
		"sockstat--00000000000000000001.sslog",       // no window
		"sockstat-1m00000000000000000001.sslog",      // no dash
		"sockstat-1m-00000000000000000001.sslog.tmp", // not .sslog
	}
	for _, name := range bad {
		if got, ok := nameKey(name); ok {
			t.Errorf("%s accepted as %v", name, got)
		}
	}
}

// Section 4.1: the tier fields' rules.
func TestTierFields(t *testing.T) {
	header := func(window, source, first, last uint64) []byte {
		b := make([]byte, 72)
		binary.LittleEndian.PutUint64(b[36:], window)
		binary.LittleEndian.PutUint64(b[44:], source)
		binary.LittleEndian.PutUint64(b[52:], first)
		binary.LittleEndian.PutUint64(b[60:], last)
		return b
	}
	if readTier(header(60000, 0, 1, 4), 72) == nil || readTier(header(3600000, 60000, 5, 5), 72) == nil {
		t.Error("a valid tier refused")
	}
	for _, b := range [][]byte{header(60000, 60000, 1, 4), header(60000, 0, 5, 4), header(0, 0, 1, 1), header(366*86400000+1, 0, 1, 1)} {
		if readTier(b, 72) != nil {
			t.Errorf("invalid tier accepted: %x", b[36:68])
		}
	}
	if readTier(header(60000, 0, 1, 4), 40) != nil {
		t.Error("a 40-byte header has no tier fields")
	}
}
