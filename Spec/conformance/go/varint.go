package main

import "errors"

// Section 2: the three ways a varint is rejected. Each makes the block damaged.
var (
	errVarintTruncated = errors.New("varint cut short")
	errVarintTooLong   = errors.New("varint does not fit 64 bits")
	errVarintOverlong  = errors.New("overlong varint")
)

// readVarint reads one unsigned LEB128 value from the start of b and
// returns it with the number of bytes it took.
func readVarint(b []byte) (uint64, int, error) {
	var value uint64
	for i := 0; i < len(b); i++ {
		x := b[i]
		// The 10th byte carries bit 63 only; anything larger (including a
		// continuation bit, i.e. an 11th byte) would not fit.
		if i == 9 && x > 1 {
			return 0, 0, errVarintTooLong
		}
		value |= uint64(x&0x7F) << (7 * uint(i))
		if x < 0x80 {
			if i > 0 && x == 0 {
				return 0, 0, errVarintOverlong
			}
			return value, i + 1, nil
		}
	}
	return 0, 0, errVarintTruncated
}

// unzigzag inverts zigzag(n) = (n << 1) XOR (n >> 63).
func unzigzag(u uint64) int64 {
	return int64(u>>1) ^ -int64(u&1)
}
