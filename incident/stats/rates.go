package stats

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// RateQuery asks for false-alarm rates of the alarms raised in
// [From, To), by sensor kind, rule or sensor.
type RateQuery struct {
	By   string    `json:"by"` // sensor_kind, rule or sensor
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Limit is the most rows returned (the most false alarms first);
	// 0 is DefaultLimit, at most MaxLimit.
	Limit int `json:"limit,omitempty"`
}

// Validate checks the query; a refusal is an *Error.
func (q *RateQuery) Validate() error {
	switch q.By {
	case BySensorKind, ByRule, BySensor:
	default:
		return refuse(CodeBadGroup, "by %q is not sensor_kind, rule or sensor", clip(q.By))
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return refuse(CodeBadLimit, "limit %d is not 0 to %d", q.Limit, MaxLimit)
	}
	return checkSpan(q.From, q.To)
}

// Rate is the false alarms of one group against the alarms verified.
type Rate struct {
	Key      string `json:"key"`      // a sensor kind, a rule (RuleID), a sensor id, Unknown or "all"
	Alarms   int    `json:"alarms"`   // raised
	Verified int    `json:"verified"` // whose verification concluded
	False    int    `json:"false"`    // verified as false
	// Rate is False / Verified, null when nothing was verified.
	Rate *float64 `json:"rate"`
	// Causes counts the false alarms by cause ("" counts as Unknown).
	Causes map[string]int `json:"causes,omitempty"`
}

// Rates is a false-alarm rate table: Total over every alarm of the range,
// Rows the groups with the most false alarms first (then the most
// verified, then by key; sensor ids in numeric order), at most the query's limit of Groups.
type Rates struct {
	By     string    `json:"by"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Total  Rate      `json:"total"`
	Groups int       `json:"groups"` // rows before the limit
	Rows   []Rate    `json:"rows"`
}

func (r *Rate) add(a *Alarm) {
	r.Alarms++
	if !a.verified() {
		return
	}
	r.Verified++
	if a.FalseAlarm {
		r.False++
		if r.Causes == nil {
			r.Causes = make(map[string]int, 2)
		}
		r.Causes[nameKey(a.Cause)]++
	}
}

func (r *Rate) finish() {
	if r.Verified > 0 {
		v := float64(r.False) / float64(r.Verified)
		r.Rate = &v
	}
}

// FalseAlarmRates computes false / verified for the alarms raised in
// [q.From, q.To), overall and by q.By.
func FalseAlarmRates(alarms []Alarm, q RateQuery) (*Rates, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	out := &Rates{By: q.By, From: q.From, To: q.To, Total: Rate{Key: All}}
	byName := make(map[string]*Rate)
	bySensor := make(map[uint64]*Rate)
	for i := range alarms {
		a := &alarms[i]
		if !inRange(a.Started, q.From, q.To) {
			continue
		}
		out.Total.add(a)
		var r *Rate
		if q.By == BySensor {
			r = bySensor[a.Sensor]
			if r == nil {
				if len(bySensor) == MaxGroups {
					return nil, refuse(CodeTooMany, "more than %d sensors", MaxGroups)
				}
				r = &Rate{}
				bySensor[a.Sensor] = r
			}
		} else {
			k := a.SensorKind
			if q.By == ByRule {
				k = a.Rule
			}
			k = nameKey(k)
			r = byName[k]
			if r == nil {
				if len(byName) == MaxGroups {
					return nil, refuse(CodeTooMany, "more than %d groups by %s", MaxGroups, q.By)
				}
				r = &Rate{Key: k}
				byName[k] = r
			}
		}
		r.add(a)
	}
	rows := make([]Rate, 0, len(byName)+len(bySensor))
	for _, r := range byName {
		rows = append(rows, *r)
	}
	for id, r := range bySensor {
		r.Key = strconv.FormatUint(id, 10)
		if id == 0 {
			r.Key = Unknown
		}
		rows = append(rows, *r)
	}
	slices.SortFunc(rows, func(a, b Rate) int {
		if a.False != b.False {
			return b.False - a.False
		}
		if a.Verified != b.Verified {
			return b.Verified - a.Verified
		}
		if q.By == BySensor && len(a.Key) != len(b.Key) {
			return len(a.Key) - len(b.Key) // ids in numeric order
		}
		return strings.Compare(a.Key, b.Key)
	})
	out.Groups = len(rows)
	if len(rows) > limit {
		rows = rows[:limit:limit]
	}
	for i := range rows {
		rows[i].finish()
	}
	out.Total.finish()
	out.Rows = rows
	return out, nil
}
