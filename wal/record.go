package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// MaxRecordSize is the largest record Append accepts, in bytes. The bound also
// keeps a damaged length field from making a reader allocate gigabytes.
const MaxRecordSize = 16 << 20

// A record on disk is a 20-byte header followed by its payload:
//
//	crc  uint32  CRC-32C (Castagnoli) of the rest of the header and the payload
//	size uint32  payload length; the top bit marks the last record of a write
//	lsn  uint64  the record's LSN
//	pos  uint32  the record's place in the write it was part of (lsn - pos is
//	             the first LSN of that write)
//
// all little-endian. The last-record mark lets recovery keep whole writes only,
// so an Append survives a crash whole or not at all. pos lets it tell a write
// torn by a crash (only the last write can be, and nothing follows it) from
// damage to an earlier, acknowledged write (an intact record of a later write
// follows the damage).
const headerSize = 20

// lastFlag marks, in the size field, the last record of a write.
const lastFlag = 1 << 31

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header is a decoded record header.
type header struct {
	lsn  uint64
	pos  uint32
	size uint32
	last bool // the last record of its write
}

// groupStart is the first LSN of the write the record was part of.
func (h header) groupStart() uint64 { return h.lsn - uint64(h.pos) }

var (
	errShort    = errors.New("truncated record")
	errChecksum = errors.New("checksum mismatch")
	errLength   = errors.New("record length too large")
	errPos      = errors.New("position in write larger than lsn")
	errLSN      = errors.New("lsn out of sequence")
)

// appendRecord appends the encoding of rec to dst: its LSN, its position in its
// write and whether it is the last record of that write.
func appendRecord(dst []byte, lsn uint64, pos uint32, last bool, rec []byte) []byte {
	start := len(dst)
	var h [headerSize]byte
	size := uint32(len(rec))
	if last {
		size |= lastFlag
	}
	binary.LittleEndian.PutUint32(h[4:], size)
	binary.LittleEndian.PutUint64(h[8:], lsn)
	binary.LittleEndian.PutUint32(h[16:], pos)
	dst = append(dst, h[:]...)
	dst = append(dst, rec...)
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

// parseHeader reads the fields of a header without checking its CRC.
func parseHeader(b []byte) (h header, crc uint32) {
	crc = binary.LittleEndian.Uint32(b)
	size := binary.LittleEndian.Uint32(b[4:])
	h.size, h.last = size&^lastFlag, size&lastFlag != 0
	h.lsn = binary.LittleEndian.Uint64(b[8:])
	h.pos = binary.LittleEndian.Uint32(b[16:])
	return h, crc
}

// checkHeader rejects headers no writer produces, before their payload is read.
func checkHeader(h header) error {
	if h.size > MaxRecordSize {
		return fmt.Errorf("%w: %d bytes", errLength, h.size)
	}
	if uint64(h.pos) > h.lsn {
		return errPos
	}
	return nil
}

// decodeRecord decodes the record at the start of b, returning its header, its
// payload (aliasing b) and its encoded length.
func decodeRecord(b []byte) (header, []byte, int, error) {
	if len(b) < headerSize {
		return header{}, nil, 0, errShort
	}
	h, crc := parseHeader(b)
	if err := checkHeader(h); err != nil {
		return header{}, nil, 0, err
	}
	n := headerSize + int(h.size)
	if len(b) < n {
		return header{}, nil, 0, errShort
	}
	if crc32.Checksum(b[4:n], castagnoli) != crc {
		return header{}, nil, 0, errChecksum
	}
	return h, b[headerSize:n], n, nil
}

// recordReader decodes records one after another from the first limit bytes of
// a segment.
type recordReader struct {
	r     *bufio.Reader
	off   int64 // offset of the next record
	limit int64
	buf   []byte
}

func newRecordReader(r io.ReaderAt, limit int64) *recordReader {
	// 256 KiB: a few thousand readings per read call.
	return &recordReader{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, limit), 256<<10), limit: limit}
}

// next decodes the next record. At the clean end of the data it returns io.EOF.
// On any other error off still points at the record that failed, and the
// payload it returns is valid only until the next call.
func (rr *recordReader) next() (header, []byte, error) {
	var hb [headerSize]byte
	if _, err := io.ReadFull(rr.r, hb[:]); err != nil {
		if err == io.EOF {
			return header{}, nil, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return header{}, nil, errShort
		}
		return header{}, nil, err
	}
	h, crc := parseHeader(hb[:])
	if err := checkHeader(h); err != nil {
		return header{}, nil, err
	}
	n := int64(headerSize) + int64(h.size)
	if rr.off+n > rr.limit {
		return header{}, nil, errShort
	}
	if cap(rr.buf) < int(h.size) {
		rr.buf = make([]byte, h.size)
	}
	p := rr.buf[:h.size]
	if _, err := io.ReadFull(rr.r, p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return header{}, nil, errShort
		}
		return header{}, nil, err
	}
	sum := crc32.Update(crc32.Checksum(hb[4:], castagnoli), castagnoli, p)
	if sum != crc {
		return header{}, nil, errChecksum
	}
	rr.off += n
	return h, p, nil
}

// findLaterWrite looks in b, the bytes after a damaged record that should have
// had LSN lsn, for intact records of a later write than the damaged one. Only
// the last write can be torn by a crash, and a write starts only after the one
// before it was fsynced, so such a record proves that the damaged one had been
// acknowledged. It returns the offset in b of the first such record, or -1,
// and the highest LSN of them all.
func findLaterWrite(b []byte, lsn uint64) (at int, maxLSN uint64) {
	at = -1
	for i := 0; i+headerSize <= len(b); {
		h, _, n, err := decodeRecord(b[i:])
		if err != nil {
			i++
			continue
		}
		if h.lsn >= lsn && h.groupStart() > lsn {
			if at < 0 {
				at = i
			}
			maxLSN = max(maxLSN, h.lsn)
		}
		i += n // an intact record: skip it whole
	}
	return at, maxLSN
}
