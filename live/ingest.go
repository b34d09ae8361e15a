package live

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Refusal codes: why ingest refused one reading. Stable; clients branch on them.
const (
	CodeMalformed     = "malformed"        // not a reading object, or a field of the wrong type
	CodeUnknownSensor = "unknown_sensor"   // no sensor has that id or device code
	CodeUnknownMetric = "unknown_metric"   // the sensor does not measure that metric
	CodeNotFinite     = "not_finite"       // NaN or an infinite value
	CodeOutOfRange    = "out_of_range"     // outside what the quantity can physically be
	CodeUnitMismatch  = "unit_mismatch"    // a unit the metric is not reported in
	CodeBadTimestamp  = "bad_timestamp"    // missing, or neither RFC 3339 nor epoch milliseconds
	CodeFuture        = "future_timestamp" // more than MaxFuture ahead of the server's clock
	CodeTooOld        = "too_old"          // older than the retention
	CodeForbidden     = "forbidden"        // the device token may not report for that sensor
)

// MaxFuture is how far ahead of the server's clock a reading's timestamp
// may be: sensor clocks drift, but not by minutes.
const MaxFuture = 5 * time.Minute

// Refusal names one refused reading of a batch.
type Refusal struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RawReading is a reading as a sender wrote it, before it is checked.
type RawReading struct {
	Sensor json.RawMessage `json:"sensor"`
	Metric string          `json:"metric"`
	Value  json.RawMessage `json:"value"`
	Unit   string          `json:"unit"`
	TS     json.RawMessage `json:"ts"`
}

// ErrBody is returned for a body that is not a JSON array or NDJSON of
// readings at all; readings before the fault have been passed on.
var ErrBody = errors.New("live: malformed body")

// DecodeBatch reads a batch of readings, a JSON array or NDJSON (one object
// a line), and calls fn for each reading object with its index. A reading
// that is not an object of the right shape is refused on its own; a body
// whose JSON breaks off ends the batch with ErrBody after what came before.
func DecodeBatch(r io.Reader, fn func(i int, raw *RawReading)) (refused []Refusal, n int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if first != '[' {
		return decodeNDJSON(br, fn)
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // [
		return nil, 0, fmt.Errorf("%w: %v", ErrBody, err)
	}
	for ; dec.More(); n++ {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return refused, n, fmt.Errorf("%w: reading %d: %v", ErrBody, n, err)
		}
		if ref := decodeOne(m, n, fn); ref != nil {
			refused = append(refused, *ref)
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return refused, n, fmt.Errorf("%w: %v", ErrBody, err)
	}
	return refused, n, nil
}

func decodeNDJSON(br *bufio.Reader, fn func(int, *RawReading)) (refused []Refusal, n int, err error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if ref := decodeOne(line, n, fn); ref != nil {
			refused = append(refused, *ref)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return refused, n, fmt.Errorf("%w: line of reading %d: %v", ErrBody, n, err)
	}
	return refused, n, nil
}

func decodeOne(m []byte, i int, fn func(int, *RawReading)) *Refusal {
	var raw RawReading
	if err := json.Unmarshal(m, &raw); err != nil {
		return &Refusal{i, CodeMalformed, "not a reading object {sensor, metric, value, unit?, ts}: " + err.Error()}
	}
	fn(i, &raw)
	return nil
}

func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return b, br.UnreadByte()
	}
}

// ParseValue reads a reading's value: a JSON number, or the strings "NaN",
// "Infinity" and "-Infinity" that some devices send, which are refused as
// not finite.
func ParseValue(m json.RawMessage) (float64, *Refusal) {
	s := strings.TrimSpace(string(m))
	if s == "" || s == "null" {
		return 0, &Refusal{Code: CodeMalformed, Message: "value is missing"}
	}
	if s[0] == '"' {
		var str string
		json.Unmarshal(m, &str)
		switch strings.ToLower(str) {
		case "nan", "infinity", "-infinity", "inf", "-inf", "+inf":
			return 0, &Refusal{Code: CodeNotFinite, Message: "value " + str + " is not a finite number"}
		}
		return 0, &Refusal{Code: CodeMalformed, Message: "value must be a number"}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, &Refusal{Code: CodeMalformed, Message: "value must be a number"}
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, &Refusal{Code: CodeNotFinite, Message: "value " + s + " is not a finite number"}
	}
	return v, nil
}

// ParseTime reads a reading's timestamp: RFC 3339 text or epoch milliseconds.
func ParseTime(m json.RawMessage) (time.Time, *Refusal) {
	s := strings.TrimSpace(string(m))
	bad := &Refusal{Code: CodeBadTimestamp, Message: "ts must be RFC 3339 text or epoch milliseconds"}
	if s == "" || s == "null" {
		return time.Time{}, bad
	}
	if s[0] == '"' {
		var str string
		if json.Unmarshal(m, &str) != nil {
			return time.Time{}, bad
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return time.Time{}, bad
		}
		return t, nil
	}
	ms, err := strconv.ParseFloat(s, 64)
	if err != nil || ms != math.Trunc(ms) || ms < 0 || ms > 1e15 {
		return time.Time{}, bad
	}
	return time.UnixMilli(int64(ms)), nil
}
