package wal

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestDecodeRecord(t *testing.T) {
	rec := appendRecord(nil, 42, 2, true, []byte("reading"))
	tests := []struct {
		name string
		b    []byte
		err  error
	}{
		{"OK", rec, nil},
		{"ErrShortHeader", rec[:headerSize-1], errShort},
		{"ErrShortPayload", rec[:len(rec)-1], errShort},
		{"ErrChecksum", flip(rec, len(rec)-1), errChecksum},
		{"ErrChecksumInHeader", flip(rec, 9), errChecksum},
		{"ErrLength", func() []byte { b := bytes.Clone(rec); b[7] = 0x7f; return b }(), errLength},
		{"ErrPos", appendRecord(nil, 1, 5, false, nil), errPos},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, p, n, err := decodeRecord(tt.b)
			if !errors.Is(err, tt.err) {
				t.Fatalf("decodeRecord = %v, want %v", err, tt.err)
			}
			if err == nil && (h.lsn != 42 || h.pos != 2 || !h.last || string(p) != "reading" || n != len(rec)) {
				t.Fatalf("decodeRecord = %+v %q %d", h, p, n)
			}
		})
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x20
	return b
}

// FuzzDecode feeds arbitrary bytes to the record decoders: they must not panic,
// must agree with one another, and what they accept must encode back to itself.
func FuzzDecode(f *testing.F) {
	var seg []byte
	for i := range uint64(4) {
		seg = appendRecord(seg, 7+i, uint32(i), i == 3, bytes.Repeat([]byte{byte('a' + i)}, int(i*30)))
	}
	f.Add(seg, uint64(7))
	f.Add(seg[:len(seg)-5], uint64(7))
	f.Add(flip(seg, 30), uint64(8))
	f.Add(make([]byte, 64), uint64(1))
	f.Add([]byte{}, uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, lsn uint64) {
		rr := newRecordReader(bytes.NewReader(b), int64(len(b)))
		off := 0
		for {
			h, p, n, err := decodeRecord(b[off:])
			rh, rp, rerr := rr.next()
			if err != nil {
				if rerr == nil || (off == len(b)) != (rerr == io.EOF) {
					t.Fatalf("offset %d: decodeRecord: %v, reader: %v", off, err, rerr)
				}
				break
			}
			if rerr != nil || rh != h || !bytes.Equal(rp, p) {
				t.Fatalf("offset %d: decodeRecord %+v, reader %+v %v", off, h, rh, rerr)
			}
			if enc := appendRecord(nil, h.lsn, h.pos, h.last, p); !bytes.Equal(enc, b[off:off+n]) {
				t.Fatalf("offset %d: re-encoding differs", off)
			}
			off += n
		}
		if i, _ := findLaterWrite(b, lsn); i >= len(b) {
			t.Fatalf("findLaterWrite = %d beyond %d bytes", i, len(b))
		}
	})
}
