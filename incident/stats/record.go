package stats

import (
	"strconv"
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/live"
)

// Alarm is one alarm as the statistics read it. Zero times are times not
// reached (an alarm not cleared, not acknowledged).
type Alarm struct {
	ID         uint64 `json:"id"`
	Sensor     uint64 `json:"sensor"`
	SensorKind string `json:"sensor_kind,omitempty"` // live.Sensor.Kind
	Metric     string `json:"metric"`
	// Rule is the rule that raised it, as RuleID names it; "" when unknown.
	Rule     string    `json:"rule,omitempty"`
	Domain   string    `json:"domain"`
	District string    `json:"district,omitempty"`
	Level    int       `json:"level"` // 1 (most severe) to 4
	Started  time.Time `json:"started"`
	Cleared  time.Time `json:"cleared,omitzero"`
	Acked    time.Time `json:"acked,omitzero"` // the first acknowledgement
	// Verified is whether its verification has concluded, real or false;
	// FalseAlarm implies it.
	Verified   bool   `json:"verified,omitempty"`
	FalseAlarm bool   `json:"false_alarm,omitempty"`
	Cause      string `json:"cause,omitempty"` // an incident.Cause when false
}

// verified reports whether the alarm counts in a false-alarm rate's
// denominator.
func (a *Alarm) verified() bool { return a.Verified || a.FalseAlarm }

// Incident is one incident as the statistics read it. Zero times are steps
// not reached.
type Incident struct {
	ID       string    `json:"id"`
	Domain   string    `json:"domain"`
	District string    `json:"district,omitempty"`
	Opened   time.Time `json:"opened"`
	// Verified is when verification concluded: confirmed or false alarm.
	Verified time.Time `json:"verified,omitzero"`
	// Published is when its first warning was published.
	Published time.Time `json:"published,omitzero"`
	// Receipt is the first receipt of a delivery of that warning.
	Receipt  time.Time `json:"receipt,omitzero"`
	Resolved time.Time `json:"resolved,omitzero"`
	Released time.Time `json:"released,omitzero"`
	Archived time.Time `json:"archived,omitzero"`
	Level    int       `json:"level,omitempty"`   // the final warning level, 1 to 4; 0 for none
	Outcome  string    `json:"outcome,omitempty"` // an incident.Outcome
}

// FromLive makes the record of a live alarm. sensorKind is the kind of its
// sensor (live.Sensor.Kind) and rule the rule that raised it (RuleID); the
// verification (Verified, FalseAlarm, Cause) is the caller's to set. Its
// level is the most severe it reached.
func FromLive(a *live.Alarm, sensorKind, rule string) Alarm {
	r := Alarm{ID: a.ID, Sensor: a.Sensor, SensorKind: sensorKind, Metric: a.Metric, Rule: rule,
		Domain: string(a.Domain), District: a.District, Level: int(a.MaxLevel), Started: a.Started}
	if r.Level == 0 {
		r.Level = int(a.Level)
	}
	if a.Cleared != nil {
		r.Cleared = *a.Cleared
	}
	if len(a.Acks) > 0 {
		r.Acked = a.Acks[0].At
	} else if a.Ack != nil {
		r.Acked = a.Ack.At
	}
	return r
}

// RuleID names a rule of a live.RuleSet by what makes it unique in its
// set: "ch4_lel" for a metric's base rule, "ch4_lel@hazard" for a layer's,
// "ch4_lel@hazard/restaurant" for an asset kind's, "ch4_lel#17" for sensor
// 17's own; "" for nil. The rule that raised an alarm is
// rs.Lookup(a.Metric, a.AssetLayer, assetKind, a.Sensor) in the rule set
// of a.RuleVersion.
func RuleID(r *live.Rule) string {
	switch {
	case r == nil:
		return ""
	case r.Sensor != 0:
		return r.Metric + "#" + strconv.FormatUint(r.Sensor, 10)
	case r.Kind != "":
		return r.Metric + "@" + r.Layer + "/" + r.Kind
	case r.Layer != "":
		return r.Metric + "@" + r.Layer
	}
	return r.Metric
}

// FromIncident makes the record of an incident from its state and its
// events, in order: the first time each step was reached. Domain,
// District and Receipt are not in the incident's events; the caller sets
// them.
func FromIncident(in incident.Incident, events []incident.Event) Incident {
	r := Incident{ID: in.ID, Opened: in.Opened, Level: int(in.Level()), Outcome: string(in.Outcome)}
	if w := in.Current(); w != nil {
		r.Level = int(w.Level)
	}
	first := func(t *time.Time, at time.Time) {
		if t.IsZero() {
			*t = at
		}
	}
	for _, ev := range events {
		if in.ID != "" && ev.Incident != in.ID {
			continue
		}
		switch ev.To {
		case incident.Verifying:
			first(&r.Opened, ev.At)
		case incident.Confirmed, incident.FalseAlarm:
			first(&r.Verified, ev.At)
		case incident.Published:
			first(&r.Published, ev.At)
		case incident.Resolved:
			first(&r.Resolved, ev.At)
		case incident.Released:
			first(&r.Released, ev.At)
		case incident.Archived:
			first(&r.Archived, ev.At)
		}
	}
	return r
}
