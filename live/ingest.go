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
	CodeMalformed     = "malformed"        // a reading object with a field of the wrong type
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

// RefusalCode is a refusal code and when ingest gives it.
type RefusalCode struct{ Code, When string }

// refusalCodes is every refusal code; README.md lists the same (a test
// holds them together).
var refusalCodes = []RefusalCode{
	{CodeUnknownSensor, "no sensor has that id or device code"},
	{CodeUnknownMetric, "the sensor does not measure that metric"},
	{CodeNotFinite, "the value is NaN or infinite"},
	{CodeOutOfRange, "the value is outside what the quantity can physically be"},
	{CodeUnitMismatch, "a unit the metric is not reported in"},
	{CodeBadTimestamp, "ts missing, or neither RFC 3339 nor epoch milliseconds"},
	{CodeFuture, "ts more than 5 minutes ahead of the server's clock"},
	{CodeTooOld, "ts older than the retention (30 days by default)"},
	{CodeMalformed, "a field of the wrong type"},
	{CodeForbidden, "the device token may not report for that sensor"},
}

// RefusalCodes returns every code a reading may be refused with.
func RefusalCodes() []RefusalCode { return append([]RefusalCode(nil), refusalCodes...) }

// MaxFuture is how far ahead of the server's clock a reading's timestamp
// may be: sensor clocks drift, but not by minutes.
const MaxFuture = 5 * time.Minute

// Refusal names one refused reading of a batch.
type Refusal struct {
	Index   int    `json:"index"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Limits of one batch: what a sender may ask of the server at once.
const (
	// MaxBatch is the most readings one batch holds: a gateway's minutes of
	// readings. Past it the batch ends with ErrTooMany.
	MaxBatch = 50000
	// MaxRefusals is how many refusals an answer lists in full; the rest
	// are only counted, by code.
	MaxRefusals = 100
	// maxEcho is how many characters of a sender's value a message repeats.
	maxEcho = 64
)

// RawReading is a reading as a sender wrote it, before it is checked.
type RawReading struct {
	Sensor json.RawMessage `json:"sensor"`
	Metric string          `json:"metric"`
	Value  json.RawMessage `json:"value"`
	Unit   string          `json:"unit"`
	TS     json.RawMessage `json:"ts"`
}

// empty reports whether the reading has none of the reading fields.
func (r *RawReading) empty() bool {
	return r.Sensor == nil && r.Metric == "" && r.Value == nil && r.Unit == "" && r.TS == nil
}

// ErrBody is returned for a body that is not a JSON array or NDJSON of
// reading objects (an element that is not an object, or an object with none
// of the reading fields, ends it); readings before the fault have been
// passed on.
var ErrBody = errors.New("live: malformed body")

// ErrTooMany is returned for a batch of more than MaxBatch readings; the
// first MaxBatch have been passed on, nothing after them was read.
var ErrTooMany = fmt.Errorf("live: more than %d readings in one batch", MaxBatch)

// Refusals gathers the refusals of a batch: the first MaxRefusals in full,
// then only their number by code, so that a body of a million bad readings
// costs no more memory than one of a hundred.
type Refusals struct {
	// List holds the first MaxRefusals refusals, in the order of the batch.
	List []Refusal `json:"refused"`
	// Total counts every refusal; ByCode counts them by code.
	Total  int            `json:"refused_total"`
	ByCode map[string]int `json:"refused_by_code"`
}

// Add counts a refusal of reading i, and keeps it while the list has room;
// msg is called only then.
func (rs *Refusals) Add(i int, code string, msg func() string) {
	if rs.ByCode == nil {
		rs.ByCode = map[string]int{}
	}
	rs.Total++
	rs.ByCode[code]++
	if len(rs.List) < MaxRefusals {
		rs.List = append(rs.List, Refusal{i, code, msg()})
	}
}

// setRefused puts a batch's refusals into its answer.
func (res *IngestResult) setRefused(rs *Refusals) {
	res.Refused, res.RefusedTotal, res.RefusedByCode = rs.List, rs.Total, rs.ByCode
	if res.Refused == nil {
		res.Refused = []Refusal{}
	}
	if res.RefusedByCode == nil {
		res.RefusedByCode = map[string]int{}
	}
}

// Clip shortens a sender's value to 64 characters and "…" for a message.
func Clip(s string) string {
	n := 0
	for i := range s {
		if n == maxEcho {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// DecodeBatch reads a batch of readings, a JSON array or NDJSON (one object
// a line), and calls fn for each reading object with its index. A reading
// object with a field of the wrong type is refused on its own (into
// refused); an element that is not a reading object, or a body whose JSON
// breaks off, ends the batch with ErrBody, and reading MaxBatch+1 ends it
// with ErrTooMany, after what came before. n is the number of readings read.
func DecodeBatch(r io.Reader, fn func(i int, raw *RawReading), refused *Refusals) (n int, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	first, err := firstByte(br)
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if first != '[' {
		return decodeNDJSON(br, fn, refused)
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // [
		return 0, fmt.Errorf("%w: %w", ErrBody, err)
	}
	for ; dec.More(); n++ {
		if n == MaxBatch {
			return n, ErrTooMany
		}
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return n, fmt.Errorf("%w: reading %d: %w", ErrBody, n, err)
		}
		if err := decodeOne(m, n, fn, refused); err != nil {
			return n, err
		}
	}
	if _, err := dec.Token(); err != nil { // ]
		return n, fmt.Errorf("%w: %w", ErrBody, err)
	}
	return n, nil
}

func decodeNDJSON(br *bufio.Reader, fn func(int, *RawReading), refused *Refusals) (n int, err error) {
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if n == MaxBatch {
			return n, ErrTooMany
		}
		if err := decodeOne(line, n, fn, refused); err != nil {
			return n, err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("%w: line of reading %d: %w", ErrBody, n, err)
	}
	return n, nil
}

// decodeOne passes on reading i, refuses it when a field has the wrong type,
// and fails with ErrBody when m is not a reading object at all.
func decodeOne(m []byte, i int, fn func(int, *RawReading), refused *Refusals) error {
	if len(m) == 0 || m[0] != '{' {
		return fmt.Errorf("%w: reading %d is not a JSON object {sensor, metric, value, unit?, ts}", ErrBody, i)
	}
	var raw RawReading
	if err := json.Unmarshal(m, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return fmt.Errorf("%w: reading %d: %v", ErrBody, i, err)
		}
		refused.Add(i, CodeMalformed, func() string {
			return "not a reading object {sensor, metric, value, unit?, ts}: " + err.Error()
		})
		return nil
	}
	if raw.empty() {
		return fmt.Errorf("%w: reading %d has none of sensor, metric, value, unit, ts", ErrBody, i)
	}
	fn(i, &raw)
	return nil
}

// IsReading reports whether m is a JSON object with at least one of the
// reading fields: what a batch may hold without ending with ErrBody.
func IsReading(m []byte) bool {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || m[0] != '{' {
		return false
	}
	var raw RawReading
	err := json.Unmarshal(m, &raw)
	var te *json.UnmarshalTypeError
	return err == nil && !raw.empty() || errors.As(err, &te)
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
			return 0, &Refusal{Code: CodeNotFinite, Message: "value " + Clip(str) + " is not a finite number"}
		}
		return 0, &Refusal{Code: CodeMalformed, Message: "value must be a number"}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, &Refusal{Code: CodeMalformed, Message: "value must be a number"}
	}
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, &Refusal{Code: CodeNotFinite, Message: "value " + Clip(s) + " is not a finite number"}
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
