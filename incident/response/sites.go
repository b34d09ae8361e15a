package response

import (
	"slices"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/live"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// LiveSites tell an incident's site from its first alarm's sensor, and
// the owners in an area from the sensors inside it.
type LiveSites struct {
	Live    *live.Service
	Sensors *live.Sensors
}

// Site is the site of in's first alarm.
func (l LiveSites) Site(in *incident.Incident) (Site, bool) {
	if len(in.Alarms) == 0 {
		return Site{}, false
	}
	a, err := l.Live.Alarm(in.Alarms[0])
	if err != nil {
		return Site{}, false
	}
	s := Site{Domain: string(a.Domain), District: a.District, Location: orb.Point(a.Location)}
	if sn, ok := l.Sensors.Get(a.Sensor); ok {
		s.Owner = sn.Owner
		if s.District == "" {
			s.District = sn.District
		}
	}
	return s, true
}

// OwnersIn are the owning units of the sensors inside area, sorted.
func (l LiveSites) OwnersIn(area orb.Geometry) []string {
	var out []string
	l.Sensors.In(area.Bound(), func(sn *live.Sensor) bool {
		if sn.Owner != "" && !slices.Contains(out, sn.Owner) && inside(area, sn.Location) {
			out = append(out, sn.Owner)
		}
		return true
	})
	slices.Sort(out)
	return out
}

func inside(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return g.Bound().Contains(p)
}
