// Package scene lays out a part of the city in three dimensions for the 3D
// view: the pipes and ducts at their depth, manholes as shafts, the utility
// tunnel's compartments as boxes, bridges with their deck and piers,
// buildings at their height, and the sensors on what they watch. Heights
// are metres above the ground (negative below it), true to the data: the
// view decides how much to stretch the underground.
package scene

import (
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

// Layers are the layers a scene is made of.
var Layers = []string{
	layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.HeatPipe,
	layers.PowerDuct, layers.TelecomDuct, layers.DrainNode,
	layers.UtilityTunnel, layers.Bridge, layers.Building, layers.Sensor,
}

// The sizes the data does not give.
const (
	// TunnelHeight is a utility tunnel compartment's inner height.
	TunnelHeight = 3.0
	// DeckClearance and DeckThickness place a bridge's deck above the
	// ground.
	DeckClearance = 8.0
	DeckThickness = 1.5
	// PierSize is the side of a bridge pier's square.
	PierSize = 2.0
	// DefaultSpan spaces the piers of a bridge whose main span is unknown.
	DefaultSpan = 30.0
	// ShaftRadius is a manhole's radius.
	ShaftRadius = 0.6
	// DefaultDiameter is the size of a pipe or duct that gives none.
	DefaultDiameter = 0.3
	// StoreyHeight makes a height of a building that gives only floors.
	StoreyHeight = 3.0
)

// Scene is a part of the city in three dimensions.
type Scene struct {
	// BBox is the part: minLon, minLat, maxLon, maxLat.
	BBox   [4]float64 `json:"bbox"`
	Pipes  []Pipe     `json:"pipes"`
	Shafts []Shaft    `json:"shafts"`
	// Boxes are the tunnel compartments, bridge decks and piers and the
	// buildings: outlines extruded from Base by Height.
	Boxes   []Box    `json:"boxes"`
	Sensors []Sensor `json:"sensors"`

	// atNode is the height of a pipe's axis at the nodes it ends at: where
	// a sensor on a valve or a joint sits.
	atNode map[uint64]float64
}

// Pipe is a pipe or duct along its axis: Path holds longitude, latitude
// and the height of the axis.
type Pipe struct {
	ID        uint64       `json:"id"`
	Layer     string       `json:"layer"`
	Path      [][3]float64 `json:"path"`
	DiameterM float64      `json:"diameter_m"`
	DepthM    float64      `json:"depth_m"`
}

// Shaft is a manhole from the ground down to DepthM.
type Shaft struct {
	ID       uint64     `json:"id"`
	Layer    string     `json:"layer"`
	Kind     string     `json:"kind,omitempty"`
	Position [2]float64 `json:"position"`
	DepthM   float64    `json:"depth_m"`
	RadiusM  float64    `json:"radius_m"`
}

// Box is an outline extruded from Base up by Height.
type Box struct {
	// ID is the feature the box belongs to; a bridge's deck and piers share
	// the bridge's.
	ID    uint64 `json:"id"`
	Layer string `json:"layer"`
	// Part names what the box is: "compartment", "deck", "pier" or
	// "building".
	Part string `json:"part"`
	// Kind is the compartment (gas, power, water …) or the building's use.
	Kind    string       `json:"kind,omitempty"`
	Outline [][2]float64 `json:"outline"`
	Base    float64      `json:"base"`
	Height  float64      `json:"height"`
}

// Sensor is a sensor at the height of what it watches.
type Sensor struct {
	ID         uint64     `json:"id"`
	Code       string     `json:"code"`
	Domain     string     `json:"domain,omitempty"`
	AssetLayer string     `json:"asset_layer,omitempty"`
	Position   [3]float64 `json:"position"`
}

// Build lays out the features of the scene's layers (by layer id) inside b.
// assets are more features the sensors inside b may be on, not drawn: those
// whose geometry lies outside.
func Build(b orb.Bound, byLayer map[string][]*layers.Feature, assets ...*layers.Feature) *Scene {
	s := &Scene{
		BBox:    [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Pipes:   []Pipe{},
		Shafts:  []Shaft{},
		Boxes:   []Box{},
		Sensors: []Sensor{},
		atNode:  map[uint64]float64{},
	}
	pl := spatial.NewPlane(b.Center())
	on := map[uint64]*layers.Feature{}
	for _, f := range assets {
		on[f.ID] = f
	}
	for _, id := range Layers {
		for _, f := range byLayer[id] {
			on[f.ID] = f
			switch id {
			case layers.DrainNode:
				s.addShaft(f)
			case layers.UtilityTunnel:
				s.addCompartment(pl, f)
			case layers.Bridge:
				s.addBridge(pl, f)
			case layers.Building:
				s.addBuilding(f)
			case layers.Sensor:
			default:
				s.addPipe(f)
			}
		}
	}
	for _, f := range byLayer[layers.Sensor] {
		p, ok := f.Geometry.(orb.Point)
		if !ok || !b.Contains(p) {
			continue
		}
		asset, _ := number(f.Props, "asset")
		z, ok := s.atNode[uint64(asset)]
		if !ok {
			z = heightOn(on[uint64(asset)])
		}
		s.Sensors = append(s.Sensors, Sensor{
			ID: f.ID, Code: text(f.Props, "code"), Domain: text(f.Props, "domain"),
			AssetLayer: text(f.Props, "asset_layer"),
			Position:   [3]float64{p[0], p[1], z},
		})
	}
	return s
}

// heightOn is where a sensor on the asset sits: on a pipe's axis, at the
// bottom of a shaft, halfway up a tunnel, on a bridge's deck, else on the
// ground. A node's sensor sits on the axis of a pipe that ends at the node
// (Build looks that up first).
func heightOn(a *layers.Feature) float64 {
	if a == nil {
		return 0
	}
	switch a.Layer {
	case layers.Bridge:
		return DeckClearance + DeckThickness
	case layers.UtilityTunnel:
		d, _ := number(a.Props, "depth_m")
		return -d - TunnelHeight/2
	case layers.DrainNode:
		d, _ := number(a.Props, "depth_m")
		return -d
	}
	if d, ok := number(a.Props, "depth_m"); ok {
		return math.Round((-d-diameter(a)/2)*100) / 100
	}
	return 0
}

func (s *Scene) addPipe(f *layers.Feature) {
	line, ok := f.Geometry.(orb.LineString)
	if !ok || len(line) < 2 {
		return
	}
	d, _ := number(f.Props, "depth_m")
	dia := diameter(f)
	z := math.Round((-d-dia/2)*100) / 100
	for _, end := range []string{layers.FromNode, layers.ToNode} {
		if n, ok := number(f.Props, end); ok {
			s.atNode[uint64(n)] = z
		}
	}
	path := make([][3]float64, len(line))
	for i, p := range line {
		path[i] = [3]float64{p[0], p[1], z}
	}
	s.Pipes = append(s.Pipes, Pipe{ID: f.ID, Layer: f.Layer, Path: path, DiameterM: dia, DepthM: d})
}

// diameter is a pipe's diameter in metres, a duct's width.
func diameter(f *layers.Feature) float64 {
	if mm, ok := number(f.Props, "diameter_mm"); ok && mm > 0 {
		return mm / 1000
	}
	if w, ok := number(f.Props, "width_m"); ok && w > 0 {
		return w
	}
	return DefaultDiameter
}

func (s *Scene) addShaft(f *layers.Feature) {
	p, ok := f.Geometry.(orb.Point)
	d, deep := number(f.Props, "depth_m")
	if !ok || !deep || d <= 0 {
		return
	}
	s.Shafts = append(s.Shafts, Shaft{ID: f.ID, Layer: f.Layer, Kind: text(f.Props, "kind"), Position: [2]float64{p[0], p[1]}, DepthM: d, RadiusM: ShaftRadius})
}

// addCompartment makes a box of each segment of a compartment's axis, its
// width across and TunnelHeight high, its roof at the depth.
func (s *Scene) addCompartment(pl spatial.Plane, f *layers.Feature) {
	line, ok := f.Geometry.(orb.LineString)
	if !ok {
		return
	}
	d, _ := number(f.Props, "depth_m")
	w, ok := number(f.Props, "width_m")
	if !ok || w <= 0 {
		w = 2
	}
	for i := 1; i < len(line); i++ {
		a, b := pl.Project(line[i-1]), pl.Project(line[i])
		dx, dy := b[0]-a[0], b[1]-a[1]
		n := math.Hypot(dx, dy)
		if n == 0 {
			continue
		}
		ox, oy := -dy/n*w/2, dx/n*w/2
		ring := []orb.Point{{a[0] + ox, a[1] + oy}, {b[0] + ox, b[1] + oy}, {b[0] - ox, b[1] - oy}, {a[0] - ox, a[1] - oy}}
		s.Boxes = append(s.Boxes, Box{ID: f.ID, Layer: f.Layer, Part: "compartment", Kind: text(f.Props, "compartment"),
			Outline: unproject(pl, ring), Base: -d - TunnelHeight, Height: TunnelHeight})
	}
}

// addBridge makes the deck of the bridge's outline and piers along its
// longest side, one a span, in one row or, on a deck over 20 m wide, two.
func (s *Scene) addBridge(pl spatial.Plane, f *layers.Feature) {
	poly, ok := f.Geometry.(orb.Polygon)
	if !ok || len(poly) == 0 || len(poly[0]) < 4 {
		return
	}
	ring := poly[0]
	s.Boxes = append(s.Boxes, Box{ID: f.ID, Layer: f.Layer, Part: "deck", Outline: outline(ring), Base: DeckClearance, Height: DeckThickness})
	// The axis: the direction of the longest edge.
	local := make([]orb.Point, len(ring))
	for i, p := range ring {
		local[i] = pl.Project(p)
	}
	var ux, uy, best float64
	for i := 1; i < len(local); i++ {
		dx, dy := local[i][0]-local[i-1][0], local[i][1]-local[i-1][1]
		if n := math.Hypot(dx, dy); n > best {
			best, ux, uy = n, dx/n, dy/n
		}
	}
	if best == 0 {
		return
	}
	vx, vy := -uy, ux
	lo, hi, clo, chi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, p := range local {
		a, c := p[0]*ux+p[1]*uy, p[0]*vx+p[1]*vy
		lo, hi, clo, chi = math.Min(lo, a), math.Max(hi, a), math.Min(clo, c), math.Max(chi, c)
	}
	span, ok := number(f.Props, "main_span_m")
	if !ok || span <= 0 {
		span = DefaultSpan
	}
	rows := []float64{(clo + chi) / 2}
	if chi-clo > 20 {
		rows = []float64{clo + (chi-clo)/4, chi - (chi-clo)/4}
	}
	n := max(1, int(math.Round((hi-lo)/span)))
	step := (hi - lo) / float64(n)
	for i := 0; i <= n; i++ {
		a := lo + float64(i)*step
		for _, c := range rows {
			x, y := a*ux+c*vx, a*uy+c*vy
			h := PierSize / 2
			sq := []orb.Point{{x - h, y - h}, {x + h, y - h}, {x + h, y + h}, {x - h, y + h}}
			s.Boxes = append(s.Boxes, Box{ID: f.ID, Layer: f.Layer, Part: "pier", Outline: unproject(pl, sq), Base: 0, Height: DeckClearance})
		}
	}
}

func (s *Scene) addBuilding(f *layers.Feature) {
	poly, ok := f.Geometry.(orb.Polygon)
	if !ok || len(poly) == 0 || len(poly[0]) < 4 {
		return
	}
	h, ok := number(f.Props, "height_m")
	if !ok || h <= 0 {
		floors, _ := number(f.Props, "floors")
		h = max(1, floors) * StoreyHeight
	}
	s.Boxes = append(s.Boxes, Box{ID: f.ID, Layer: f.Layer, Part: "building", Kind: text(f.Props, "use"), Outline: outline(poly[0]), Base: 0, Height: h})
}

func outline(r orb.Ring) [][2]float64 {
	out := make([][2]float64, len(r))
	for i, p := range r {
		out[i] = [2]float64{p[0], p[1]}
	}
	return out
}

func unproject(pl spatial.Plane, ring []orb.Point) [][2]float64 {
	out := make([][2]float64, 0, len(ring)+1)
	for _, p := range ring {
		q := pl.Unproject(p)
		out = append(out, [2]float64{q[0], q[1]})
	}
	return append(out, out[0])
}

// number reads a finite number attribute; anything else is 0 and false.
func number(props map[string]any, key string) (float64, bool) {
	switch v := props[key].(type) {
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, false
		}
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

func text(props map[string]any, key string) string {
	s, _ := props[key].(string)
	return s
}
