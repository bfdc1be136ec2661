// Command sslogdecode decodes SockStatLog segments to canonical JSON lines.
// It is written from Spec/FORMAT.md alone, as a check that the Spec
// suffices, and behaves like `sockstat-convert decode` (sections 3–10, 14):
//
//	sslogdecode [--strict] PATH...
//
// PATH is a segment file, a directory of segments, or - for standard input.
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
	run := &run{strict: strict, encoder: json.NewEncoder(out), readSequences: map[sequenceKey]string{}}
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

// run is one invocation: its output, its exit status, and the sequence
// numbers read so far (section 10.4, duplicates).
type run struct {
	strict        bool
	encoder       *json.Encoder // HTML escaping on, a "\n" after each value: section 9
	damaged       bool
	stopped       bool
	readSequences map[sequenceKey]string

	file string // the file being read, for messages

	warnedOfInvalidUTF8 bool
}

func (r *run) decode(paths []string) int {
	for _, path := range paths {
		if r.stopped {
			break
		}
		if path == "-" {
			r.decodeStandardInput()
			continue
		}
		info, err := os.Stat(path)
		if err != nil {
			r.fail(path, err)
			continue
		}
		if info.IsDir() {
			r.decodeDirectory(path)
		} else {
			r.decodeFile(path)
		}
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

// segmentFile is one candidate of a directory with its sort key (section 10.4).
type segmentFile struct {
	name string
	// key is the sequence number as 20 decimal digits (so a name's number,
	// which may exceed 2^64−1, compares with a header's); "" for none.
	key string
}

func (r *run) decodeDirectory(directory string) {
	entries, err := os.ReadDir(directory)
	if err != nil {
		r.fail(directory, err)
		return
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
		files = append(files, segmentFile{name: name, key: sortKey(path, name)})
	}
	if len(files) == 0 {
		fmt.Fprintf(os.Stderr, "%s: %s: no segments (*.sslog) in this directory\n", program, directory)
		return
	}
	sort.SliceStable(files, func(i, j int) bool {
		a, b := files[i], files[j]
		if (a.key == "") != (b.key == "") {
			return b.key == "" // files with no key come after all others
		}
		if a.key != b.key {
			return a.key < b.key
		}
		return a.name < b.name // Go compares strings bytewise
	})
	for _, file := range files {
		if r.stopped {
			return
		}
		r.decodeFile(filepath.Join(directory, file.name))
	}
}

// sortKey is the header's sequence number if the header is intact, else
// the number in a name `sockstat-` + 20 digits + `.sslog`, else "".
func sortKey(path, name string) string {
	if f, err := os.Open(path); err == nil {
		prefix := make([]byte, maxHeaderLength)
		n, _ := io.ReadFull(f, prefix)
		info, statErr := f.Stat()
		f.Close()
		if statErr == nil && info.Size() <= maxSegmentBytes {
			if h, intact := readIntactHeader(prefix[:n], int(info.Size())); intact {
				return fmt.Sprintf("%020d", h.sequence)
			}
		}
	}
	digits, hasPrefix := strings.CutPrefix(name, "sockstat-")
	digits, hasSuffix := strings.CutSuffix(digits, ".sslog")
	if hasPrefix && hasSuffix && len(digits) == 20 && strings.Trim(digits, "0123456789") == "" {
		return digits
	}
	return ""
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
	r.decodeStream(path, data)
}

func (r *run) decodeStandardInput() {
	r.file = "-"
	data, err := io.ReadAll(io.LimitReader(os.Stdin, maxSegmentBytes+1))
	if err != nil {
		r.fail("-", err)
		return
	}
	if len(data) > maxSegmentBytes {
		r.refused(0, "input is too large for a segment (at most 64 MiB)")
		return
	}
	r.decodeStream("-", data)
}

// decodeStream reads a file or standard input as section 16 says: one
// segment, or several back to back, split where an intact header starts.
// A piece after the first is named "PATH at byte N" in messages; all
// pieces are in PATH's directory for duplicates.
func (r *run) decodeStream(path string, data []byte) {
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
	for i, start := range starts {
		if r.stopped {
			return
		}
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		r.file = path
		if start > 0 {
			r.file = fmt.Sprintf("%s at byte %d", path, start)
		}
		r.decodeSegmentNamed(path, r.file, data[start:end])
	}
}

// sequenceKey names a segment: its directory and its sequence number.
type sequenceKey struct {
	directory string
	sequence  uint64
}

// decodeSegmentNamed reads one segment's bytes, applying the duplicate rule of
// section 10.4 first.
// The piece is named name in messages and is in the directory of path for duplicates.
func (r *run) decodeSegmentNamed(path, name string, data []byte) {
	if h, intact := readIntactHeader(data, len(data)); intact {
		// A sequence number names a segment within its directory (section 10.4).
		key := sequenceKey{directory: "-", sequence: h.sequence}
		if path != "-" {
			key.directory = filepath.Clean(filepath.Dir(path))
		}
		if first, read := r.readSequences[key]; read {
			r.damage(0, len(data), fmt.Sprintf("segment %d already read from %s", h.sequence, first))
			return
		}
		defer func() {
			// Counted as read only if events could come from it: a refused
			// file (version, features) does not hide a later copy.
			if h.version == knownVersion && h.incompatible == 0 {
				r.readSequences[key] = name
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
