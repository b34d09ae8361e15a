package citygen

import (
	"fmt"
	"math/rand/v2"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Metrics is the sensor metric vocabulary of the sample city: the ids
// that a sensor's comma-separated metrics attribute uses, with their units.
//
//	ch4_lel         combustible gas (methane), %LEL — valve wells, adjacent underground spaces, restaurants
//	ch4_vol         methane, %VOL — utility tunnel gas compartments
//	leak_scan       laser methane leak scan, ppm·m — gas stations and regulator stations
//	pressure        pipe pressure, MPa — gas, water and heating
//	flow            flow, m³/h (gas, heating), m/s (water, drainage)
//	leak_noise      leak noise, dB — water mains
//	vibration       vibration over a pipe (construction), event score 0–100
//	level           water level in a manhole, pump sump or outfall, % of depth
//	water_depth     road waterlogging depth, cm
//	rainfall        rainfall intensity, mm/h
//	river_level     river level, m above the gauge's warning level
//	h2s             hydrogen sulphide, mg/m³ — sewers and tunnels
//	o2              oxygen, %VOL — tunnels
//	temperature     °C — heating water, tunnels, bridge decks
//	humidity        %RH — tunnels, bridges
//	strain          static/dynamic strain, με
//	deflection      mm
//	displacement    mm (bearings, expansion joints)
//	tilt            degrees
//	crack_width     mm
//	acceleration    structural acceleration, g
//	cable_force     cable or hanger force, kN
//	vehicle_weight  gross vehicle weight (weigh-in-motion), t
//	wind_speed      m/s
//	battery         battery charge of a wireless sensor, %
var Metrics = []string{
	"ch4_lel", "ch4_vol", "leak_scan", "pressure", "flow", "leak_noise", "vibration", "level", "water_depth",
	"rainfall", "river_level", "h2s", "o2", "temperature", "humidity", "strain", "deflection", "displacement",
	"tilt", "crack_width", "acceleration", "cable_force", "vehicle_weight", "wind_speed", "battery",
}

// sensorSet places sensors and numbers their codes per domain.
type sensorSet struct {
	g     *gen
	r     *rand.Rand
	count map[string]int // by domain prefix; looked up, never ranged
}

// domainOwner is the unit that owns and answers for each domain's
// monitoring points, the 权属单位 an alarm is pushed to.
var domainOwner = map[string]string{"gas": "滨湖燃气公司", "water": "滨湖水务集团", "drainage": "滨湖排水公司",
	"heating": "滨湖热力公司", "bridge": "滨湖市政桥梁管理处", "tunnel": "滨湖管廊公司"}

var domainPrefix = map[string]string{"gas": "GAS", "water": "WAT", "drainage": "DRN", "heating": "HEAT", "bridge": "BRG", "tunnel": "TUN"}

func (s *sensorSet) add(p orb.Point, domain, kind, metrics string, asset *layers.Feature, interval int) {
	pre := domainPrefix[domain]
	s.count[pre]++
	y := 2019 + s.r.IntN(6)
	s.g.add(layers.Sensor, p, map[string]any{
		"code": fmt.Sprintf("%s-%06d", pre, s.count[pre]), "domain": domain, "kind": kind, "metrics": metrics,
		"asset": asset.ID, "asset_layer": asset.Layer, "interval_s": interval, "owner": domainOwner[domain],
		"installed": fmt.Sprintf("%d-%02d-%02d", y, 1+s.r.IntN(12), 1+s.r.IntN(28)),
	})
}

func mid(f *layers.Feature) orb.Point {
	switch g := f.Geometry.(type) {
	case orb.Point:
		return g
	case orb.LineString:
		return lerp(g[0], g[len(g)-1], 0.5)
	}
	return f.Geometry.Bound().Center()
}

func yearOf(f *layers.Feature) int { v, _ := f.Props["install_year"].(int); return v }

// sensors places the monitoring points where the guide's priority places
// are: the gas pipe's adjacent underground spaces and valve wells,
// restaurants and stations; gas and water mains; old water mains; manholes,
// waterlogging points, pump stations and the river; old or leaky heating
// pipes and substations; every bridge; the utility tunnel's fire zones.
func (g *gen) sensors() {
	s := &sensorSet{g: g, r: g.rng(streamSensors), count: map[string]int{}}
	r := s.r
	g.gasIndex = newSegIndex(g.feats[layers.GasPipe], 50)
	// gas: valve wells, stations, mains, restaurants, construction
	for _, n := range g.feats[layers.GasNode] {
		p := n.Geometry.(orb.Point)
		switch n.Props["kind"] {
		case "valve":
			if r.Float64() < 0.7 {
				s.add(p, "gas", "combustible_gas", "ch4_lel,battery", n, 300)
			}
		case "station", "regulator":
			if n.Props["name"] != nil {
				s.add(p, "gas", "leak_scanner", "leak_scan", n, 60)
				s.add(p, "gas", "pressure_flow", "pressure,flow", n, 60)
			}
		}
	}
	for i, pp := range g.gasNet.mains {
		if i%7 == 0 {
			s.add(mid(pp), "gas", "pressure_gauge", "pressure", pp, 60)
		}
	}
	for _, h := range g.hazards {
		switch h.Props["kind"] {
		case "restaurant":
			s.add(h.Geometry.(orb.Point), "gas", "combustible_gas", "ch4_lel", h, 60)
		case "gas_station", "lpg_station":
			s.add(h.Geometry.(orb.Point), "gas", "leak_scanner", "leak_scan", h, 60)
		}
	}
	for _, c := range g.construction {
		s.add(c[0].Geometry.(orb.Point), "gas", "vibration", "vibration", c[1], 10)
	}
	// adjacent underground spaces within 12.5 m of a gas pipe
	for _, n := range g.feats[layers.DrainNode] {
		if n.Props["kind"] != "manhole" || !g.gasIndex.near(n.Geometry.(orb.Point), 12.5) {
			continue
		}
		if r.Float64() < 0.2 {
			s.add(n.Geometry.(orb.Point), "gas", "combustible_gas", "ch4_lel,battery", n, 300)
		}
	}
	for _, layer := range []string{layers.PowerDuct, layers.TelecomDuct} {
		for _, d := range g.feats[layer] {
			ls := d.Geometry.(orb.LineString)
			if g.gasIndex.nearLine(ls[0], ls[1], 12.5) && r.Float64() < 0.4 {
				s.add(mid(d), "gas", "combustible_gas", "ch4_lel,battery", d, 300)
			}
		}
	}
	// water: plant, mains near it, old mains, hydrants, large users
	for _, pl := range g.waterNet.plants {
		s.add(pl.Geometry.(orb.Point), "water", "pressure_flow", "pressure,flow", pl, 60)
	}
	for i, pp := range g.waterNet.mains {
		m := mid(pp)
		nearPlant := false
		for _, pl := range g.waterNet.plants {
			nearPlant = nearPlant || dist(m, pl.Geometry.(orb.Point)) < 500
		}
		switch {
		case nearPlant || pp.Props["class"] == "transmission" && i%2 == 0:
			s.add(m, "water", "pressure_flow", "pressure,flow", pp, 60)
		case yearOf(pp) < 2001 && r.Float64() < 0.4:
			s.add(m, "water", "leak_noise_logger", "leak_noise,battery", pp, 3600)
		case i%9 == 0:
			s.add(m, "water", "pressure_gauge", "pressure", pp, 300)
		}
	}
	for i, h := range g.waterNet.hydrants {
		if i%8 == 0 {
			s.add(h.Geometry.(orb.Point), "water", "hydrant_monitor", "pressure,flow,battery", h, 300)
		}
	}
	for _, u := range g.waterNet.largeUsers {
		s.add(u.Geometry.(orb.Point), "water", "flow_meter", "flow,pressure", u, 300)
	}
	// drainage
	for i, n := range g.feats[layers.DrainNode] {
		p := n.Geometry.(orb.Point)
		switch n.Props["kind"] {
		case "manhole":
			switch {
			case n.Props["system"] == "combined" && i%4 == 0, i%11 == 0:
				s.add(p, "drainage", "level_gauge", "level,battery", n, 300)
			case n.Props["system"] == "sewage" && i%23 == 0:
				s.add(p, "drainage", "h2s_detector", "h2s,ch4_lel,battery", n, 300)
			}
		case "waterlogging_point":
			s.add(p, "drainage", "water_depth_gauge", "water_depth,battery", n, 300)
		case "pump_station":
			s.add(p, "drainage", "level_gauge", "level,flow", n, 60)
			s.add(p, "drainage", "rain_gauge", "rainfall", n, 300)
		case "outfall":
			s.add(p, "drainage", "level_gauge", "level,flow", n, 300)
		}
	}
	for _, rf := range g.rivFeats {
		rv := g.riverAt(rf.Geometry.Bound().Center()[1])
		for x := 1000.0; x < g.size; x += 2500 {
			_, n := rv.banks(x)
			s.add(orb.Point{x, n - 3}, "drainage", "river_gauge", "river_level,flow", rf, 300)
		}
	}
	for _, w := range g.drainNet.waterlogging {
		if r.Float64() < 0.4 {
			s.add(w.Geometry.(orb.Point), "drainage", "rain_gauge", "rainfall", w, 300)
		}
	}
	// heating: old or leaky pipes, substations, plants
	for _, pp := range g.feats[layers.HeatPipe] {
		lc, _ := pp.Props["leak_count"].(int)
		if (lc >= 3 || yearOf(pp) <= 2014) && pp.Props["line"] == "supply" && r.Float64() < 0.35 {
			s.add(mid(pp), "heating", "heat_monitor", "pressure,temperature,flow", pp, 300)
		}
	}
	for _, n := range g.feats[layers.HeatNode] {
		if k := n.Props["kind"]; k == "substation" || k == "plant" {
			s.add(n.Geometry.(orb.Point), "heating", "heat_monitor", "pressure,temperature,flow", n, 60)
		}
	}
	// bridges
	for _, b := range g.bridges {
		g.bridgeSensors(s, b)
	}
	// tunnel: temperature and humidity, O2 and H2S in every fire zone of
	// every compartment; two CH4 detectors per fire zone of the gas one
	for _, t := range g.tunnel {
		ls := t.Geometry.(orb.LineString)
		s.add(lerp(ls[0], ls[1], 0.5), "tunnel", "env_monitor", "temperature,humidity", t, 60)
		s.add(lerp(ls[0], ls[1], 0.55), "tunnel", "gas_detector", "o2,h2s", t, 60)
		if t.Props["compartment"] == "gas" {
			s.add(lerp(ls[0], ls[1], 0.25), "tunnel", "ch4_detector", "ch4_vol", t, 10)
			s.add(lerp(ls[0], ls[1], 0.75), "tunnel", "ch4_detector", "ch4_vol", t, 10)
		}
	}
}

func (g *gen) bridgeSensors(s *sensorSet, b *bridgeInfo) {
	at := func(t, dx float64) orb.Point { return orb.Point{b.x + dx, b.s + (b.n-b.s)*t} }
	add := func(t, dx float64, kind, metrics string, iv int) { s.add(at(t, dx), "bridge", kind, metrics, b.f, iv) }
	for _, t := range []float64{0.35, 0.5, 0.65} {
		add(t, -3, "strain_gauge", "strain,temperature", 1)
	}
	add(0.5, 3, "deflection_gauge", "deflection", 1)
	add(0.25, 3, "deflection_gauge", "deflection", 1)
	add(0.1, 0, "inclinometer", "tilt", 60)
	add(0.9, 0, "inclinometer", "tilt", 60)
	add(0.5, 0, "accelerometer", "acceleration", 1)
	add(0.05, 0, "weigh_in_motion", "vehicle_weight", 1)
	add(0.95, 0, "displacement_gauge", "displacement", 60)
	add(0.6, 6, "env_monitor", "temperature,humidity", 300)
	if c := b.f.Props["condition"]; c == "C" || c == "D" {
		add(0.4, -6, "crack_gauge", "crack_width", 600)
		add(0.6, -6, "crack_gauge", "crack_width", 600)
	}
	switch b.structure {
	case "cable_stayed":
		add(0.3, 0, "anemometer", "wind_speed", 1)
		add(0.7, 0, "accelerometer", "acceleration", 1)
		for _, t := range []float64{0.3, 0.4, 0.6, 0.7} {
			add(t, 8, "cable_force_gauge", "cable_force", 1)
			add(t, -8, "cable_force_gauge", "cable_force", 1)
		}
	case "tied_arch":
		for _, t := range []float64{0.4, 0.6} {
			add(t, 8, "cable_force_gauge", "cable_force", 1)
		}
		add(0.3, 0, "accelerometer", "acceleration", 1)
	}
}
