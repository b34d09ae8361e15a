package server

import (
	"encoding/json"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/live"
)

// Feed carries the live state to the hub: it turns the service's events
// into the hub's, each encoded once for every client, and answers the hub's
// snapshots from the service. Its zero value drops events until a Server
// attaches it to its hub.
type Feed struct {
	to atomic.Pointer[feedTarget]
}

type feedTarget struct {
	hub     *hub.Hub
	live    *live.Service
	sensors *live.Sensors
	// riskVersion is the risk zone layer's version.
	riskVersion func() uint64
	// sensorMinZoom is the zoom the sensor layer is drawn from: below it a
	// subscription hears only changes of level and health.
	sensorMinZoom float64
	// incidents hold the warnings; nil for none.
	incidents *incident.Book
}

// sensorState is a sensor metric's state as the live channel carries it.
type sensorState struct {
	ID     uint64     `json:"id"`
	Code   string     `json:"code"`
	Metric string     `json:"metric"`
	Level  live.Level `json:"level"`
	Health string     `json:"health"`
	Value  float64    `json:"value"`
	Unit   string     `json:"unit,omitempty"`
	Time   time.Time  `json:"time"`
	Alarm  uint64     `json:"alarm,omitempty"`
}

// OnEvent publishes a live event to the hub; it never blocks.
func (f *Feed) OnEvent(e live.Event) {
	to := f.to.Load()
	if to == nil {
		return
	}
	switch {
	case e.Kind == "alarm" && e.Alarm != nil:
		to.hub.Publish(alarmEvent(e.Alarm, e.At))
	case e.Kind == "sensor":
		sn, ok := to.sensors.Get(e.Sensor)
		if !ok {
			return
		}
		ev := sensorEvent(sn, live.MetricState{Metric: e.Metric, Value: e.Value, Unit: e.Unit, Time: e.Time, Level: e.Level, Health: e.Health})
		if !e.Changed {
			// A new value alone: only where sensors are drawn, and it may
			// wait to travel with others.
			ev.MinZoom, ev.Deferred = to.sensorMinZoom, true
		}
		to.hub.Publish(ev)
	}
}

func sensorEvent(sn *live.Sensor, m live.MetricState) hub.Event {
	data, _ := json.Marshal(sensorState{ID: sn.ID, Code: sn.Code, Metric: m.Metric, Level: m.Level, Health: m.Health,
		Value: m.Value, Unit: m.Unit, Time: m.Time, Alarm: m.Alarm})
	return hub.Event{Topic: hub.Sensors, ID: sn.ID, Part: m.Metric, Point: sn.Location, Located: true, Time: m.Time, Data: json.RawMessage(data)}
}

func alarmEvent(a *live.Alarm, at time.Time) hub.Event {
	cp := *a
	cp.Changes = nil // GET /api/v1/alarms/{id} has them
	data, _ := json.Marshal(&cp)
	return hub.Event{Topic: hub.Alarms, ID: a.ID, Point: orb.Point(a.Location), Located: true, Time: at, Data: json.RawMessage(data)}
}

// Snapshot returns the state within a subscription: the sensor metrics
// (zoomed out, only those not normal), the active alarms and the risk zone
// layer's version.
func (f *Feed) Snapshot(sub hub.Subscription) []hub.Event {
	to := f.to.Load()
	if to == nil {
		return nil
	}
	var out []hub.Event
	b := sub.Bound()
	for _, t := range sub.Topics {
		switch t {
		case hub.Sensors:
			to.live.StatesIn(b, sub.Zoom < to.sensorMinZoom, func(sn *live.Sensor, m live.MetricState) {
				out = append(out, sensorEvent(sn, m))
			})
		case hub.Alarms:
			for _, a := range to.live.Alarms(live.AlarmFilter{State: live.Active, BBox: &b}) {
				out = append(out, alarmEvent(&a, a.Updated))
			}
		case hub.RiskZones:
			out = append(out, hub.Event{Topic: hub.RiskZones, Data: hub.LayerVersion{Version: to.riskVersion()}})
		case hub.Warnings:
			if to.incidents == nil {
				continue
			}
			for _, in := range to.incidents.List() {
				if ev, ok := warningEvent(&in); ok && warningStanding(in.State) && (!ev.Located || b.Contains(ev.Point)) {
					out = append(out, ev)
				}
			}
		}
	}
	return out
}

// warningState is a published warning as the live channel carries it:
// the incident's current version, and whether it still stands.
type warningState struct {
	Incident string            `json:"incident"`
	State    incident.State    `json:"state"`
	Standing bool              `json:"standing"` // false once released or archived: drop it
	Warning  *incident.Warning `json:"warning"`
	Versions int               `json:"versions"`
}

// warningStanding reports whether a warning of an incident in state st is
// in force.
func warningStanding(st incident.State) bool {
	return st == incident.Published || st == incident.Responding || st == incident.Resolved
}

// warningEvent is the event of in's current warning; false before its
// first is published.
func warningEvent(in *incident.Incident) (hub.Event, bool) {
	w := in.Current()
	if w == nil {
		return hub.Event{}, false
	}
	data, _ := json.Marshal(warningState{Incident: in.ID, State: in.State, Standing: warningStanding(in.State), Warning: w, Versions: len(in.Versions)})
	ev := hub.Event{Topic: hub.Warnings, ID: warningID(in.ID), Time: in.Updated, Data: json.RawMessage(data)}
	if w.Area != nil && w.Area.Geometry() != nil {
		ev.Point, ev.Located = w.Area.Geometry().Bound().Center(), true
	}
	return ev, true
}

// warningID is the number the hub keys an incident's warning by.
func warningID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}
