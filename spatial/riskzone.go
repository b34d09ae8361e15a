package spatial

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// RiskZoneLayerID is the id of the derived risk zone layer in the catalog.
const RiskZoneLayerID = layers.RiskZone

// AlarmZone is the impact area of an active alarm, as the risk zone layer
// draws it.
type AlarmZone struct {
	Alarm    uint64
	Level    int // 1 most severe
	Domain   string
	Scenario Scenario
	Area     orb.Polygon
}

// Grades of risk, I (red, most severe) to IV (blue), as warnings are graded.
var grades = []string{"I", "II", "III", "IV"}

// gradeOf turns a 0–1 risk score of a gas pipe into a grade.
func gradeOf(score float64) string {
	switch {
	case score >= 0.75:
		return "I"
	case score >= 0.6:
		return "II"
	case score >= 0.45:
		return "III"
	}
	return "IV"
}

// RiskZoneLayer is the derived layer risk_zone: the impact areas of active
// alarms, graded by their level, over a static grade of the gas network —
// each gas pipe's potential impact radius as a corridor, graded by pressure,
// age and the people around (Risk). Grade IV corridors are left out: the
// layer shows where to look. It is recomputed when the gas network, the
// buildings or the alarms change.
type RiskZoneLayer struct {
	src     VersionedSource
	layer   *layers.Layer
	alarms  func() []AlarmZone
	alarmsV func() uint64
	now     func() time.Time

	mu      sync.Mutex
	inputs  [3]uint64
	version uint64
	static  []*layers.Feature // the pipe corridors, made when the network changes
	staticV [2]uint64
	tree    rtree.RTreeGN[float64, *layers.Feature]
}

// NewRiskZoneLayer returns the layer over src; alarms lists the impact
// areas of the active alarms and alarmsVersion grows when they change.
func NewRiskZoneLayer(cat *layers.Catalog, src VersionedSource, alarms func() []AlarmZone, alarmsVersion func() uint64, now func() time.Time) (*RiskZoneLayer, error) {
	l, err := cat.Layer(RiskZoneLayerID)
	if err != nil {
		return nil, err
	}
	return &RiskZoneLayer{src: src, layer: l, alarms: alarms, alarmsV: alarmsVersion, now: now}, nil
}

// LayerID is the id of the layer it makes.
func (r *RiskZoneLayer) LayerID() string { return r.layer.ID }

// Changes grows whenever what the layer is made of changes (the gas pipes,
// the buildings, the alarms), before the layer is next built: what the live
// channel announces, so that clients refetch its tiles.
func (r *RiskZoneLayer) Changes() uint64 {
	v := r.inputVersions()
	return v[0] + v[1] + v[2]
}

func (r *RiskZoneLayer) inputVersions() [3]uint64 {
	return [3]uint64{r.src.Version(layers.GasPipe), r.src.Version(layers.Building), r.alarmsV()}
}

func (r *RiskZoneLayer) refresh(ctx context.Context) error {
	in := r.inputVersions()
	if r.version != 0 && in == r.inputs {
		return nil
	}
	if r.static == nil || r.staticV != [2]uint64{in[0], in[1]} {
		if err := r.makeStatic(ctx); err != nil {
			return err
		}
		r.staticV = [2]uint64{in[0], in[1]}
	}
	var tree rtree.RTreeGN[float64, *layers.Feature]
	for _, f := range r.static {
		b := f.Geometry.Bound()
		tree.Insert(b.Min, b.Max, f)
	}
	for _, z := range r.alarms() {
		g := "III"
		if z.Level >= 1 && z.Level <= 3 {
			g = grades[z.Level-1]
		}
		f := &layers.Feature{ID: layers.MakeID(r.layer.Code, 1<<32+z.Alarm), Layer: r.layer.ID, Geometry: z.Area, MinZoom: uint8(r.layer.MinZoom),
			Props: map[string]any{"source": "alarm", "grade": g, "alarm": float64(z.Alarm), "level": float64(z.Level), "domain": z.Domain,
				"scenario": z.Scenario.ID, "radius_m": math.Round(z.Scenario.Radius*10) / 10}}
		b := z.Area.Bound()
		tree.Insert(b.Min, b.Max, f)
	}
	r.tree, r.inputs = tree, in
	r.version++
	return nil
}

// makeStatic grades every gas pipe and draws the corridors of grades I–III.
func (r *RiskZoneLayer) makeStatic(ctx context.Context) error {
	var pipes []*layers.Feature
	if err := r.src.Features(ctx, layers.GasPipe, world, layers.MaxZoom, func(f *layers.Feature) error {
		pipes = append(pipes, f)
		return nil
	}); err != nil {
		return err
	}
	year := r.now().Year()
	r.static = r.static[:0]
	for _, p := range pipes {
		ls, ok := p.Geometry.(orb.LineString)
		if !ok || len(ls) < 2 {
			continue
		}
		d, _ := p.Props["diameter_mm"].(float64)
		mpa, _ := p.Props["pressure_mpa"].(float64)
		radius := max(GasPIR(d, mpa), 10)
		hits, err := Nearby(ctx, r.src, ls, PeopleRadius, []string{layers.Building})
		if err != nil {
			return err
		}
		people := 0.0
		for _, h := range hits {
			n, _ := h.Feature.Props["population"].(float64)
			people += n
		}
		score := Risk(p, 0, GasDistance, people, year)
		g := gradeOf(score)
		if g == "IV" {
			continue
		}
		r.static = append(r.static, &layers.Feature{
			ID: layers.MakeID(r.layer.Code, p.ID&(1<<32-1)), Layer: r.layer.ID, Geometry: Corridor(ls, radius), MinZoom: uint8(r.layer.MinZoom),
			Props: map[string]any{"source": layers.GasPipe, "grade": g, "pipe": float64(p.ID), "score": score, "radius_m": math.Round(radius*10) / 10},
		})
	}
	return nil
}

// Corridor returns the area within r metres of a line: a capsule around
// its first and last points (pipes are straight between their nodes).
func Corridor(ls orb.LineString, r float64) orb.Polygon {
	a, b := ls[0], ls[len(ls)-1]
	pl := NewPlane(a)
	pb := pl.Project(b)
	ang := math.Atan2(pb[1], pb[0])
	ring := make(orb.Ring, 0, 34)
	// Round the end at b from one side to the other, then the end at a.
	for i := 0; i <= 16; i++ {
		t := ang - math.Pi/2 + math.Pi*float64(i)/16
		ring = append(ring, pl.Unproject(orb.Point{pb[0] + r*math.Cos(t), pb[1] + r*math.Sin(t)}))
	}
	for i := 0; i <= 16; i++ {
		t := ang + math.Pi/2 + math.Pi*float64(i)/16
		ring = append(ring, pl.Unproject(orb.Point{r * math.Cos(t), r * math.Sin(t)}))
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

// Features calls fn for the zones in b.
func (r *RiskZoneLayer) Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*layers.Feature) error) error {
	if layer != r.layer.ID || z < r.layer.MinZoom {
		return nil
	}
	r.mu.Lock()
	if err := r.refresh(ctx); err != nil {
		r.mu.Unlock()
		return err
	}
	tree := r.tree
	r.mu.Unlock()
	var err error
	tree.Search(b.Min, b.Max, func(_, _ [2]float64, f *layers.Feature) bool {
		err = fn(f)
		return err == nil
	})
	return err
}

// Version changes whenever the zones change.
func (r *RiskZoneLayer) Version(string) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.version == 0 || r.inputVersions() != r.inputs {
		return r.version + 1
	}
	return r.version
}
