package response

import (
	"slices"
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/notify"
	"github.com/onemap/onemap/series"
	"github.com/paulmach/orb/geojson"
)

// Replay is an incident's span laid out in time (追溯分析), for a slider
// over the map: from it a client draws, at any moment, the sensors'
// readings and levels, the alarms, the warning areas, the responders'
// positions and the actions taken.
type Replay struct {
	From      time.Time     `json:"from"`
	To        time.Time     `json:"to"`
	Alarms    []live.Alarm  `json:"alarms"` // with their changes
	Curves    []Curve       `json:"curves"`
	Warnings  []WarningSpan `json:"warnings"`
	Positions []plan.Fix    `json:"positions"` // every position reported, in order
	Actions   []Action      `json:"actions"`
}

// Curve is one alarm's sensor metric over the span.
type Curve struct {
	Alarm  uint64  `json:"alarm"`
	Sensor uint64  `json:"sensor"`
	Code   string  `json:"code"`
	Metric string  `json:"metric"`
	Unit   string  `json:"unit,omitempty"`
	Points []Point `json:"points"`
}

// Point is a bucket of readings: its start, mean and peak.
type Point struct {
	T   time.Time `json:"t"`
	Avg float64   `json:"avg"`
	Max float64   `json:"max"`
}

// WarningSpan is a version of the warning and when it stood.
type WarningSpan struct {
	Version int               `json:"version"`
	Level   incident.Level    `json:"level"`
	Area    *geojson.Geometry `json:"area,omitempty"`
	From    time.Time         `json:"from"`
	Until   time.Time         `json:"until,omitzero"` // zero: still in force
}

// Action is one thing done, in the order of the record.
type Action struct {
	At   time.Time `json:"at"`
	Kind string    `json:"kind"` // step, plan or notify
	What string    `json:"what"` // the state gone to, the plan event, the delivery event
	Who  string    `json:"who,omitempty"`
	Role string    `json:"role,omitempty"`
	Text string    `json:"text,omitempty"`
}

// ReplayBefore is how long before an incident opened its replay starts:
// the readings that led to its alarms.
const ReplayBefore = 30 * time.Minute

// maxCurvePoints bounds the points of one curve.
const maxCurvePoints = 600

// Replay lays incident id out in time; now ends the span of an incident
// still open.
func (d *Desk) Replay(id string, svc *live.Service, curves *series.Store, now time.Time) (*Replay, bool) {
	in, ok := d.Book.Get(id)
	if !ok {
		return nil, false
	}
	r := &Replay{From: in.Opened.Add(-ReplayBefore), To: now, Alarms: []live.Alarm{}, Curves: []Curve{},
		Warnings: []WarningSpan{}, Positions: []plan.Fix{}, Actions: []Action{}}
	if in.State == incident.Archived || in.State == incident.FalseAlarm || in.State == incident.Merged {
		r.To = in.Updated
	}
	for _, aid := range in.Alarms {
		a, err := svc.Alarm(aid)
		if err != nil {
			continue
		}
		r.Alarms = append(r.Alarms, *a)
		r.From = minTime(r.From, a.Started.Add(-ReplayBefore))
	}
	for _, rec := range d.Book.Records(id) {
		act := Action{At: rec.At, Kind: rec.Kind}
		switch rec.Kind {
		case incident.KindStep:
			ev, err := incident.DecodeEvent(rec.Data)
			if err != nil {
				continue
			}
			act.What, act.Who, act.Role, act.Text = string(ev.To), ev.Who, ev.Role, ev.Reason
		case KindPlan:
			ev, err := plan.DecodeEvent(rec.Data)
			if err != nil {
				continue
			}
			act.What, act.Who, act.Role, act.Text = string(ev.Kind), ev.By, ev.Role, ev.Text
			if ev.Position != nil && ev.By != "" {
				r.Positions = append(r.Positions, plan.Fix{Login: ev.By, Position: *ev.Position, At: ev.At, Incident: id, Task: ev.Task})
			}
			if ev.Kind == plan.KindPosition {
				continue // positions are drawn, not listed
			}
		case KindNotify:
			ev, err := notify.DecodeEvent(rec.Data)
			if err != nil {
				continue
			}
			act.What, act.Who, act.Text = string(ev.Type), ev.By, ev.Text
			if act.Who == "" {
				act.Who = ev.Recipient
			}
		}
		r.Actions = append(r.Actions, act)
	}
	for i, w := range in.Versions {
		span := WarningSpan{Version: w.Version, Level: w.Level, Area: w.Area, From: w.Issued}
		if i+1 < len(in.Versions) {
			span.Until = in.Versions[i+1].Issued
		} else if !in.ReleasedAt.IsZero() {
			span.Until = in.ReleasedAt
		}
		r.Warnings = append(r.Warnings, span)
	}
	step := max(time.Second, r.To.Sub(r.From)/maxCurvePoints).Truncate(time.Second)
	for _, a := range r.Alarms {
		c := Curve{Alarm: a.ID, Sensor: a.Sensor, Code: a.SensorCode, Metric: a.Metric, Unit: a.Unit, Points: []Point{}}
		if curves != nil {
			for _, b := range curves.Query(series.Key{Sensor: a.Sensor, Metric: a.Metric}, r.From, r.To, step) {
				if b.Count > 0 {
					c.Points = append(c.Points, Point{T: b.Start, Avg: b.Avg, Max: b.Max})
				}
			}
		}
		r.Curves = append(r.Curves, c)
	}
	slices.SortStableFunc(r.Positions, func(a, b plan.Fix) int { return a.At.Compare(b.At) })
	return r, true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
