// Command sslogdecode decodes SockStatLog segments to canonical JSON lines.
// It is written from Spec/FORMAT.md alone, as a check that the Spec
// suffices, and behaves like `sockstat-convert decode` (sections 3–10, 14):
//
//	sslogdecode [--strict] PATH...
//
// PATH is a segment file, a directory of segments, or - for standard input.
// Rollup tiers (sections 4.1, 10.4, 11) are read too: a directory's coarse
// tiers first, and a segment a tier segment of the run already holds is
// skipped with a note.
// Events go to stdout, one canonical JSON line each (section 9); damage is
// reported on stderr. Exit status: 0 all intact (torn tails allowed), 1 damage
// skipped or a file refused, 2 with --strict at the first damage (after the
// events before it). Outside section 14, as sockstat-convert was seen to do:
// 64 for a usage error, 66 when a PATH does not exist (nothing is read).
//
// Build it with GOEXPERIMENT=nojsonv2 on Go 1.25 and later: see json_v2.go.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

const program = "sslogdecode"

const (
	exitUsage   = 64 // EX_USAGE
	exitNoInput = 66 // EX_NOINPUT
)

func main() {
	strict := false
	var paths []string
	for i, argument := range os.Args[1:] {
		if argument == "--" {
			paths = append(paths, os.Args[i+2:]...)
			break
		}
		if argument == "--strict" {
			strict = true
		} else if strings.HasPrefix(argument, "-") && argument != "-" {
			usage(fmt.Sprintf("unknown option %s", argument))
		} else {
			paths = append(paths, argument)
		}
	}
	if len(paths) == 0 {
		usage("no PATH given")
	}
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil && path != "-" {
			fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
			os.Exit(exitNoInput)
		}
	}
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	run := &run{strict: strict, encoder: json.NewEncoder(out), readSequences: map[segmentKey]string{}}
	status := run.decode(paths)
	if err := out.Flush(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: writing output: %v\n", program, err)
		status = 1
	}
	os.Exit(status)
}

func usage(problem string) {
	fmt.Fprintf(os.Stderr, "%s: %s\nusage: %s [--strict] PATH...\n", program, problem, program)
	os.Exit(exitUsage)
}

// run is one invocation: its output, its exit status, the keys read so
// far (section 10.4, duplicates) and what the run's tier segments hold.
type run struct {
	strict        bool
	encoder       *json.Encoder // HTML escaping on, a "\n" after each value: section 9
	damaged       bool
	stopped       bool
	readSequences map[segmentKey]string
	holdings      []holding

	file string // the file being read, for messages

	warnedOfInvalidUTF8 bool
}

// decode lists every input's segments first (a directory's files, a
// stream's pieces), so that what the run's tier segments hold is known
// before anything is read (section 10.4), then reads them in order.
func (r *run) decode(paths []string) int {
	var units []func()
	for _, path := range paths {
		if path == "-" {
			units = append(units, r.standardInputUnits()...)
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			units = append(units, func() { r.fail(path, err) })
			continue
		}
		if info.IsDir() {
			units = append(units, r.directoryUnits(path)...)
		} else {
			units = append(units, r.fileUnits(path)...)
		}
	}
	for _, unit := range units {
		if r.stopped {
			break
		}
		unit()
	}
	switch {
	case r.stopped:
		return 2
	case r.damaged:
		return 1
	default:
		return 0
	}
}

// fail records a file or directory that could not be read at all.
func (r *run) fail(path string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %s: %v\n", program, path, err)
	r.damaged = true
	r.stopped = r.strict
}

// key is a segment's place in its directory (section 10.4): its tier's
// window (0 for recorded events) and its sequence number.
type key struct {
	window   uint64
	sequence uint64
}

// segmentKey is a key within a directory: what names one segment in a run.
type segmentKey struct {
	directory string
	key
}

// holding is what one tier segment of the run holds: its source tier's
// segments first ... last in its directory.
type holding struct {
	directory                 string
	sourceWindow, first, last uint64
	holder                    string
}

func directoryOf(path string) string {
	if path == "-" {
		return "-"
	}
	return filepath.Clean(filepath.Dir(path))
}

func describe(k key) string {
	if k.window == 0 {
		return fmt.Sprintf("segment %d", k.sequence)
	}
	return fmt.Sprintf("%s segment %d", windowText(k.window), k.sequence)
}

// noteHolding notes what the segment starting with prefix holds, if its
// intact header is a valid tier's.
func (r *run) noteHolding(prefix []byte, size int, path, name string) {
	if h, intact := readIntactHeader(prefix, size); intact && h.tier != nil {
		r.holdings = append(r.holdings, holding{directoryOf(path), h.tier.sourceWindow, h.tier.firstSource, h.tier.lastSource, name})
	}
}

// holder is the tier segment of the run that holds k in the directory of
// path, other than name itself; "" when none does.
func (r *run) holder(k key, path, name string) string {
	directory := directoryOf(path)
	for _, h := range r.holdings {
		if h.directory == directory && h.sourceWindow == k.window && h.first <= k.sequence && k.sequence <= h.last && h.holder != name {
			return h.holder
		}
	}
	return ""
}

// segmentFile is one candidate of a directory with its key (section 10.4).
type segmentFile struct {
	name   string
	key    key
	hasKey bool
}

func (r *run) directoryUnits(directory string) []func() {
	entries, err := os.ReadDir(directory)
	if err != nil {
		return []func(){func() { r.fail(directory, err) }}
	}
	var files []segmentFile
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".sslog") || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(directory, name)
		if info, err := os.Stat(path); err != nil || !info.Mode().IsRegular() {
			continue // "its files": a directory or dangling link named so is not one
		}
		k, hasKey := r.directoryKey(path, name)
		files = append(files, segmentFile{name: name, key: k, hasKey: hasKey})
	}
	if len(files) == 0 {
		fmt.Fprintf(os.Stderr, "%s: %s: no segments (*.sslog) in this directory\n", program, directory)
		return nil
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if a.hasKey != b.hasKey {
			return a.hasKey // files with no key come after all others
		}
		if a.hasKey && a.key != b.key {
			if a.key.window != b.key.window {
				return a.key.window > b.key.window // coarse tiers first, recorded events last
			}
			return a.key.sequence < b.key.sequence
		}
		return a.name < b.name // Go compares strings bytewise
	})
	var units []func()
	for _, file := range files {
		path := filepath.Join(directory, file.name)
		units = append(units, func() { r.decodeFile(path) })
	}
	return units
}

// directoryKey is the key of section 10.4: from the intact header (noting
// what it holds), else from the file's name, else none.
func (r *run) directoryKey(path, name string) (key, bool) {
	if f, err := os.Open(path); err == nil {
		prefix := make([]byte, maxHeaderLength)
		n, _ := io.ReadFull(f, prefix)
		info, statErr := f.Stat()
		f.Close()
		if statErr == nil && info.Size() <= maxSegmentBytes {
			if h, intact := readIntactHeader(prefix[:n], int(info.Size())); intact {
				r.noteHolding(prefix[:n], int(info.Size()), path, path)
				return key{h.window(), h.sequence}, true
			}
		}
	}
	return nameKey(name)
}

// Section 11: a tier's window in names is a whole number of the largest
// unit that divides it.
var windowUnits = []struct {
	name string
	size uint64
}{{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}}

func windowText(window uint64) string {
	for _, unit := range windowUnits {
		if window%unit.size == 0 {
			return strconv.FormatUint(window/unit.size, 10) + unit.name
		}
	}
	return ""
}

// windowOfText is the window a name's text spells exactly, or 0.
func windowOfText(text string) uint64 {
	digits := strings.TrimRight(text, "dhms")
	if digits == "" || digits[0] == '0' || strings.Trim(digits, "0123456789") != "" || len(digits) > 12 {
		return 0
	}
	count, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0
	}
	for _, unit := range windowUnits {
		if text[len(digits):] == unit.name {
			window := count * unit.size
			if window >= 1 && window <= maxWindow && windowText(window) == text {
				return window
			}
		}
	}
	return 0
}

// nameKey is the key a segment's name gives (section 10.4 rule 2):
// sockstat-<20 digits>.sslog, or sockstat-<window>-<20 digits>.sslog.
func nameKey(name string) (key, bool) {
	middle, hasPrefix := strings.CutPrefix(name, "sockstat-")
	middle, hasSuffix := strings.CutSuffix(middle, ".sslog")
	if !hasPrefix || !hasSuffix || len(middle) < 20 {
		return key{}, false
	}
	digits := middle[len(middle)-20:]
	if strings.Trim(digits, "0123456789") != "" {
		return key{}, false
	}
	sequence, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return key{}, false // above 2^64−1
	}
	if len(middle) == 20 {
		return key{0, sequence}, true
	}
	if len(middle) > 21 && middle[len(middle)-21] == '-' {
		if window := windowOfText(middle[:len(middle)-21]); window != 0 {
			return key{window, sequence}, true
		}
	}
	return key{}, false
}

func (r *run) decodeFile(path string) {
	info, err := os.Stat(path)
	if err != nil {
		r.fail(path, err)
		return
	}
	r.file = path
	if info.Size() > maxSegmentBytes {
		r.refused(0, fmt.Sprintf("file of %d bytes is too large for a segment (at most 64 MiB)", info.Size()))
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		r.fail(path, err)
		return
	}
	r.decodeStream(path, data, r.streamPieces(path, data))
}

// fileUnits reads a file given as a PATH, a stream of one or more segments.
func (r *run) fileUnits(path string) []func() {
	info, err := os.Stat(path)
	if err != nil || info.Size() > maxSegmentBytes {
		return []func(){func() { r.decodeFile(path) }} // refused or failed when its turn comes
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return []func(){func() { r.fail(path, err) }}
	}
	pieces := r.streamPieces(path, data)
	return []func(){func() {
		r.file = path
		r.decodeStream(path, data, pieces)
	}}
}

func (r *run) standardInputUnits() []func() {
	data, err := io.ReadAll(io.LimitReader(os.Stdin, maxSegmentBytes+1))
	if err != nil {
		return []func(){func() { r.fail("-", err) }}
	}
	if len(data) > maxSegmentBytes {
		return []func(){func() {
			r.file = "-"
			r.refused(0, "input is too large for a segment (at most 64 MiB)")
		}}
	}
	pieces := r.streamPieces("-", data)
	return []func(){func() {
		r.file = "-"
		r.decodeStream("-", data, pieces)
	}}
}

// streamPieces splits a file or standard input as section 16 says: one
// segment, or several back to back, split where an intact header starts;
// it notes what the tier pieces hold.
func (r *run) streamPieces(path string, data []byte) []int {
	starts := []int{0}
	for offset := 1; offset+40 <= len(data); offset++ {
		if data[offset] != magic[0] {
			continue
		}
		if _, intact := readIntactHeader(data[offset:], len(data)-offset); intact {
			starts = append(starts, offset)
			offset += 40 - 1
		}
	}
	for _, start := range starts {
		r.noteHolding(data[start:], len(data)-start, path, pieceName(path, start))
	}
	return starts
}

func pieceName(path string, start int) string {
	if start > 0 {
		return fmt.Sprintf("%s at byte %d", path, start)
	}
	return path
}

// decodeStream reads the pieces of a file or standard input in order. A
// piece after the first is named "PATH at byte N" in messages; all pieces
// are in PATH's directory for duplicates and held segments.
func (r *run) decodeStream(path string, data []byte, starts []int) {
	for i, start := range starts {
		if r.stopped {
			return
		}
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		r.file = pieceName(path, start)
		// Only a whole file's name (its first piece) can give a key.
		base := ""
		if start == 0 && path != "-" {
			base = filepath.Base(path)
		}
		r.decodeSegmentNamed(path, r.file, base, data[start:end])
	}
}

// decodeSegmentNamed reads one segment's bytes, applying section 10.4 first:
// a segment a tier segment of the run holds is skipped with a note (not
// damage), a key already read from the same directory is a duplicate.
// The piece is named name in messages, base is its file's name (for a key
// when the header is damaged), and it is in the directory of path.
func (r *run) decodeSegmentNamed(path, name, base string, data []byte) {
	h, intact := readIntactHeader(data, len(data))
	k, hasKey := key{h.window(), h.sequence}, intact
	if !intact && base != "" {
		k, hasKey = nameKey(base)
	}
	if hasKey {
		if holder := r.holder(k, path, name); holder != "" {
			fmt.Fprintf(os.Stderr, "%s: %s: %s is already rolled up into %s; skipped\n", program, name, describe(k), holder)
			return
		}
	}
	if intact {
		full := segmentKey{directoryOf(path), k}
		if first, read := r.readSequences[full]; read {
			r.damage(0, len(data), fmt.Sprintf("%s already read from %s", describe(k), first))
			return
		}
		defer func() {
			// Counted as read only if events could come from it: a refused
			// file (version, features, invalid tier) does not hide a later copy.
			if h.readable() {
				r.readSequences[full] = name
			}
		}()
	}
	goOn, err := readSegment(data, r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: writing output: %v\n", program, err)
		r.damaged, r.stopped = true, true
		return
	}
	if !goOn {
		r.stopped = true
	}
}

// The reporter of readSegment.

func (r *run) damage(offset, length int, reason string) bool {
	fmt.Fprintf(os.Stderr, "%s: %s: offset %d: %s; skipped %d bytes\n", program, r.file, offset, reason, length)
	r.damaged = true
	if r.strict {
		r.stopped = true
		return false
	}
	return true
}

func (r *run) refused(offset int, reason string) {
	fmt.Fprintf(os.Stderr, "%s: %s: offset %d: %s\n", program, r.file, offset, reason)
	r.damaged = true
	r.stopped = r.strict
}

func (r *run) tornTail(offset, length int, zeroFilled bool) {
	what := "incomplete last block"
	if zeroFilled {
		what = "zero-filled tail"
	}
	fmt.Fprintf(os.Stderr, "%s: %s: offset %d: %s (torn write), %d bytes ignored\n", program, r.file, offset, what, length)
}

func (r *run) emit(events []event) error {
	for i := range events {
		if !jsonEscapesInvalidUTF8 && !r.warnedOfInvalidUTF8 {
			for label := range events[i].Stats {
				if !utf8.ValidString(label) {
					fmt.Fprintf(os.Stderr, "%s: warning: a label holds invalid UTF-8, which this build's encoding/json writes as a raw U+FFFD, not \\ufffd as FORMAT.md section 9 says; build with GOEXPERIMENT=nojsonv2\n", program)
					r.warnedOfInvalidUTF8 = true
					break
				}
			}
		}
		if err := r.encoder.Encode(&events[i]); err != nil {
			return err
		}
	}
	return nil
}
