package series

import "math/bits"

// bitWriter appends bits, most significant first, to a byte slice.
type bitWriter struct {
	buf []byte
	acc uint64 // pending bits in the low n bits
	n   uint
}

// write appends the low nbits of v (nbits ≤ 64).
func (w *bitWriter) write(v uint64, nbits uint) {
	if nbits > 32 {
		w.write(v>>32, nbits-32)
		nbits = 32
	}
	if nbits < 64 {
		v &= 1<<nbits - 1
	}
	// n < 8 on entry and nbits ≤ 32, so the accumulator never overflows.
	w.acc = w.acc<<nbits | v
	w.n += nbits
	for w.n >= 8 {
		w.n -= 8
		w.buf = append(w.buf, byte(w.acc>>w.n))
	}
}

// bytes flushes the last partial byte, padded with zeros, and returns the buffer.
func (w *bitWriter) bytes() []byte {
	if w.n > 0 {
		w.buf = append(w.buf, byte(w.acc<<(8-w.n)))
		w.n = 0
		w.acc = 0
	}
	return w.buf
}

// bitReader reads bits, most significant first; it never reads past its data.
type bitReader struct {
	data string
	pos  int
	acc  uint64 // unread bits in the low n bits
	n    uint
}

// fill loads whole bytes until at least need bits are buffered or the data ends.
func (r *bitReader) fill(need uint) bool {
	if r.n < need && r.pos+8 <= len(r.data) && r.n <= 8 {
		// Fast path: load 7 bytes at once (56 bits plus at most 8 already held).
		d := r.data[r.pos : r.pos+7]
		r.acc = r.acc<<56 | uint64(d[0])<<48 | uint64(d[1])<<40 | uint64(d[2])<<32 |
			uint64(d[3])<<24 | uint64(d[4])<<16 | uint64(d[5])<<8 | uint64(d[6])
		r.pos += 7
		r.n += 56
	}
	for r.n < need {
		if r.pos >= len(r.data) {
			return false
		}
		r.acc = r.acc<<8 | uint64(r.data[r.pos])
		r.pos++
		r.n += 8
	}
	return true
}

// read returns the next nbits bits (nbits ≤ 64).
func (r *bitReader) read(nbits uint) (uint64, bool) {
	if nbits > 32 {
		hi, ok := r.read(nbits - 32)
		if !ok {
			return 0, false
		}
		lo, ok := r.read(32)
		return hi<<32 | lo, ok
	}
	if nbits == 0 {
		return 0, true
	}
	if !r.fill(nbits) {
		return 0, false
	}
	r.n -= nbits
	return (r.acc >> r.n) & (1<<nbits - 1), true
}

// readBit returns the next bit.
func (r *bitReader) readBit() (bool, bool) {
	if r.n == 0 && !r.fill(1) {
		return false, false
	}
	r.n--
	return r.acc>>r.n&1 == 1, true
}

// readPrefix reads a class prefix: up to four one bits ended by a zero ('0', '10',
// '110', '1110') or four ones ('1111'), and returns the number of ones.
func (r *bitReader) readPrefix() (int, bool) {
	if r.n < 4 && !r.fill(4) {
		return r.readOnes(4) // fewer than 4 bits left: go bit by bit
	}
	top := uint8(r.acc>>(r.n-4)) << 4
	ones := bits.LeadingZeros8(^top)
	if ones >= 4 {
		r.n -= 4
		return 4, true
	}
	r.n -= uint(ones + 1)
	return ones, true
}

// readOnes counts leading one bits, stopping after a zero or at max ones.
func (r *bitReader) readOnes(max int) (int, bool) {
	for i := 0; i < max; i++ {
		b, ok := r.readBit()
		if !ok {
			return 0, false
		}
		if !b {
			return i, true
		}
	}
	return max, true
}
