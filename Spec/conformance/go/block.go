package main

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// Limits of section 8.
const (
	maxPayloadBytes   = 4 << 20 // inflated payload
	maxLabelBytes     = 1024
	maxLabelsPerEvent = 1024
	labelIDCount      = 1 << 16
)

// Record types of section 6.
const (
	recordLabel                 = 1
	recordEvent                 = 2
	recordCellularEvent         = 3
	recordAdjacentEvent         = 4
	recordAdjacentCellularEvent = 5
)

// event is the struct of section 1; encoding/json gives its canonical line.
type event struct {
	Time     int64                `json:"t"`
	Duration int64                `json:"d"`
	Cellular int                  `json:"c,omitempty"`
	Stats    map[string][2]uint64 `json:"s"`
}

// block is what one payload decodes to, before the checks of section 10.2.
type block struct {
	sequence uint64
	index    uint64
	events   []event
}

// inflate reads the stored bytes as exactly one raw DEFLATE stream of at
// most 4 MiB with nothing after it (section 5).
func inflate(stored []byte) ([]byte, error) {
	source := bytes.NewReader(stored)
	// bytes.Reader is an io.ByteReader, so flate reads no byte past the
	// end of its stream and source.Len() is what follows the stream.
	reader := flate.NewReader(source)
	payload, err := io.ReadAll(io.LimitReader(reader, maxPayloadBytes+1))
	if err != nil {
		return nil, fmt.Errorf("bad compressed data: %v", err)
	}
	if len(payload) > maxPayloadBytes {
		return nil, errors.New("payload inflates past 4 MiB")
	}
	// ReadAll stopped at io.EOF: the stream's final block is complete.
	if source.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the compressed stream", source.Len())
	}
	return payload, nil
}

// payloadReader consumes a payload with a check at every step.
type payloadReader struct {
	bytes  []byte
	offset int
}

func (r *payloadReader) varint(field string) (uint64, error) {
	value, n, err := readVarint(r.bytes[r.offset:])
	if err != nil {
		return 0, fmt.Errorf("%s at offset %d: %v", field, r.offset, err)
	}
	r.offset += n
	return value, nil
}

// decodePayload parses the preamble and records of section 6 and applies
// the rules of 6.1 and 6.2; any violation is returned as the block's damage.
func decodePayload(payload []byte) (block, error) {
	r := payloadReader{bytes: payload}
	var decoded block
	var err error
	if decoded.sequence, err = r.varint("segment sequence"); err != nil {
		return block{}, err
	}
	if decoded.index, err = r.varint("block index"); err != nil {
		return block{}, err
	}
	baseTime, err := r.varint("base time")
	if err != nil {
		return block{}, err
	}
	end := unzigzag(baseTime)
	var previousDuration int64
	labelsByID := map[uint64]string{}
	idsByLabel := map[string]uint64{}

	for r.offset < len(payload) {
		recordOffset := r.offset
		header, err := r.varint("record header")
		if err != nil {
			return block{}, err
		}
		length := header >> 3
		if length > uint64(len(payload)-r.offset) {
			return block{}, fmt.Errorf("record at payload offset %d: length %d past the end of the payload", recordOffset, length)
		}
		body := payload[r.offset : r.offset+int(length)]
		r.offset += int(length)

		switch recordType := header & 7; recordType {
		case recordLabel:
			id, n, err := readVarint(body)
			if err != nil {
				return block{}, fmt.Errorf("label at payload offset %d: id: %v", recordOffset, err)
			}
			label := string(body[n:])
			switch {
			case id >= labelIDCount:
				return block{}, fmt.Errorf("label at payload offset %d: id %d past 65535", recordOffset, id)
			case len(label) > maxLabelBytes:
				return block{}, fmt.Errorf("label at payload offset %d: %d bytes, past 1024", recordOffset, len(label))
			}
			if _, defined := labelsByID[id]; defined {
				return block{}, fmt.Errorf("label at payload offset %d: id %d defined twice", recordOffset, id)
			}
			if other, defined := idsByLabel[label]; defined {
				return block{}, fmt.Errorf("label at payload offset %d: label already defined as id %d", recordOffset, other)
			}
			labelsByID[id] = label
			idsByLabel[label] = id

		case recordEvent, recordCellularEvent, recordAdjacentEvent, recordAdjacentCellularEvent:
			e, err := decodeEvent(body, recordType, labelsByID, end, previousDuration)
			if err != nil {
				return block{}, fmt.Errorf("event at payload offset %d %v", recordOffset, err)
			}
			end = e.Time + e.Duration // wrapping, as Go's int64 arithmetic is
			previousDuration = e.Duration
			decoded.events = append(decoded.events, e)

		default:
			// Types 0, 6 and 7: not known in v1, skipped by their length.
		}
	}
	return decoded, nil
}

// decodeEvent reads an event body (section 6.2) against the block's labels.
func decodeEvent(body []byte, recordType uint64, labelsByID map[uint64]string, end, previousDuration int64) (event, error) {
	r := payloadReader{bytes: body}
	var gap uint64
	if recordType == recordEvent || recordType == recordCellularEvent {
		var err error
		if gap, err = r.varint("has a bad gap"); err != nil {
			return event{}, err
		}
	}
	durationDelta, err := r.varint("has a bad duration delta")
	if err != nil {
		return event{}, err
	}
	e := event{
		Time:     end + unzigzag(gap),
		Duration: previousDuration + unzigzag(durationDelta),
		// Never nil: a nil map would be written "s":null, not "s":{}.
		Stats: map[string][2]uint64{},
	}
	if recordType == recordCellularEvent || recordType == recordAdjacentCellularEvent {
		e.Cellular = 1
	}
	for r.offset < len(body) {
		id, err := r.varint("has a bad label id")
		if err != nil {
			return event{}, err
		}
		tx, err := r.varint("has a bad tx")
		if err != nil {
			return event{}, err
		}
		rx, err := r.varint("has a bad rx")
		if err != nil {
			return event{}, err
		}
		label, defined := labelsByID[id]
		if !defined {
			return event{}, fmt.Errorf("uses undefined label id %d", id)
		}
		if _, twice := e.Stats[label]; twice {
			return event{}, fmt.Errorf("uses label id %d twice", id)
		}
		if len(e.Stats) == maxLabelsPerEvent {
			return event{}, errors.New("has more than 1024 labels")
		}
		e.Stats[label] = [2]uint64{tx, rx}
	}
	return e, nil
}
