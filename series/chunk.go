package series

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// A chunk's bytes:
//
//	mode    1 byte: low nibble the value encoding (modeXOR or modeDecimal),
//	        high nibble the decimal digits k of modeDecimal
//	n       uvarint, readings in the chunk (≥ 1)
//	t0      uvarint, first timestamp in ms after the chunk's window start
//	bits    the readings, bit-packed, most significant bit first
//
// Timestamps are delta-of-delta coded (the first delta against a previous delta of 0)
// in the prefix classes of tsWidths. Values are either Gorilla XOR coded (modeXOR) or,
// when every value of the chunk is exactly an integer divided by 10^k, those integers
// delta coded in the classes of valWidths (modeDecimal). Sensor readings are usually
// rounded to the instrument's resolution, and such decimals make poor XOR material:
// 0.35 and 0.36 differ in almost every mantissa bit.
const (
	modeXOR     = 0
	modeDecimal = 1

	maxDecimals = 9 // 10^9 is exact and keeps scaled ints far inside 2^53 for sensor values
)

// Bit widths of the three short prefix classes '10', '110' and '1110'; '0' codes zero
// and '1111' a raw 64-bit value.
var (
	// Delta-of-delta in ms: ±256 ms of jitter, ±2 s (a clock stamping whole seconds
	// with a second of jitter), then ±2.3 h, which holds the first delta of any
	// reporting interval we meet.
	tsWidths = [3]uint{9, 12, 24}
	// Deltas of scaled integers: noise of a few counts, steps, then what nine decimals need.
	valWidths = [3]uint{6, 14, 32}
)

var pow10 = [maxDecimals + 1]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9}

// errCorrupt is returned by the decoder for bytes no encoder wrote.
var errCorrupt = errors.New("series: corrupt chunk")

// sample is one reading: ms since the Unix epoch and a value.
type sample struct {
	t int64
	v float64
}

// chunk is a closed, compressed run of one series' readings inside the window
// [start, start+span); its data is immutable once made.
type chunk struct {
	start int64
	data  string
}

// points returns the number of readings in the chunk without decoding it.
func (c chunk) points() int {
	if len(c.data) < 2 {
		return 0
	}
	n, _ := uvarint(c.data[1:])
	return int(n)
}

// uvarint decodes an unsigned varint from s and returns it and its length, or a
// length ≤ 0 when s holds none.
func uvarint(s string) (uint64, int) {
	var x uint64
	var sh uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<sh, i + 1
		}
		x |= uint64(b&0x7f) << sh
		sh += 7
	}
	return 0, 0
}

// decimalDigits returns the smallest k ≤ maxDecimals such that every value is exactly
// int/10^k, or false when there is none.
func decimalDigits(pts []sample) (int, bool) {
next:
	for k := 0; k <= maxDecimals; k++ {
		for _, p := range pts {
			if _, ok := scaled(p.v, k); !ok {
				continue next
			}
		}
		return k, true
	}
	return 0, false
}

// negZero stands for -0 among scaled integers: rounding a small negative reading gives
// -0 often enough that it should not cost a chunk its decimal coding. It is far outside
// the ±2^53 of real values, and deltas to and from it wrap the same way when decoded.
const negZero = math.MinInt64

// scaled returns v·10^k as an integer if v is exactly that integer divided by 10^k.
func scaled(v float64, k int) (int64, bool) {
	if math.Float64bits(v) == 1<<63 {
		return negZero, true
	}
	x := v * pow10[k]
	if !(math.Abs(x) < 1<<53) { // also refuses NaN and ±Inf
		return 0, false
	}
	i := int64(math.Round(x))
	// The decoder computes float64(i)/10^k; only keep i when that gives v back bit for
	// bit.
	if math.Float64bits(float64(i)/pow10[k]) != math.Float64bits(v) {
		return 0, false
	}
	return i, true
}

// writeClass writes x in the prefix classes of widths.
func writeClass(w *bitWriter, x int64, widths *[3]uint) {
	if x == 0 {
		w.write(0, 1)
		return
	}
	for i, b := range widths {
		lim := int64(1) << (b - 1)
		if x >= -lim && x < lim {
			// i+1 ones then a zero: '10', '110', '1110'.
			w.write((1<<(i+2)-1)&^1, uint(i+2))
			w.write(uint64(x), b)
			return
		}
	}
	w.write(0xf, 4)
	w.write(uint64(x), 64)
}

// readClass reads a value written by writeClass.
func readClass(r *bitReader, widths *[3]uint) (int64, bool) {
	ones, ok := r.readPrefix()
	if !ok {
		return 0, false
	}
	if ones == 0 {
		return 0, true
	}
	b := uint(64)
	if ones < 4 {
		b = widths[ones-1]
	}
	u, ok := r.read(b)
	if !ok {
		return 0, false
	}
	return int64(u<<(64-b)) >> (64 - b), true
}

// encodeChunk appends the encoding of pts (sorted by time, distinct times, at or after
// base) to dst.
func encodeChunk(dst []byte, base int64, pts []sample) []byte {
	k, dec := decimalDigits(pts)
	mode := byte(modeXOR)
	if dec {
		mode = modeDecimal | byte(k)<<4
	}
	dst = append(dst, mode)
	dst = binary.AppendUvarint(dst, uint64(len(pts)))
	dst = binary.AppendUvarint(dst, uint64(pts[0].t-base))
	w := bitWriter{buf: dst}

	var (
		prevT     = pts[0].t
		prevDelta int64
		prevInt   int64
		prevBits  uint64
		lead      = uint(64) // 64: no XOR window yet
		trail     uint
	)
	if dec {
		prevInt, _ = scaled(pts[0].v, k)
		writeClass(&w, prevInt, &valWidths)
	} else {
		prevBits = math.Float64bits(pts[0].v)
		w.write(prevBits, 64)
	}
	for _, p := range pts[1:] {
		delta := p.t - prevT
		writeClass(&w, delta-prevDelta, &tsWidths)
		prevT, prevDelta = p.t, delta

		if dec {
			i, _ := scaled(p.v, k)
			writeClass(&w, i-prevInt, &valWidths)
			prevInt = i
			continue
		}
		b := math.Float64bits(p.v)
		x := b ^ prevBits
		prevBits = b
		if x == 0 {
			w.write(0, 1)
			continue
		}
		l, t := uint(bits.LeadingZeros64(x)), uint(bits.TrailingZeros64(x))
		if l > 31 {
			l = 31 // 5 bits hold the leading count
		}
		if lead != 64 && l >= lead && t >= trail {
			w.write(0b10, 2)
			w.write(x>>trail, 64-lead-trail)
			continue
		}
		lead, trail = l, t
		sig := 64 - l - t
		w.write(0b11, 2)
		w.write(uint64(l), 5)
		w.write(uint64(sig&63), 6) // 64 significant bits are written as 0
		w.write(x>>t, sig)
	}
	return w.bytes()
}

// chunkIter decodes a chunk reading by reading.
type chunkIter struct {
	r     bitReader
	n, i  int
	dec   bool
	scale float64
	t     int64
	delta int64
	v     float64
	ival  int64
	vbits uint64
	lead  uint
	trail uint
	err   error
}

// newChunkIter starts decoding data, a chunk whose window starts at base.
func newChunkIter(data string, base int64) chunkIter {
	it := chunkIter{lead: 64}
	if len(data) < 1 {
		it.err = errCorrupt
		return it
	}
	mode := data[0]
	switch mode & 0xf {
	case modeXOR:
		if mode>>4 != 0 {
			it.err = errCorrupt
			return it
		}
	case modeDecimal:
		k := int(mode >> 4)
		if k > maxDecimals {
			it.err = errCorrupt
			return it
		}
		it.dec, it.scale = true, pow10[k]
	default:
		it.err = errCorrupt
		return it
	}
	n, m := uvarint(data[1:])
	if m <= 0 || n == 0 || n > uint64(len(data))*8 {
		it.err = errCorrupt
		return it
	}
	t0, m2 := uvarint(data[1+m:])
	if m2 <= 0 {
		it.err = errCorrupt
		return it
	}
	it.n = int(n)
	it.t = base + int64(t0)
	it.r = bitReader{data: data[1+m+m2:]}
	return it
}

// next decodes the next reading into it.t and it.v; it returns false at the end or on
// corrupt data (then it.err is set).
func (it *chunkIter) next() bool {
	if it.err != nil || it.i >= it.n {
		return false
	}
	ok := it.step()
	if !ok {
		it.err = errCorrupt
		return false
	}
	it.i++
	return true
}

func (it *chunkIter) step() bool {
	r := &it.r
	if it.i == 0 {
		if it.dec {
			i, ok := readClass(r, &valWidths)
			it.ival = i
			it.v = unscale(i, it.scale)
			return ok
		}
		b, ok := r.read(64)
		it.vbits = b
		it.v = math.Float64frombits(b)
		return ok
	}
	dod, ok := readClass(r, &tsWidths)
	if !ok {
		return false
	}
	it.delta += dod
	it.t += it.delta

	if it.dec {
		d, ok := readClass(r, &valWidths)
		it.ival += d
		it.v = unscale(it.ival, it.scale)
		return ok
	}
	b, ok := r.readBit()
	if !ok {
		return false
	}
	if !b {
		return true // same value
	}
	b, ok = r.readBit()
	if !ok {
		return false
	}
	if b {
		l, ok := r.read(5)
		if !ok {
			return false
		}
		sig, ok := r.read(6)
		if !ok {
			return false
		}
		if sig == 0 {
			sig = 64
		}
		if l+sig > 64 {
			return false
		}
		it.lead, it.trail = uint(l), uint(64-l-sig)
	} else if it.lead == 64 {
		return false // a reused window before any was set
	}
	x, ok := r.read(64 - it.lead - it.trail)
	if !ok {
		return false
	}
	it.vbits ^= x << it.trail
	it.v = math.Float64frombits(it.vbits)
	return true
}

// decodeChunk appends the readings of a chunk to dst.
func decodeChunk(dst []sample, data string, base int64) ([]sample, error) {
	it := newChunkIter(data, base)
	for it.next() {
		dst = append(dst, sample{it.t, it.v})
	}
	return dst, it.err
}

// unscale inverts scaled.
func unscale(i int64, scale float64) float64 {
	if i == negZero {
		return math.Copysign(0, -1)
	}
	return float64(i) / scale
}
