// Package storetest is the conformance suite every store passes: the same
// cases, run against the embedded default and PostGIS, so they cannot drift.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/planar"
)

// Open returns a store holding the city c; the suite closes it.
type Open func(t *testing.T, c *city.City) store.Store

// origin is where the suite's city lies.
var origin = orb.Point{117.26, 31.84}

// at returns the point dx, dy metres east and north of the origin.
// near reports whether two points agree to 1e-5°, about a metre: PostGIS
// keeps the boxes of geometries in single precision.
func near(a, b orb.Point) bool { return math.Abs(a[0]-b[0]) < 1e-5 && math.Abs(a[1]-b[1]) < 1e-5 }

func at(dx, dy float64) orb.Point { return spatial.NewPlane(origin).Unproject(orb.Point{dx, dy}) }

// At returns the point dx, dy metres east and north of the suite's origin,
// where its cities lie.
func At(dx, dy float64) orb.Point { return at(dx, dy) }

// City returns the suite's small city: two gas pipes (a main and a service
// pipe that shows from zoom 15), their three nodes, a school with its
// contact and a building.
func City() *city.City {
	gasProps := func(class string, d float64, from, to uint64) map[string]any {
		return map[string]any{"pressure_class": class, "pressure_mpa": 0.3, "diameter_mm": d, "material": "steel",
			"install_year": 2005.0, layers.FromNode: float64(from), layers.ToNode: float64(to)}
	}
	n1, n2, n3 := layers.MakeID(11, 1), layers.MakeID(11, 2), layers.MakeID(11, 3)
	return &city.City{
		Meta: city.Meta{Name: "测试区", NameEn: "Test District", Bounds: [4]float64{117.25, 31.83, 117.27, 31.85}, Center: [2]float64(origin), Zoom: 14},
		Features: map[string][]*layers.Feature{
			layers.GasPipe: {
				{ID: layers.MakeID(10, 1), Layer: layers.GasPipe, MinZoom: 10, Geometry: orb.LineString{at(0, 0), at(500, 0)}, Props: gasProps("medium_a", 300, n1, n2)},
				{ID: layers.MakeID(10, 2), Layer: layers.GasPipe, MinZoom: 15, Geometry: orb.LineString{at(500, 0), at(500, 80)}, Props: gasProps("low", 63, n2, n3)},
			},
			layers.GasNode: {
				{ID: n1, Layer: layers.GasNode, MinZoom: 14, Geometry: at(0, 0), Props: map[string]any{"kind": "valve"}},
				{ID: n2, Layer: layers.GasNode, MinZoom: 14, Geometry: at(500, 0), Props: map[string]any{"kind": "tee"}},
				{ID: n3, Layer: layers.GasNode, MinZoom: 14, Geometry: at(500, 80), Props: map[string]any{"kind": "end"}},
			},
			layers.ProtectiveTarget: {
				{ID: layers.MakeID(22, 1), Layer: layers.ProtectiveTarget, MinZoom: 11, Geometry: at(250, 40), Props: map[string]any{"name": "滨河小学", "name_en": "Binhe Primary School", "kind": "school", "people_day": 1200.0,
					"contact": "王建伟", "contact_phone": "13812345678"}},
			},
			layers.Building: {
				{ID: layers.MakeID(4, 1), Layer: layers.Building, MinZoom: 13, Geometry: orb.Polygon{{at(230, 20), at(270, 20), at(270, 60), at(230, 60), at(230, 20)}},
					Props: map[string]any{"use": "school", "height_m": 15.0, "basement": true}},
			},
		},
	}
}

// ItemsCity returns the city of the Items cases: 25 gas nodes in a row,
// stored out of id order; three gas pipes, one of them diagonal; three
// sensors installed on different days and a school with its contact.
func ItemsCity() *city.City {
	c := &city.City{Meta: City().Meta, Features: map[string][]*layers.Feature{}}
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(25) {
		n := uint64(i + 1)
		kind := "tee"
		if n%2 == 1 {
			kind = "valve"
		}
		c.Features[layers.GasNode] = append(c.Features[layers.GasNode],
			&layers.Feature{ID: layers.MakeID(11, n), Layer: layers.GasNode, MinZoom: 14, Geometry: at(20*float64(n), 0), Props: map[string]any{"kind": kind}})
	}
	pipe := func(n uint64, g orb.LineString, class, material string, d, year float64, tunnel bool) *layers.Feature {
		return &layers.Feature{ID: layers.MakeID(10, n), Layer: layers.GasPipe, MinZoom: 10, Geometry: g, Props: map[string]any{
			"pressure_class": class, "pressure_mpa": 0.2, "diameter_mm": d, "material": material, "install_year": year, "in_tunnel": tunnel,
			layers.FromNode: float64(layers.MakeID(11, n)), layers.ToNode: float64(layers.MakeID(11, n+1))}}
	}
	c.Features[layers.GasPipe] = []*layers.Feature{
		pipe(3, orb.LineString{at(0, 100), at(100, 200)}, "medium_b", "steel", 200, 2019, false),
		pipe(1, orb.LineString{at(20, 0), at(40, 0)}, "medium_a", "steel", 300, 2005, false),
		pipe(2, orb.LineString{at(40, 0), at(60, 0)}, "low", "pe", 63, 2012, true),
	}
	for i, day := range []string{"2021-03-06", "2022-01-01", "2021-03-05"} {
		n := uint64(i + 1)
		c.Features[layers.Sensor] = append(c.Features[layers.Sensor], &layers.Feature{ID: layers.MakeID(24, n), Layer: layers.Sensor, MinZoom: 14,
			Geometry: at(20*float64(n), 10), Props: map[string]any{"code": fmt.Sprintf("GAS-%06d", n), "domain": "gas", "kind": "methane",
				"metrics": "ch4", "asset": float64(layers.MakeID(10, 1)), "asset_layer": layers.GasPipe, "installed": day}})
	}
	c.Features[layers.ProtectiveTarget] = City().Features[layers.ProtectiveTarget]
	return c
}

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open Open) {
	ctx := context.Background()
	c := City()
	s := open(t, c)
	t.Cleanup(func() { s.Close() })

	ids := func(t *testing.T, layer string, b orb.Bound, z int) []uint64 {
		t.Helper()
		var got []uint64
		err := s.Features(ctx, layer, b, z, func(f *layers.Feature) error {
			if f.Layer != layer {
				t.Errorf("feature %d has layer %q, want %q", f.ID, f.Layer, layer)
			}
			got = append(got, f.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	all := orb.Bound{Min: at(-1000, -1000), Max: at(1000, 1000)}

	t.Run("FeaturesInBound", func(t *testing.T) {
		got := ids(t, layers.GasNode, orb.Bound{Min: at(400, -10), Max: at(600, 100)}, 16)
		want := []uint64{layers.MakeID(11, 2), layers.MakeID(11, 3)}
		if !slices.Equal(got, want) {
			t.Errorf("nodes near the tee = %v, want %v", got, want)
		}
	})
	t.Run("FeaturesByMinZoom", func(t *testing.T) {
		if got := ids(t, layers.GasPipe, all, 14); !slices.Equal(got, []uint64{layers.MakeID(10, 1)}) {
			t.Errorf("gas pipes at z14 = %v, want the main alone", got)
		}
		if got := ids(t, layers.GasPipe, all, 15); len(got) != 2 {
			t.Errorf("gas pipes at z15 = %v, want both", got)
		}
	})
	t.Run("FeaturesOfEmptyLayer", func(t *testing.T) {
		if got := ids(t, layers.Bridge, all, 16); len(got) != 0 {
			t.Errorf("bridges = %v, want none", got)
		}
	})
	t.Run("FeaturesStopOnError", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := s.Features(ctx, layers.GasNode, all, 16, func(*layers.Feature) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("err = %v after %d calls; want stop after 1", err, n)
		}
	})
	t.Run("Feature", func(t *testing.T) {
		f, err := s.Feature(ctx, layers.MakeID(22, 1))
		if err != nil {
			t.Fatal(err)
		}
		if f.Layer != layers.ProtectiveTarget || f.Props["name"] != "滨河小学" || f.Props["people_day"] != 1200.0 {
			t.Errorf("school = %+v", f)
		}
		// The store keeps personal fields whole; masking is the reader's.
		if f.Props["contact"] != "王建伟" || f.Props["contact_phone"] != "13812345678" {
			t.Errorf("school contact = %v %v", f.Props["contact"], f.Props["contact_phone"])
		}
		if p, ok := f.Geometry.(orb.Point); !ok || planar.Distance(p, at(250, 40)) > 1e-7 {
			t.Errorf("school at %v, want %v", f.Geometry, at(250, 40))
		}
		b, err := s.Feature(ctx, layers.MakeID(4, 1))
		if err != nil {
			t.Fatal(err)
		}
		if b.Props["basement"] != true {
			t.Errorf("building basement = %v, want true", b.Props["basement"])
		}
	})
	t.Run("FeatureNotFound", func(t *testing.T) {
		if _, err := s.Feature(ctx, layers.MakeID(22, 99)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("err = %v, want store.ErrNotFound", err)
		}
	})
	t.Run("CountAndVersion", func(t *testing.T) {
		for layer, want := range map[string]int{layers.GasPipe: 2, layers.GasNode: 3, layers.Bridge: 0} {
			if n, err := s.Count(ctx, layer); err != nil || n != want {
				t.Errorf("count %s = %d, %v; want %d", layer, n, err, want)
			}
		}
		if s.Version(layers.GasPipe) == 0 {
			t.Error("gas_pipe has version 0")
		}
	})
	t.Run("Bounds", func(t *testing.T) {
		// The nodes lie at (0, 0), (500, 0) and (500, 80) metres from the origin.
		b, ok, err := s.Bounds(ctx, layers.GasNode)
		want := orb.Bound{Min: at(0, 0), Max: at(500, 80)}
		if err != nil || !ok || !near(b.Min, want.Min) || !near(b.Max, want.Max) {
			t.Errorf("gas_node bounds = %v, %v, %v; want %v", b, ok, err, want)
		}
		if _, ok, err := s.Bounds(ctx, layers.Bridge); ok || err != nil {
			t.Errorf("bridge, which has no features, has bounds: %v", err)
		}
	})
	t.Run("Tiles", func(t *testing.T) {
		enc := tiles.NewEncoder(layers.Default(), s)
		names := []string{layers.GasPipe, layers.GasNode, layers.ProtectiveTarget, layers.Building, layers.Bridge}
		main, service := layers.MakeID(10, 1), layers.MakeID(10, 2)
		nodes := []uint64{layers.MakeID(11, 1), layers.MakeID(11, 2), layers.MakeID(11, 3)}
		school, building := layers.MakeID(22, 1), layers.MakeID(4, 1)
		want := map[int]map[string][]uint64{
			12: {layers.GasPipe: {main}, layers.ProtectiveTarget: {school}},
			14: {layers.GasPipe: {main}, layers.GasNode: nodes, layers.ProtectiveTarget: {school}, layers.Building: {building}},
			16: {layers.GasPipe: {main, service}, layers.GasNode: nodes, layers.ProtectiveTarget: {school}, layers.Building: {building}},
		}
		for z, w := range want {
			got := map[string][]uint64{}
			for _, tl := range tiles.Covering(orb.Bound{Min: at(-10, -10), Max: at(510, 90)}, z) {
				data, err := enc.Encode(ctx, names, tl)
				if err != nil {
					t.Fatalf("tile %s: %v", tl, err)
				}
				if data == nil {
					continue
				}
				ls, err := mvt.Unmarshal(data)
				if err != nil {
					t.Fatalf("tile %s: %v", tl, err)
				}
				for _, l := range ls {
					for _, f := range l.Features {
						id := uint64(f.ID.(float64))
						if !slices.Contains(got[l.Name], id) {
							got[l.Name] = append(got[l.Name], id)
						}
						if id == main && (f.Properties["pressure_class"] != "medium_a" || f.Properties["diameter_mm"] != 300.0) {
							t.Errorf("z%d: main pipe attributes %v", z, f.Properties)
						}
						// Tiles go to anonymous screens: never a personal field.
						if id == school {
							if f.Properties["name"] != "滨河小学" {
								t.Errorf("z%d: school attributes %v", z, f.Properties)
							}
							for _, k := range []string{"contact", "contact_phone"} {
								if v, ok := f.Properties[k]; ok {
									t.Errorf("z%d: school tile carries %s %v", z, k, v)
								}
							}
						}
					}
				}
			}
			for l := range got {
				slices.Sort(got[l])
			}
			for l, ids := range w {
				if !slices.Equal(got[l], ids) {
					t.Errorf("z%d %s: ids %v, want %v", z, l, got[l], ids)
				}
			}
			for l := range got {
				if _, ok := w[l]; !ok {
					t.Errorf("z%d: layer %s in the tiles, want none", z, l)
				}
			}
		}
	})
	t.Run("Nearby", func(t *testing.T) {
		// From a point 30 m north of the main's middle: the school (250, 40)
		// is 10 m off, the main 30 m, the service pipe (500, 0–80) 250 m.
		hits, err := spatial.Nearby(ctx, s, at(250, 30), 260, []string{layers.ProtectiveTarget, layers.GasPipe, layers.Bridge})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			id   uint64
			dist float64
		}{{layers.MakeID(22, 1), 10}, {layers.MakeID(10, 1), 30}, {layers.MakeID(10, 2), 250}}
		if len(hits) != len(want) {
			t.Fatalf("%d hits, want %d: %+v", len(hits), len(want), hits)
		}
		for i, w := range want {
			h := hits[i]
			if h.Feature.ID != w.id || math.Abs(h.Distance-w.dist) > 0.01 {
				t.Errorf("#%d: %d at %.3f m, want %d at %v m", i, h.Feature.ID, h.Distance, w.id, w.dist)
			}
		}
		if d := geo.Distance(hits[1].Closest, at(250, 0)); d > 0.05 {
			t.Errorf("closest point of the main %v is %.3f m from %v", hits[1].Closest, d, at(250, 0))
		}
		// Just inside and just outside a radius.
		for r, n := range map[float64]int{9.9: 0, 10.1: 1} {
			hits, err := spatial.Nearby(ctx, s, at(250, 30), r, []string{layers.ProtectiveTarget})
			if err != nil || len(hits) != n {
				t.Errorf("radius %v m: %d hits, %v; want %d", r, len(hits), err, n)
			}
		}
		if _, err := spatial.Nearby(ctx, s, at(0, 0), 0, []string{layers.Hazard}); !errors.Is(err, spatial.ErrRadius) {
			t.Errorf("radius 0: err = %v", err)
		}
	})
	t.Run("NearbyAny", func(t *testing.T) {
		// From the main and a point 10 m north of the building: the main's
		// end nodes lie on it, the building is 10 m from the point
		// and 20 m from the main, the school 30 m from the point and 40 m
		// from the main; each comes once, at its nearest.
		main, err := s.Feature(ctx, layers.MakeID(10, 1))
		if err != nil {
			t.Fatal(err)
		}
		from := []orb.Geometry{main.Geometry, at(250, 70)}
		hits, err := spatial.NearbyAny(ctx, s, from, 45, []string{layers.Building, layers.ProtectiveTarget, layers.GasNode, layers.Bridge})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			id   uint64
			dist float64
		}{{layers.MakeID(11, 1), 0}, {layers.MakeID(11, 2), 0}, {layers.MakeID(4, 1), 10}, {layers.MakeID(22, 1), 30}}
		if len(hits) != len(want) {
			t.Fatalf("%d hits, want %d: %+v", len(hits), len(want), hits)
		}
		for i, w := range want {
			if h := hits[i]; h.Feature.ID != w.id || math.Abs(h.Distance-w.dist) > 0.01 {
				t.Errorf("#%d: %d at %.3f m, want %d at %v m", i, h.Feature.ID, h.Distance, w.id, w.dist)
			}
		}
		if d := geo.Distance(hits[3].Closest, at(250, 40)); d > 0.05 {
			t.Errorf("closest point of the school %v is %.3f m from it", hits[3].Closest, d)
		}
		if hits[3].Feature.Props["name"] != "滨河小学" {
			t.Errorf("school's attributes %v", hits[3].Feature.Props)
		}
		// More geometries than a store may send at once answer the same.
		many := slices.Repeat(from, 3000)
		if again, err := spatial.NearbyAny(ctx, s, many, 45, []string{layers.Building, layers.ProtectiveTarget, layers.GasNode}); err != nil || len(again) != len(want) {
			t.Errorf("from %d geometries: %d hits, %v; want %d", len(many), len(again), err, len(want))
		}
		if hits, err := spatial.NearbyAny(ctx, s, nil, 45, []string{layers.Building}); err != nil || len(hits) != 0 {
			t.Errorf("from nothing: %v, %v; want no hits", hits, err)
		}
		if _, err := spatial.NearbyAny(ctx, s, from, 0, []string{layers.Building}); !errors.Is(err, spatial.ErrRadius) {
			t.Errorf("radius 0: err = %v", err)
		}
	})
	t.Run("GasNeighbourhood", func(t *testing.T) {
		// The school's basement is 20 m north of the main.
		pairs, err := spatial.GasNeighbourhood(ctx, s, all, 25)
		if err != nil {
			t.Fatal(err)
		}
		if len(pairs) != 1 || pairs[0].Space.ID != layers.MakeID(4, 1) || pairs[0].Pipe.ID != layers.MakeID(10, 1) || math.Abs(pairs[0].Distance-20) > 0.01 {
			t.Errorf("pairs %+v", pairs)
		}
		if pairs, _ := spatial.GasNeighbourhood(ctx, s, all, spatial.GasDistance); len(pairs) != 0 {
			t.Errorf("within 12.5 m: %+v", pairs)
		}
	})
	t.Run("ValveClosure", func(t *testing.T) {
		net, err := spatial.NewNetworks(layers.Default(), s).Get(ctx, layers.GasPipe)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.ValveClosure(layers.MakeID(10, 2), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.Valves, []uint64{layers.MakeID(11, 1)}) || len(c.IsolatedPipes) != 2 || math.Abs(c.LengthOutOfService-580) > 0.5 {
			t.Errorf("closure %+v", c)
		}
	})
	t.Run("Items", func(t *testing.T) { runItems(t, open) })
	t.Run("Meta", func(t *testing.T) {
		if m := s.Meta(); m.Name != c.Meta.Name || m.Bounds != c.Meta.Bounds {
			t.Errorf("meta = %+v", m)
		}
	})
}

// runItems checks Items on ItemsCity: pages in id order by offset and by
// keyset, the count of what matches whatever the page, each filter alone
// and together, the exact geometry of a bound, time by year and by date.
func runItems(t *testing.T, open Open) {
	ctx := context.Background()
	c := ItemsCity()
	s := open(t, c)
	t.Cleanup(func() { s.Close() })
	cat := layers.Default()
	layer := func(id string) *layers.Layer { l, _ := cat.Layer(id); return l }
	node := func(n uint64) uint64 { return layers.MakeID(11, n) }
	items := func(t *testing.T, layer string, q layers.Query) ([]uint64, int) {
		t.Helper()
		page, matched, err := s.Items(ctx, layer, q)
		if err != nil {
			t.Fatalf("%s %+v: %v", layer, q, err)
		}
		ids := []uint64{}
		for _, f := range page {
			if f.Layer != layer {
				t.Errorf("feature %d has layer %q, want %q", f.ID, f.Layer, layer)
			}
			ids = append(ids, f.ID)
		}
		// What a store answers is what the rule says of the city.
		want := 0
		for _, f := range c.Features[layer] {
			if q.Matches(f) {
				want++
			}
		}
		if matched != want {
			t.Errorf("%s %+v: matched %d, want %d", layer, q, matched, want)
		}
		return ids, matched
	}
	var all []uint64
	for n := uint64(1); n <= 25; n++ {
		all = append(all, node(n))
	}

	t.Run("InIDOrder", func(t *testing.T) {
		if ids, n := items(t, layers.GasNode, layers.Query{Limit: 100}); !slices.Equal(ids, all) || n != 25 {
			t.Errorf("all nodes: %v (%d), want %v", ids, n, all)
		}
	})
	t.Run("Pages", func(t *testing.T) {
		var byOffset, byAfter []uint64
		after := uint64(0)
		for off := 0; off < 30; off += 10 {
			ids, n := items(t, layers.GasNode, layers.Query{Limit: 10, Offset: off})
			if n != 25 || len(ids) != min(10, max(0, 25-off)) {
				t.Errorf("offset %d: %d features, matched %d", off, len(ids), n)
			}
			byOffset = append(byOffset, ids...)
			ids, _ = items(t, layers.GasNode, layers.Query{Limit: 10, After: after})
			byAfter = append(byAfter, ids...)
			if len(ids) > 0 {
				after = ids[len(ids)-1]
			}
		}
		if !slices.Equal(byOffset, all) || !slices.Equal(byAfter, all) {
			t.Errorf("pages by offset %v, by keyset %v; want %v", byOffset, byAfter, all)
		}
		if ids, _ := items(t, layers.GasNode, layers.Query{Limit: 2, After: node(10), Offset: 3}); !slices.Equal(ids, []uint64{node(14), node(15)}) {
			t.Errorf("after node 10, 3 on: %v", ids)
		}
		if ids, n := items(t, layers.GasNode, layers.Query{Limit: 10, Offset: 1000}); len(ids) != 0 || n != 25 {
			t.Errorf("past the end: %v, matched %d", ids, n)
		}
		if ids, n := items(t, layers.GasNode, layers.Query{}); len(ids) != 0 || n != 25 {
			t.Errorf("limit 0: %v, matched %d; want the count alone", ids, n)
		}
	})
	t.Run("Equal", func(t *testing.T) {
		p := func(n uint64) []uint64 { return []uint64{layers.MakeID(10, n)} }
		for _, tt := range []struct {
			eq   map[string]any
			want []uint64
		}{
			{map[string]any{"pressure_class": "low"}, p(2)},
			{map[string]any{"pressure_class": "low", "material": "pe"}, p(2)},
			{map[string]any{"pressure_class": "low", "material": "steel"}, nil},
			{map[string]any{"diameter_mm": 300.0}, p(1)},
			{map[string]any{"install_year": 2019.0}, p(3)}, // an integer column in PostGIS
			{map[string]any{"in_tunnel": true}, p(2)},
			{map[string]any{"material": "concrete"}, nil},
			{map[string]any{"diameter_mm": "300"}, nil}, // a value of another type
			{map[string]any{"depth_m": 1.5}, nil},       // an attribute no feature has
		} {
			ids, _ := items(t, layers.GasPipe, layers.Query{Equal: tt.eq, Limit: 10})
			if !slices.Equal(ids, tt.want) {
				t.Errorf("%v: %v, want %v", tt.eq, ids, tt.want)
			}
		}
		if ids, n := items(t, layers.GasNode, layers.Query{Equal: map[string]any{"kind": "valve"}, Limit: 5, Offset: 5}); n != 13 ||
			!slices.Equal(ids, []uint64{node(11), node(13), node(15), node(17), node(19)}) {
			t.Errorf("valves, second page of 5: %v of %d", ids, n)
		}
	})
	t.Run("Bound", func(t *testing.T) {
		b := orb.Bound{Min: at(30, -5), Max: at(70, 5)}
		if ids, _ := items(t, layers.GasNode, layers.Query{Bound: &b, Limit: 10}); !slices.Equal(ids, []uint64{node(2), node(3)}) {
			t.Errorf("nodes in %v: %v", b, ids)
		}
		valves := layers.Query{Bound: &b, Equal: map[string]any{"kind": "valve"}, Limit: 10}
		if ids, _ := items(t, layers.GasNode, valves); !slices.Equal(ids, []uint64{node(3)}) {
			t.Errorf("valves in %v: %v", b, ids)
		}
		// Inside the diagonal pipe's bounds but off the pipe itself.
		off := orb.Bound{Min: at(80, 100), Max: at(100, 120)}
		if ids, _ := items(t, layers.GasPipe, layers.Query{Bound: &off, Limit: 10}); len(ids) != 0 {
			t.Errorf("pipes in %v: %v, want none", off, ids)
		}
		on := orb.Bound{Min: at(45, 140), Max: at(55, 160)}
		if ids, _ := items(t, layers.GasPipe, layers.Query{Bound: &on, Limit: 10}); !slices.Equal(ids, []uint64{layers.MakeID(10, 3)}) {
			t.Errorf("pipes in %v: %v, want the diagonal one", on, ids)
		}
	})
	t.Run("Time", func(t *testing.T) {
		day := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
		pipes, sensors := layer(layers.GasPipe), layer(layers.Sensor)
		for _, tt := range []struct {
			l          *layers.Layer
			start, end time.Time
			want       []uint64
		}{
			{pipes, day("2005-07-01"), day("2005-07-01"), []uint64{layers.MakeID(10, 1)}},
			{pipes, day("2006-01-01"), time.Time{}, []uint64{layers.MakeID(10, 2), layers.MakeID(10, 3)}},
			{pipes, time.Time{}, day("2012-12-31"), []uint64{layers.MakeID(10, 1), layers.MakeID(10, 2)}},
			{pipes, time.Time{}, time.Time{}, []uint64{layers.MakeID(10, 1), layers.MakeID(10, 2), layers.MakeID(10, 3)}},
			{sensors, day("2021-03-05"), day("2021-03-06"), []uint64{layers.MakeID(24, 1), layers.MakeID(24, 3)}},
			{sensors, day("2021-03-06"), time.Time{}, []uint64{layers.MakeID(24, 1), layers.MakeID(24, 2)}},
			{sensors, time.Time{}, day("2021-03-05"), []uint64{layers.MakeID(24, 3)}},
		} {
			q := layers.Query{Time: tt.l.NewTimeFilter(tt.start, tt.end), Limit: 10}
			if ids, _ := items(t, tt.l.ID, q); !slices.Equal(ids, tt.want) {
				t.Errorf("%s %v–%v: %v, want %v", tt.l.ID, tt.start, tt.end, ids, tt.want)
			}
		}
	})
	t.Run("Attributes", func(t *testing.T) {
		page, _, err := s.Items(ctx, layers.GasPipe, layers.Query{Equal: map[string]any{"diameter_mm": 300.0}, Limit: 1})
		if err != nil || len(page) != 1 {
			t.Fatalf("%v, %v", page, err)
		}
		f := page[0]
		if f.Props["pressure_class"] != "medium_a" || f.Props["install_year"] != 2005.0 || f.Props["in_tunnel"] != false || f.Props[layers.ToNode] != float64(node(2)) {
			t.Errorf("pipe attributes %v", f.Props)
		}
		if ls, ok := f.Geometry.(orb.LineString); !ok || len(ls) != 2 || planar.Distance(ls[1], at(40, 0)) > 1e-7 {
			t.Errorf("pipe geometry %v", f.Geometry)
		}
		// The store keeps personal fields whole; leaving them out is the reader's.
		page, _, err = s.Items(ctx, layers.ProtectiveTarget, layers.Query{Limit: 1})
		if err != nil || len(page) != 1 || page[0].Props["contact"] != "王建伟" {
			t.Errorf("school: %v, %v", page, err)
		}
	})
	t.Run("EmptyAndDerived", func(t *testing.T) {
		for _, l := range []string{layers.Bridge, layers.RiskZone} {
			if ids, n := items(t, l, layers.Query{Limit: 10}); len(ids) != 0 || n != 0 {
				t.Errorf("%s: %v (%d), want none", l, ids, n)
			}
		}
	})
}
