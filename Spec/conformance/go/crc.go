package main

import "hash/crc32"

// Range checksums in constant time (section 10.1, "Time"): with P(i) the
// CRC-32 of the file's first i bytes, the CRC of bytes a … b−1 is
// P(b) XOR P(a)·x^(8(b−a)) mod the CRC polynomial. P is kept every 256 bytes
// and finished over fewer than 256 bytes, so a forged frame header claiming
// megabytes costs no more than a real one.

const (
	prefixStride  = 256
	crcPolynomial = 0xEDB88320 // reflected
)

// powersOfX[k] is x^(2^k) mod p in reflected form; bit 31 is x^0.
var powersOfX = func() [64]uint32 {
	var table [64]uint32
	p := uint32(1) << 30 // x^1
	table[0] = p
	for k := 1; k < len(table); k++ {
		p = multiplyModP(p, p)
		table[k] = p
	}
	return table
}()

// multiplyModP returns a·b mod p for reflected CRC-32 polynomials (zlib's
// multmodp).
func multiplyModP(a, b uint32) uint32 {
	var product uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			product ^= b
		}
		if b&1 != 0 {
			b = b>>1 ^ crcPolynomial
		} else {
			b >>= 1
		}
	}
	return product
}

// xPowerOfBytes returns x^(8n) mod p: what shifting a CRC over n bytes
// multiplies it by.
func xPowerOfBytes(n uint64) uint32 {
	result := uint32(1) << 31 // x^0
	for k := 3; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			result = multiplyModP(powersOfX[k], result)
		}
	}
	return result
}

type rangeChecksummer struct {
	data     []byte
	prefixes []uint32 // prefixes[k] = CRC-32 of data[0 : k*prefixStride]
}

func newRangeChecksummer(data []byte) *rangeChecksummer {
	prefixes := make([]uint32, 0, len(data)/prefixStride+1)
	var crc uint32
	prefixes = append(prefixes, crc)
	for offset := 0; offset+prefixStride <= len(data); offset += prefixStride {
		crc = crc32.Update(crc, crc32.IEEETable, data[offset:offset+prefixStride])
		prefixes = append(prefixes, crc)
	}
	return &rangeChecksummer{data: data, prefixes: prefixes}
}

// prefix returns the CRC-32 of data[0:i].
func (r *rangeChecksummer) prefix(i int) uint32 {
	k := i / prefixStride
	return crc32.Update(r.prefixes[k], crc32.IEEETable, r.data[k*prefixStride:i])
}

// checksum returns the CRC-32 of data[a:b].
func (r *rangeChecksummer) checksum(a, b int) uint32 {
	return r.prefix(b) ^ multiplyModP(xPowerOfBytes(uint64(b-a)), r.prefix(a))
}
