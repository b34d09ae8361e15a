// Package jsonerr says where in a file a JSON decoding error is, so that a
// refusal can name the line.
package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// Line returns the line (from 1) of data that err, from decoding data,
// points at, and false when err names no place (an unknown field, a second
// value).
func Line(data []byte, err error) (int, bool) {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := int64(-1)
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(data))
	}
	if off < 0 {
		return 0, false
	}
	off = min(off, int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte{'\n'}), true
}

// Reason is err's message without the "json: " prefix.
func Reason(err error) string { return strings.TrimPrefix(err.Error(), "json: ") }
