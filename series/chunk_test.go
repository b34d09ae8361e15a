package series

import (
	"math"
	"math/rand/v2"
	"testing"
)

// genSamples returns n readings from start, spaced by interval plus up to jitter ms,
// with values from val.
func genSamples(r *rand.Rand, start int64, n int, interval, jitter int64, val func(i int) float64) []sample {
	pts := make([]sample, n)
	t := start
	for i := range pts {
		pts[i] = sample{t, val(i)}
		t += interval
		if jitter > 0 {
			t += r.Int64N(jitter) + 1
		}
	}
	return pts
}

func roundTrip(t *testing.T, base int64, pts []sample) int {
	t.Helper()
	data := encodeChunk(nil, base, pts)
	got, err := decodeChunk(nil, string(data), base)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if len(got) != len(pts) {
		t.Fatalf("decoded %d readings, want %d", len(got), len(pts))
	}
	for i := range pts {
		if got[i].t != pts[i].t || math.Float64bits(got[i].v) != math.Float64bits(pts[i].v) {
			t.Fatalf("reading %d: got (%d, %v), want (%d, %v)", i, got[i].t, got[i].v, pts[i].t, pts[i].v)
		}
	}
	if n := (chunk{data: string(data)}).points(); n != len(pts) {
		t.Fatalf("points() = %d, want %d", n, len(pts))
	}
	return len(data)
}

func TestChunkRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := int64(1_750_000_000_000) // a window start in ms
	walk := func(scale float64) func(int) float64 {
		x := 0.0
		return func(int) float64 { x += r.NormFloat64() * scale; return x }
	}
	rounded := func(f func(int) float64, k int) func(int) float64 {
		return func(i int) float64 { return math.Round(f(i)*pow10[k]) / pow10[k] }
	}
	edge := []float64{0, -1, 1, math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64,
		-math.SmallestNonzeroFloat64, 1e-300, 1e300, math.Inf(1), math.Inf(-1), math.Copysign(0, -1),
		0.1, 0.35, 9007199254740993, 1 << 62, -(1 << 62), 123456.789, math.Nextafter(1, 2)}
	tests := []struct {
		name     string
		n        int
		interval int64
		jitter   int64
		val      func(i int) float64
	}{
		{"RandomWalk", 500, 60_000, 0, walk(1)},
		{"RandomWalkJitter", 500, 60_000, 900, walk(0.01)},
		{"Constant", 300, 10_000, 0, func(int) float64 { return 42.5 }},
		{"Zero", 300, 300_000, 0, func(int) float64 { return 0 }},
		{"Negative", 300, 60_000, 3, func(int) float64 { return -273.15 - r.Float64() }},
		{"Huge", 100, 60_000, 0, func(int) float64 { return 1e300 * r.Float64() }},
		{"Tiny", 100, 60_000, 0, func(int) float64 { return 1e-300 * r.Float64() }},
		{"Edge", len(edge) * 4, 1, 0, func(i int) float64 { return edge[i%len(edge)] }},
		{"Bits", 400, 60_000, 0, func(int) float64 { return math.Float64frombits(r.Uint64() &^ (0x7ff << 52)) }},
		{"Irregular", 400, 1, 3_600_000, walk(5)},
		{"Millisecond", 1000, 1, 0, walk(1)},
		{"OneReading", 1, 0, 0, walk(1)},
		{"Decimal1", 720, 10_000, 0, rounded(walk(0.3), 1)},
		{"Decimal3", 720, 10_000, 20, rounded(walk(0.002), 3)},
		{"Decimal9", 200, 10_000, 0, rounded(walk(1), 9)},
		{"NegativeZero", 300, 60_000, 0, func(i int) float64 { return []float64{0.1, math.Copysign(0, -1), 0, -0.1}[i%4] }},
		{"Integers", 200, 60_000, 0, rounded(walk(100), 0)},
		{"HugeIntegers", 200, 60_000, 0, func(int) float64 { return float64(r.Int64N(1<<53)) - 1<<52 }},
		{"MixedRounding", 200, 60_000, 0, func(i int) float64 {
			if i == 150 {
				a, b := 0.1, 0.2
				return a + b
			}
			return float64(i) / 100
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts := genSamples(r, base+int64(r.IntN(1000)), tt.n, tt.interval, tt.jitter, tt.val)
			size := roundTrip(t, base, pts)
			t.Logf("%d readings, %d bytes, %.2f bytes/reading", tt.n, size, float64(size)/float64(tt.n))
		})
	}
}

func TestChunkDecimalMode(t *testing.T) {
	pts := []sample{{0, 0.35}, {1000, 0.36}, {2000, 0.351}}
	data := encodeChunk(nil, 0, pts)
	if data[0] != modeDecimal|3<<4 {
		t.Fatalf("mode byte %#x, want decimal with 3 digits", data[0])
	}
	a, b := 0.1, 0.2
	pts[1].v = a + b // 0.30000000000000004 is no short decimal
	data = encodeChunk(nil, 0, pts)
	if data[0] != modeXOR {
		t.Fatalf("mode byte %#x, want XOR", data[0])
	}
	if i, ok := scaled(math.Copysign(0, -1), 2); !ok || i == 0 {
		t.Fatalf("-0 scaled to %d, %v; it must not be coded as the integer 0", i, ok)
	}
}

func TestChunkCorrupt(t *testing.T) {
	good := string(encodeChunk(nil, 0, genSamples(rand.New(rand.NewPCG(3, 4)), 0, 50, 1000, 10, func(i int) float64 { return float64(i) * 1.1 })))
	tests := map[string]string{
		"Empty":       "",
		"BadMode":     "\x07" + good[1:],
		"BadDigits":   "\xf1" + good[1:],
		"ZeroCount":   "\x00\x00\x00",
		"NoTime":      "\x00\x01",
		"Truncated":   good[:len(good)/2],
		"HugeCount":   "\x00\xff\xff\xff\xff\x0f\x00" + good[3:],
		"BadVarint":   "\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
		"ReuseFirst":  "\x00\x02\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x40",     // dod 0, then value '10'
		"LeadPlusSig": "\x00\x02\x00" + "\x00\x00\x00\x00\x00\x00\x00\x00" + "\x7f\xff", // dod 0, '11', lead 31, sig 63
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeChunk(nil, data, 0); err == nil {
				t.Fatal("no error")
			}
		})
	}
}

// FuzzChunkDecode feeds the decoder arbitrary bytes: it must return, with or without
// an error, and never panic.
func FuzzChunkDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	f.Add(encodeChunk(nil, 0, genSamples(r, 0, 20, 60_000, 100, func(i int) float64 { return r.Float64() })))
	f.Add(encodeChunk(nil, 0, genSamples(r, 0, 20, 60_000, 0, func(i int) float64 { return float64(i) / 10 })))
	f.Add([]byte{0, 1, 0})
	f.Add([]byte{0x11, 5, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		it := newChunkIter(string(data), 1_700_000_000_000)
		n := 0
		for it.next() {
			n++
		}
		if it.err == nil && n != it.n {
			t.Fatalf("clean end after %d of %d readings", n, it.n)
		}
		if n > len(data)*8 {
			t.Fatalf("%d readings from %d bytes", n, len(data))
		}
	})
}

// FuzzChunkRoundTrip encodes readings made from arbitrary bytes and checks they come
// back bit for bit.
func FuzzChunkRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Fuzz(func(t *testing.T, data []byte) {
		var pts []sample
		tm := int64(0)
		for len(data) >= 12 {
			d := int64(uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16 | uint32(data[3])<<24)
			tm += d%10_000_000 + 1
			var b uint64
			for i := 4; i < 12; i++ {
				b = b<<8 | uint64(data[i])
			}
			v := math.Float64frombits(b)
			if data[4]&1 == 0 { // half the time a short decimal
				v = float64(int64(b)%1_000_000) / 100
			}
			pts = append(pts, sample{tm, v})
			data = data[12:]
		}
		if len(pts) == 0 {
			return
		}
		roundTrip(t, 0, pts)
	})
}
