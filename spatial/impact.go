package spatial

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// Scenario names the kind of event an alarm may announce, and how far its
// effects reach.
type Scenario struct {
	ID     string  `json:"id"`
	Title  string  `json:"title"`
	Model  string  `json:"model"`  // how the radius is found
	Source string  `json:"source"` // where the model comes from
	Radius float64 `json:"radius_m"`
}

// Hazard areas: the figures and their sources. Where a national or
// industry method exists it is used; the rest are engineering defaults an
// operator should tune.
const (
	// minRadius keeps every impact area large enough to act on.
	minRadius = 30.0
	// tntPerKgMethane is the TNT equivalent of a kilogram of methane that
	// takes part in an explosion: heat of combustion 50 MJ/kg over TNT's
	// 4.68 MJ/kg, times a 4 % yield for a vapour cloud.
	tntPerKgMethane = 50.0 / 4.68 * 0.04
	// scaledDistance is the Hopkinson–Cranz scaled distance (m/kg^⅓) of
	// about 7 kPa overpressure: windows break, people are hurt by glass.
	scaledDistance = 18.0
)

// GasPIR is the potential impact radius in metres of a natural-gas pipe
// of the diameter (mm) and pressure (MPa): r = 0.69·d·√p in feet, inches
// and psig (ASME B31.8S, 49 CFR 192.903), the area where a rupture's fire
// is deadly.
func GasPIR(diameterMM, pressureMPa float64) float64 {
	if diameterMM <= 0 || pressureMPa <= 0 {
		return 0
	}
	d := diameterMM / 25.4
	p := pressureMPa * 145.038
	return 0.69 * d * math.Sqrt(p) * 0.3048
}

// ExplosionRadius is how far a methane–air explosion in a closed space of
// volume m³ at a stoichiometric 9.5 % breaks windows and hurts people: the
// TNT-equivalent method (AQ 8001 / CCPS) with Hopkinson–Cranz scaling.
func ExplosionRadius(volumeM3 float64) float64 {
	methane := volumeM3 * 0.095 * 0.717 // kg at 0.717 kg/m³
	return scaledDistance * math.Cbrt(methane*tntPerKgMethane)
}

// spaceVolume is a typical volume of the closed space a sensor watches.
func spaceVolume(assetLayer, kind string) float64 {
	switch {
	case assetLayer == layers.UtilityTunnel:
		return 200 * 2.5 * 3 // one fire zone of a compartment
	case assetLayer == layers.PowerDuct || assetLayer == layers.TelecomDuct:
		return 50 * 1.2 // a duct section between wells
	case assetLayer == layers.Building:
		return 500 // a basement
	case kind == "restaurant":
		return 150 // a kitchen
	}
	return 3 // a manhole or valve well
}

// ImpactScenario picks the scenario of an alarm by its domain and metric
// and sizes its area. asset is the alarmed asset, pipe the nearest pipe of
// the domain (either may be nil).
func ImpactScenario(domain, metric string, asset, pipe *layers.Feature) Scenario {
	num := func(f *layers.Feature, k string) float64 {
		if f == nil {
			return 0
		}
		v, _ := f.Props[k].(float64)
		return v
	}
	kind := ""
	assetLayer := ""
	if asset != nil {
		kind, _ = asset.Props["kind"].(string)
		assetLayer = asset.Layer
	}
	switch {
	case (domain == "gas" || domain == "drainage") && (metric == "ch4_lel" || metric == "ch4_vol"),
		domain == "tunnel" && metric == "ch4_vol":
		r := ExplosionRadius(spaceVolume(assetLayer, kind))
		src := "TNT equivalence (AQ 8001, CCPS) with Hopkinson–Cranz scaling, 7 kPa"
		if pir := GasPIR(num(pipe, "diameter_mm"), num(pipe, "pressure_mpa")); pir > r {
			r, src = pir, "potential impact radius of the nearest gas pipe, ASME B31.8S / 49 CFR 192.903"
		}
		id := "gas_explosion_confined"
		if domain == "tunnel" {
			id = "tunnel_gas"
		}
		return Scenario{ID: id, Title: "Gas explosion in a confined space", Model: "max(explosion of the space at 9.5 % methane, pipe PIR)", Source: src, Radius: max(r, minRadius)}
	case domain == "gas":
		r := GasPIR(num(pipe, "diameter_mm"), num(pipe, "pressure_mpa"))
		return Scenario{ID: "gas_pipe_rupture", Title: "Gas pipe rupture and fire", Model: "r = 0.69·d·√p (ft, in, psig)", Source: "ASME B31.8S potential impact radius (49 CFR 192.903)", Radius: max(r, minRadius)}
	case domain == "water":
		// Water spreads along the street and undermines it: a reach that
		// grows with the main's diameter.
		r := 30 + 0.1*num(pipe, "diameter_mm")
		return Scenario{ID: "water_main_burst", Title: "Water main burst: flooding and road collapse", Model: "r = 30 m + 0.1 m per mm of diameter", Source: "engineering default; tune per city", Radius: r}
	case domain == "drainage":
		return Scenario{ID: "waterlogging", Title: "Waterlogging", Model: "150 m around the low point", Source: "engineering default; tune per city", Radius: 150}
	case domain == "heating":
		r := 20 + 0.05*num(pipe, "diameter_mm")
		return Scenario{ID: "heating_burst", Title: "Hot water burst and road collapse", Model: "r = 20 m + 0.05 m per mm, at least 30 m", Source: "engineering default; tune per city", Radius: max(r, minRadius)}
	case domain == "bridge":
		return Scenario{ID: "bridge_damage", Title: "Bridge damage", Model: "the bridge and 50 m around it", Source: "engineering default: the closure zone of the approaches", Radius: 50}
	case domain == "tunnel":
		return Scenario{ID: "tunnel_incident", Title: "Utility tunnel incident", Model: "the fire zone and 30 m around it", Source: "engineering default", Radius: 30}
	}
	return Scenario{ID: "generic", Title: "Alarm", Model: "100 m around the sensor", Source: "engineering default", Radius: 100}
}

// Impact is what an alarm's event would reach.
type Impact struct {
	Scenario  Scenario    `json:"scenario"`
	Area      orb.Polygon `json:"-"`
	Targets   []Hit       `json:"-"`
	Hazards   []Hit       `json:"-"`
	Buildings []Hit       `json:"-"`
	People    float64     `json:"people"`
	Roads     []string    `json:"roads"`
}

// Occupancy is the share of a building's people present at an hour (local
// time), by its use: homes full at night, offices and schools by day.
func Occupancy(use string, hour int) float64 {
	day := hour >= 8 && hour < 18
	evening := hour >= 18 && hour < 23
	switch use {
	case "residential":
		if day {
			return 0.35
		}
		return 0.9
	case "office", "industrial", "warehouse":
		if day {
			return 0.9
		}
		return 0.05
	case "school":
		if day && hour < 17 {
			return 0.95
		}
		return 0.02
	case "commercial", "public":
		if day || evening {
			return 0.7
		}
		return 0.05
	case "hospital":
		return 0.8
	}
	return 0.5
}

// Circle returns a 64-gon of radius metres around c.
func Circle(c orb.Point, radius float64) orb.Polygon {
	pl := NewPlane(c)
	ring := make(orb.Ring, 0, 65)
	for i := 0; i <= 64; i++ {
		a := 2 * math.Pi * float64(i%64) / 64
		ring = append(ring, pl.Unproject(orb.Point{radius * math.Cos(a), radius * math.Sin(a)}))
	}
	return orb.Polygon{ring}
}

// AssessImpact finds what lies within the scenario's radius of the place
// (the alarmed asset's geometry, or the sensor's point), at a time.
func AssessImpact(ctx context.Context, src Source, sc Scenario, place orb.Geometry, at time.Time) (*Impact, error) {
	im := &Impact{Scenario: sc, Area: Circle(place.Bound().Center(), sc.Radius+boundRadius(place))}
	var err error
	if im.Targets, err = Nearby(ctx, src, place, sc.Radius, []string{layers.ProtectiveTarget}); err != nil {
		return nil, err
	}
	if im.Hazards, err = Nearby(ctx, src, place, sc.Radius, []string{layers.Hazard}); err != nil {
		return nil, err
	}
	if im.Buildings, err = Nearby(ctx, src, place, sc.Radius, []string{layers.Building}); err != nil {
		return nil, err
	}
	hour := at.In(chinaTime).Hour()
	for _, b := range im.Buildings {
		pop, _ := b.Feature.Props["population"].(float64)
		use, _ := b.Feature.Props["use"].(string)
		im.People += math.Round(pop * Occupancy(use, hour))
	}
	roads, err := Nearby(ctx, src, place, sc.Radius, []string{layers.Road})
	if err != nil {
		return nil, err
	}
	for _, r := range roads {
		if name, _ := r.Feature.Props["name"].(string); name != "" && !slices.Contains(im.Roads, name) {
			im.Roads = append(im.Roads, name)
		}
	}
	return im, nil
}

// chinaTime is the time zone people's hours are counted in.
var chinaTime = time.FixedZone("CST", 8*3600)

// boundRadius is half the diagonal of a geometry's bound, in metres: what
// the area circle adds for a bridge or a tunnel section rather than a point.
func boundRadius(g orb.Geometry) float64 {
	b := g.Bound()
	pl := NewPlane(b.Center())
	p := pl.Project(b.Max)
	return math.Hypot(p[0], p[1])
}
