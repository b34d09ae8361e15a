package sim

import (
	"strconv"
	"time"
)

// Reading is one value of one metric of one sensor at one time, as the
// ingest API takes it.
type Reading struct {
	Sensor uint64    // the sensor's feature id
	Metric string    // a metric id such as "ch4_lel"
	Value  float64   // in Unit
	Unit   string    // the metric's unit symbol, such as "%LEL"
	Time   time.Time // when the value was measured
}

// AppendJSON appends the reading as one JSON object of the ingest API,
// with the time in RFC 3339 (UTC, milliseconds).
func (r Reading) AppendJSON(b []byte) []byte {
	b = append(b, `{"sensor":`...)
	b = strconv.AppendUint(b, r.Sensor, 10)
	b = append(b, `,"metric":`...)
	b = strconv.AppendQuote(b, r.Metric)
	b = append(b, `,"value":`...)
	b = strconv.AppendFloat(b, r.Value, 'f', -1, 64)
	if r.Unit != "" {
		b = append(b, `,"unit":`...)
		b = strconv.AppendQuote(b, r.Unit)
	}
	b = append(b, `,"ts":"`...)
	b = r.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, `"}`...)
}

// MarshalJSON encodes the reading as AppendJSON does.
func (r Reading) MarshalJSON() ([]byte, error) { return r.AppendJSON(nil), nil }
