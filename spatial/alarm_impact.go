package spatial

import (
	"context"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// AlarmSite is what the impact analysis reads of an alarm.
type AlarmSite struct {
	ID    uint64
	Level int // 1 most severe
	// Domain and Metric are the alarmed sensor's (gas, ch4_lel …).
	Domain, Metric string
	// Asset is the id of the feature the sensor watches; 0 for none.
	Asset uint64
	// Location is the sensor's point.
	Location orb.Point
}

// alarmPipeLayer names, by an alarm's domain, the pipe layer whose nearest
// pipe sizes the alarm's area: gas in a drain or a utility tunnel comes from
// the gas network.
var alarmPipeLayer = map[string]string{
	"gas": layers.GasPipe, "drainage": layers.GasPipe, "tunnel": layers.GasPipe,
	"water": layers.WaterPipe, "heating": layers.HeatPipe,
}

// pipeReach is how far from an alarmed sensor, in metres, the pipe that
// sizes its area is looked for.
const pipeReach = 50.0

// AlarmPlace is an alarm's scenario, where it is centred and the pipe that
// sized it.
type AlarmPlace struct {
	Scenario Scenario
	// Place is the alarmed asset's geometry for a bridge or a tunnel
	// section, the sensor's point otherwise.
	Place orb.Geometry
	// Pipe is the nearest pipe of the alarm's domain within 50 m, or the
	// alarmed asset when it is such a pipe; nil for none.
	Pipe *layers.Feature
}

// LocateAlarm picks the scenario of an alarm and where it is centred: the
// alarmed asset (a bridge, a tunnel section) or the sensor, and the nearest
// pipe of its domain that sizes it. An asset or pipe the store cannot give
// is left out, not an error: the scenario is then sized without it.
func LocateAlarm(ctx context.Context, st FeatureSource, a AlarmSite) AlarmPlace {
	var asset, pipe *layers.Feature
	place := orb.Geometry(a.Location)
	if a.Asset != 0 {
		if f, err := st.Feature(ctx, a.Asset); err == nil {
			asset = f
			if f.Layer == layers.Bridge || f.Layer == layers.UtilityTunnel {
				place = f.Geometry
			}
		}
	}
	if l, ok := alarmPipeLayer[a.Domain]; ok {
		if asset != nil && asset.Layer == l {
			pipe = asset
		} else if hs, err := Nearby(ctx, st, a.Location, pipeReach, []string{l}); err == nil && len(hs) > 0 {
			pipe = hs[0].Feature
		}
	}
	return AlarmPlace{Scenario: ImpactScenario(a.Domain, a.Metric, asset, pipe), Place: place, Pipe: pipe}
}

// AlarmImpact is what an alarm's event would reach at a time (its Scenario
// among it), and the place and pipe the scenario was picked by.
type AlarmImpact struct {
	*Impact
	Place orb.Geometry
	Pipe  *layers.Feature
}

// AssessAlarm locates an alarm and assesses its impact at a time.
func AssessAlarm(ctx context.Context, st FeatureSource, a AlarmSite, at time.Time) (*AlarmImpact, error) {
	p := LocateAlarm(ctx, st, a)
	im, err := AssessImpact(ctx, st, p.Scenario, p.Place, at)
	if err != nil {
		return nil, err
	}
	return &AlarmImpact{Impact: im, Place: p.Place, Pipe: p.Pipe}, nil
}

// AlarmZones are the impact areas of alarms, as the risk zone layer draws
// them: a circle of the scenario's radius around the centre of each place.
func AlarmZones(ctx context.Context, st FeatureSource, alarms []AlarmSite) []AlarmZone {
	var out []AlarmZone
	for _, a := range alarms {
		p := LocateAlarm(ctx, st, a)
		out = append(out, AlarmZone{Alarm: a.ID, Level: a.Level, Domain: a.Domain, Scenario: p.Scenario,
			Area: Circle(p.Place.Bound().Center(), p.Scenario.Radius)})
	}
	return out
}
