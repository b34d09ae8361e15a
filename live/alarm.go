package live

import "time"

// AlarmState is whether an alarm is still open.
type AlarmState string

// Alarm states.
const (
	Active       AlarmState = "active"
	ClearedState AlarmState = "cleared"
)

// Ack is an operator's acknowledgement of an alarm.
type Ack struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Change is one transition of an alarm with the reading that caused it.
type Change struct {
	Kind  string    `json:"kind"`
	From  Level     `json:"from"`
	To    Level     `json:"to"`
	Value float64   `json:"value"`
	At    time.Time `json:"at"`
	// RuleVersion is the version of the rules that decided it.
	RuleVersion uint64 `json:"rule_version,omitempty"`
}

// Alarm is a threshold breach of one sensor's metric, from when it was
// raised until it cleared: one open alarm per (sensor, metric).
type Alarm struct {
	ID         uint64     `json:"id"`
	Sensor     uint64     `json:"sensor"`
	SensorCode string     `json:"sensor_code"`
	Metric     string     `json:"metric"`
	Unit       string     `json:"unit"`
	Asset      uint64     `json:"asset"`
	AssetLayer string     `json:"asset_layer"`
	Location   [2]float64 `json:"location"`
	Domain     Domain     `json:"domain"`
	District   string     `json:"district,omitempty"`
	Level      Level      `json:"level"`
	MaxLevel   Level      `json:"max_level"`
	State      AlarmState `json:"state"`
	First      float64    `json:"first_value"`
	Last       float64    `json:"last_value"`
	Peak       float64    `json:"peak_value"`
	Started    time.Time  `json:"started"`
	Updated    time.Time  `json:"updated"`
	Cleared    *time.Time `json:"cleared,omitempty"`
	// Ack is the latest acknowledgement; Acks are all of them, in order.
	Ack  *Ack  `json:"ack,omitempty"`
	Acks []Ack `json:"acks,omitempty"`
	// RuleVersion is the version of the rules that raised it.
	RuleVersion uint64 `json:"rule_version"`
	// Incident groups the alarms on one asset raised within IncidentWindow
	// of each other: the id of the first of them.
	Incident uint64   `json:"incident"`
	Changes  []Change `json:"changes,omitempty"`
}

// IncidentWindow is how close in time alarms on one asset must start to be
// one incident: a storm of sensors on a leaking main shows as one.
const IncidentWindow = 10 * time.Minute
