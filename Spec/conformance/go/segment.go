package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Section 4.
var magic = []byte{0x89, 'S', 'S', 'L', '\r', '\n', 0x1A, '\n'}

const (
	baseHeaderLength = 40
	maxHeaderLength  = 4096
	knownVersion     = 1
)

// Section 4.1: incompatible feature bit 0 marks a rollup tier segment,
// whose header (at least 72 bytes) carries the tier's fields.
const (
	rollupFeature      = 1
	rollupHeaderLength = 72
	maxWindow          = 366 * 86400000
)

// tier is what a valid rollup tier header says (section 4.1).
type tier struct {
	window, sourceWindow, firstSource, lastSource uint64
}

// readTier returns the tier fields of a header of n bytes, or nil when
// they break section 4.1's rules (or n is below 72).
func readTier(prefix []byte, n int) *tier {
	if n < rollupHeaderLength {
		return nil
	}
	t := tier{
		window:       binary.LittleEndian.Uint64(prefix[36:]),
		sourceWindow: binary.LittleEndian.Uint64(prefix[44:]),
		firstSource:  binary.LittleEndian.Uint64(prefix[52:]),
		lastSource:   binary.LittleEndian.Uint64(prefix[60:]),
	}
	if t.window < 1 || t.window > maxWindow || t.sourceWindow >= t.window || t.firstSource > t.lastSource {
		return nil
	}
	return &t
}

// Section 5.
var syncMarker = []byte{0xB5, 0x0C, 0x4B, 0x1D}

const (
	frameHeaderLength = 16
	maxStoredLength   = 4<<20 + 64<<10
)

// A segment file is at most 64 MiB (section 3); larger ones are refused.
const maxSegmentBytes = 64 << 20

// header is what section 4 finds at offset 0.
type header struct {
	version      uint16
	length       int
	incompatible uint32
	sequence     uint64
	// tier is set when the version is 1, bit 0 is set and the tier
	// fields are valid (section 4.1); nil otherwise.
	tier *tier
}

// window is the header's part of a directory key (section 10.4): the
// tier's window, 0 for anything else.
func (h header) window() uint64 {
	if h.tier != nil {
		return h.tier.window
	}
	return 0
}

// readable says whether events can come from a segment with this header
// (section 4, steps 4–5).
func (h header) readable() bool {
	return h.version == knownVersion && h.incompatible&^rollupFeature == 0 &&
		(h.incompatible&rollupFeature == 0 || h.tier != nil)
}

// readIntactHeader returns the header if the magic, the header length and
// the CRC hold (section 4, steps 2–3); prefix is the file's first bytes
// (at least min(size, 4096)), size the file's size.
func readIntactHeader(prefix []byte, size int) (header, bool) {
	h, problem := checkHeader(prefix, size)
	return h, problem == ""
}

// checkHeader is readIntactHeader that says what is wrong.
func checkHeader(prefix []byte, size int) (header, string) {
	if size < baseHeaderLength || len(prefix) < baseHeaderLength {
		return header{}, "segment header cut short"
	}
	if !bytes.Equal(prefix[:8], magic) {
		return header{}, "not a segment (bad magic)"
	}
	n := int(binary.LittleEndian.Uint16(prefix[10:]))
	if n < baseHeaderLength || n > maxHeaderLength {
		return header{}, fmt.Sprintf("segment header length %d out of range", n)
	}
	if n > size || n > len(prefix) {
		return header{}, fmt.Sprintf("segment header length %d past the end of the file", n)
	}
	if crc32.ChecksumIEEE(prefix[:n-4]) != binary.LittleEndian.Uint32(prefix[n-4:]) {
		return header{}, "segment header checksum mismatch"
	}
	h := header{
		version:      binary.LittleEndian.Uint16(prefix[8:]),
		length:       n,
		incompatible: binary.LittleEndian.Uint32(prefix[12:]),
		sequence:     binary.LittleEndian.Uint64(prefix[20:]),
	}
	if h.version == knownVersion && h.incompatible&rollupFeature != 0 {
		h.tier = readTier(prefix, n)
	}
	return h, ""
}

// reporter receives what reading finds; damage returns false when reading
// must stop (--strict).
type reporter interface {
	damage(offset, length int, reason string) (goOn bool)
	refused(offset int, reason string)
	tornTail(offset, length int, zeroFilled bool)
	emit(events []event) error
}

// readSegment reads one segment file as sections 4 and 10.1–10.3 describe.
// It returns false when the reporter asked to stop, or output failed.
func readSegment(data []byte, report reporter) (goOn bool, err error) {
	size := len(data)
	// Section 4, steps 1–2: not a segment.
	if size == 0 {
		report.refused(0, "empty file, not a segment")
		return true, nil
	}
	for i := 0; i < min(8, size); i++ {
		if data[i] != magic[i] {
			report.refused(i, "not a segment (bad magic)")
			return true, nil
		}
	}
	reader := segmentReader{data: data, report: report}
	h, problem := checkHeader(data, size)
	if problem == "" {
		// Steps 4–5: a readable header of an unknown format is refused.
		if h.version != knownVersion {
			report.refused(8, fmt.Sprintf("unsupported format version %d (this reader knows %d)", h.version, knownVersion))
			return true, nil
		}
		if unknown := h.incompatible &^ rollupFeature; unknown != 0 {
			report.refused(12, fmt.Sprintf("unsupported incompatible features %#x", unknown))
			return true, nil
		}
		if h.incompatible&rollupFeature != 0 && h.tier == nil {
			report.refused(36, "invalid rollup tier header")
			return true, nil
		}
		// Step 6: compatible features are ignored; step 7: frames start at n.
		reader.sequence, reader.sequenceKnown = h.sequence, true
		return reader.walkFrames(h.length)
	}
	// Step 3 and section 10.3: damaged header; blocks from offset 40 as v1.
	if !report.damage(0, min(baseHeaderLength, size), problem) {
		return false, nil
	}
	return reader.walkFrames(baseHeaderLength)
}

type segmentReader struct {
	data   []byte
	report reporter
	crcs   *rangeChecksummer

	// Section 10.2.
	sequence      uint64
	sequenceKnown bool
	lastIndex     uint64
	anyEmitted    bool
}

// frameProblem says why no valid frame starts at pos, or "" if one does;
// m is the stored length when the header holds.
func (s *segmentReader) frameProblem(pos int) (problem string, m int) {
	rest := s.data[pos:]
	present := min(4, len(rest))
	if !bytes.Equal(rest[:present], syncMarker[:present]) {
		return "no block marker", 0
	}
	if len(rest) >= 8 {
		if stored := binary.LittleEndian.Uint32(rest[4:]); stored < 1 || stored > maxStoredLength {
			return fmt.Sprintf("block length %d out of range", stored), 0
		}
	}
	if len(rest) < frameHeaderLength {
		return "block header cut short", 0
	}
	if crc32.ChecksumIEEE(rest[:12]) != binary.LittleEndian.Uint32(rest[12:]) {
		return "block header checksum mismatch", 0
	}
	m = int(binary.LittleEndian.Uint32(rest[4:]))
	if frameHeaderLength+m > len(rest) {
		return "block runs past the end of the file", m
	}
	start := pos + frameHeaderLength
	if s.crcs.checksum(start, start+m) != binary.LittleEndian.Uint32(rest[8:]) {
		return "block checksum mismatch", m
	}
	return "", m
}

// incomplete is the torn-tail test of section 10.1 for the bytes from pos
// to the end: a frame cut short by the end of the file.
func (s *segmentReader) incomplete(pos int) bool {
	rest := s.data[pos:]
	if !bytes.Equal(rest[:min(4, len(rest))], syncMarker[:min(4, len(rest))]) {
		return false
	}
	if len(rest) < 8 {
		return true // the frame header itself runs past the end
	}
	stored := binary.LittleEndian.Uint32(rest[4:])
	if stored < 1 || stored > maxStoredLength {
		return false
	}
	if len(rest) < frameHeaderLength {
		return true
	}
	if crc32.ChecksumIEEE(rest[:12]) != binary.LittleEndian.Uint32(rest[12:]) {
		return false
	}
	return frameHeaderLength+int(stored) > len(rest)
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

// walkFrames is the loop of section 10.1, literally.
func (s *segmentReader) walkFrames(first int) (bool, error) {
	size := len(s.data)
	s.crcs = newRangeChecksummer(s.data)
	pos := first
	for pos < size {
		problem, m := s.frameProblem(pos)
		if problem == "" {
			end := pos + frameHeaderLength + m
			events, damage := s.decodeBlock(s.data[pos+frameHeaderLength : end])
			if damage != "" {
				if !s.report.damage(pos, end-pos, damage) {
					return false, nil
				}
			} else if err := s.report.emit(events); err != nil {
				return false, err
			}
			pos = end
			continue
		}
		// Not valid: the first offset after pos where a valid frame starts.
		next := -1
		for q := pos + 1; q+frameHeaderLength <= size; q++ {
			// The marker is tested first, so most offsets cost one comparison.
			if s.data[q] == syncMarker[0] {
				if p, _ := s.frameProblem(q); p == "" {
					next = q
					break
				}
			}
		}
		if next >= 0 {
			if !s.report.damage(pos, next-pos, problem) {
				return false, nil
			}
			pos = next
			continue
		}
		switch {
		case s.incomplete(pos):
			s.report.tornTail(pos, size-pos, false)
		case allZero(s.data[pos:]):
			s.report.tornTail(pos, size-pos, true)
		default:
			if !s.report.damage(pos, size-pos, problem+" (to end of file)") {
				return false, nil
			}
		}
		break
	}
	return true, nil
}

// decodeBlock applies section 7 to a valid frame's stored bytes: the
// block's events, or why it is damaged.
func (s *segmentReader) decodeBlock(stored []byte) ([]event, string) {
	payload, err := inflate(stored)
	if err != nil {
		return nil, err.Error()
	}
	decoded, err := decodePayload(payload)
	if err != nil {
		return nil, err.Error()
	}
	// Section 10.2.
	if s.sequenceKnown && decoded.sequence != s.sequence {
		return nil, fmt.Sprintf("block belongs to another segment (sequence %d, not %d)", decoded.sequence, s.sequence)
	}
	if s.anyEmitted && decoded.index <= s.lastIndex {
		return nil, fmt.Sprintf("block %d out of order after block %d (moved or duplicated)", decoded.index, s.lastIndex)
	}
	s.sequence, s.sequenceKnown = decoded.sequence, true
	s.lastIndex, s.anyEmitted = decoded.index, true
	return decoded.events, ""
}
