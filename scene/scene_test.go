package scene

import (
	"math"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

var origin = orb.Point{117.26, 31.83}

// at is the point dx metres east and dy north of the origin.
func at(dx, dy float64) orb.Point { return spatial.NewPlane(origin).Unproject(orb.Point{dx, dy}) }

func box(w, s, e, n float64) orb.Polygon {
	return orb.Polygon{{at(w, s), at(e, s), at(e, n), at(w, n), at(w, s)}}
}

func feature(id uint64, layer string, g orb.Geometry, props map[string]any) *layers.Feature {
	return &layers.Feature{ID: id, Layer: layer, Geometry: g, Props: props}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestBuild(t *testing.T) {
	bound := orb.Bound{Min: at(-500, -500), Max: at(500, 500)}
	gas := feature(1, layers.GasPipe, orb.LineString{at(-100, 0), at(100, 0)}, map[string]any{"depth_m": 1.7, "diameter_mm": 250.0, "to_node": 10.0})
	valve := feature(10, layers.GasNode, at(100, 0), map[string]any{"kind": "valve"})
	duct := feature(2, layers.PowerDuct, orb.LineString{at(0, -100), at(0, 100)}, map[string]any{"depth_m": 1.0, "width_m": 1.2})
	manhole := feature(3, layers.DrainNode, at(10, 10), map[string]any{"depth_m": 2.15, "kind": "manhole"})
	flat := feature(4, layers.DrainNode, at(20, 10), map[string]any{"kind": "outfall"})
	tunnel := feature(5, layers.UtilityTunnel, orb.LineString{at(-50, 50), at(50, 50)}, map[string]any{"depth_m": 4.5, "width_m": 1.8, "compartment": "gas"})
	bridge := feature(6, layers.Bridge, box(-25, -90, 25, 90), map[string]any{"main_span_m": 45.0, "width_m": 50.0})
	school := feature(7, layers.Building, box(100, 100, 140, 130), map[string]any{"height_m": 19.0, "use": "school"})
	shed := feature(8, layers.Building, box(150, 100, 160, 110), map[string]any{"floors": 2.0})
	onGas := feature(20, layers.Sensor, at(0, 0), map[string]any{"code": "GAS-000001", "asset": 1.0, "domain": "gas", "asset_layer": "gas_pipe"})
	onBridge := feature(21, layers.Sensor, at(0, 0), map[string]any{"code": "BRG-000001", "asset": 6.0, "asset_layer": "bridge"})
	inTunnel := feature(22, layers.Sensor, at(0, 50), map[string]any{"code": "UT-000001", "asset": 5.0})
	farPipe := feature(9, layers.WaterPipe, orb.LineString{at(900, 0), at(1000, 0)}, map[string]any{"depth_m": 3.0, "diameter_mm": 400.0})
	onFar := feature(23, layers.Sensor, at(400, 0), map[string]any{"code": "WS-000001", "asset": 9.0})
	lost := feature(24, layers.Sensor, at(300, 0), map[string]any{"code": "WS-000002", "asset": 99.0})
	atValve := feature(25, layers.Sensor, at(100, 0), map[string]any{"code": "GAS-000002", "asset": 10.0})
	s := Build(bound, map[string][]*layers.Feature{
		layers.GasPipe: {gas}, layers.PowerDuct: {duct}, layers.DrainNode: {manhole, flat},
		layers.UtilityTunnel: {tunnel}, layers.Bridge: {bridge}, layers.Building: {school, shed},
		layers.Sensor: {onGas, onBridge, inTunnel, onFar, lost, atValve},
	}, farPipe, valve)

	if len(s.Pipes) != 2 {
		t.Fatalf("pipes = %+v, want the gas pipe and the duct (not the far pipe, an asset only)", s.Pipes)
	}
	if p := s.Pipes[0]; p.ID != 1 || p.DiameterM != 0.25 || !near(p.Path[0][2], -1.83, 1e-9) || !near(p.Path[1][2], -1.83, 1e-9) {
		t.Errorf("gas pipe = %+v, want its axis 1.7 m + half of 0.25 m down, to the centimetre", p)
	}
	if p := s.Pipes[1]; p.DiameterM != 1.2 || !near(p.Path[0][2], -1.6, 1e-9) {
		t.Errorf("duct = %+v, want 1.2 m wide, its axis at -1.6 m", p)
	}
	if len(s.Shafts) != 1 || s.Shafts[0].ID != 3 || s.Shafts[0].DepthM != 2.15 {
		t.Errorf("shafts = %+v, want the manhole alone (the outfall has no depth)", s.Shafts)
	}

	parts := map[string][]Box{}
	for _, b := range s.Boxes {
		parts[b.Part] = append(parts[b.Part], b)
	}
	if c := parts["compartment"]; len(c) != 1 || c[0].Kind != "gas" || c[0].Base != -7.5 || c[0].Height != TunnelHeight {
		t.Errorf("compartments = %+v, want one box from -7.5 m, %g m high", c, TunnelHeight)
	} else {
		// 100 m long, 1.8 m wide: the outline's sides, measured on the ground.
		o := c[0].Outline
		if len(o) != 5 || o[0] != o[4] {
			t.Fatalf("outline %v is not a closed ring of four corners", o)
		}
		long := spatial.Metres(orb.Point(o[0]), orb.Point(o[1]))
		wide := spatial.Metres(orb.Point(o[1]), orb.Point(o[2]))
		if !near(long, 100, 0.01) || !near(wide, 1.8, 0.01) {
			t.Errorf("compartment %.2f × %.2f m, want 100 × 1.8", long, wide)
		}
	}
	if d := parts["deck"]; len(d) != 1 || d[0].Base != DeckClearance || d[0].Height != DeckThickness || d[0].ID != 6 {
		t.Errorf("decks = %+v", d)
	}
	// 180 m at a 45 m span: 5 rows of piers, two across a 50 m deck.
	if p := parts["pier"]; len(p) != 10 {
		t.Errorf("piers = %d, want 10", len(p))
	} else {
		for _, pier := range p {
			c := orb.Ring(toPoints(pier.Outline)).Bound().Center()
			pl := spatial.NewPlane(origin).Project(c)
			if math.Abs(pl[0]) > 25 || math.Abs(pl[1]) > 90.01 || pier.Base != 0 || pier.Height != DeckClearance {
				t.Errorf("pier at %.1f, %.1f m from %g up %g, want under the deck from the ground", pl[0], pl[1], pier.Base, pier.Height)
			}
		}
	}
	if b := parts["building"]; len(b) != 2 || b[0].Height != 19 || b[0].Kind != "school" || b[1].Height != 2*StoreyHeight {
		t.Errorf("buildings = %+v, want 19 m and two storeys", b)
	}

	heights := map[string]float64{}
	for _, sn := range s.Sensors {
		heights[sn.Code] = sn.Position[2]
	}
	want := map[string]float64{
		"GAS-000001": -1.83,                         // on the pipe's axis
		"GAS-000002": -1.83,                         // at a valve the pipe ends at
		"BRG-000001": DeckClearance + DeckThickness, // on the deck
		"UT-000001":  -4.5 - TunnelHeight/2,         // in the compartment
		"WS-000001":  -3.2,                          // on an asset outside the bbox
		"WS-000002":  0,                             // on an asset no one has: the ground
	}
	for code, h := range want {
		if got, ok := heights[code]; !ok || !near(got, h, 1e-9) {
			t.Errorf("%s at %v m (present %v), want %v", code, got, ok, h)
		}
	}
}

// An empty part of the city is a scene of empty lists, never nulls.
func TestBuildEmpty(t *testing.T) {
	s := Build(orb.Bound{Min: at(-1, -1), Max: at(1, 1)}, nil)
	if s.Pipes == nil || s.Shafts == nil || s.Boxes == nil || s.Sensors == nil {
		t.Errorf("scene %+v has a nil list", s)
	}
}

// Bad attributes do not make bad geometry: NaN depths, a bridge with one
// point, a pipe of one vertex.
func TestBuildBadAttributes(t *testing.T) {
	s := Build(orb.Bound{Min: at(-100, -100), Max: at(100, 100)}, map[string][]*layers.Feature{
		layers.GasPipe:   {feature(1, layers.GasPipe, orb.LineString{at(0, 0)}, nil), feature(2, layers.GasPipe, orb.LineString{at(0, 0), at(1, 0)}, map[string]any{"depth_m": math.NaN()})},
		layers.DrainNode: {feature(3, layers.DrainNode, at(0, 0), map[string]any{"depth_m": math.Inf(1)})},
		layers.Bridge:    {feature(4, layers.Bridge, orb.Polygon{{at(0, 0)}}, nil)},
	})
	if len(s.Pipes) != 1 || s.Pipes[0].Path[0][2] != -DefaultDiameter/2 {
		t.Errorf("pipes = %+v, want the two-vertex pipe on the ground's default depth", s.Pipes)
	}
	if len(s.Shafts) != 0 || len(s.Boxes) != 0 {
		t.Errorf("shafts %v, boxes %v: want none", s.Shafts, s.Boxes)
	}
}

func toPoints(o [][2]float64) []orb.Point {
	out := make([]orb.Point, len(o))
	for i, p := range o {
		out[i] = p
	}
	return out
}
