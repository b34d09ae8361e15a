package citygen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// DefaultSeed is the seed of the committed sample city.
const DefaultSeed = 1

// Options choose which city Generate makes.
type Options struct {
	// Seed picks the city; the same seed and scale give the same city.
	Seed uint64
	// Scale multiplies each side of the city (8 km at scale 1); the area
	// grows by Scale² at the same density. It must be at least 1.
	Scale int
}

// ErrScale is returned for a scale below 1.
var ErrScale = errors.New("citygen: scale must be at least 1")

const (
	tileSize = 8000.0 // metres on a side at scale 1
	lon0     = 117.22 // the city's south-west corner
	lat0     = 31.80
	// metres per degree at lat0, equirectangular: good to a few centimetres
	// over a city of this size.
	mPerDegLat = 110574.0
)

var mPerDegLon = 111320.0 * math.Cos(lat0*math.Pi/180)

// Random streams, one per part of the city, so that a change in one part
// does not reshuffle the others.
const (
	streamWater uint64 = iota + 1
	streamGrid
	streamBlocks
	streamGas
	streamWaterNet
	streamDrain
	streamHeat
	streamDucts
	streamPlaces
	streamSensors
	streamTunnel
	streamBridges
)

// gen holds a city while it is generated, in local metres.
type gen struct {
	o     Options
	size  float64 // metres on a side
	tiles int
	cat   *layers.Catalog
	feats map[string][]*layers.Feature
	count [256]uint64

	rivers      []*river
	lakes       []*lake
	grid        *grid
	buildings   []*building
	bridges     []*bridgeInfo
	tunnel      []*layers.Feature
	tunnelSpans []tunnelSpan
	gasIndex    *segIndex
	gasNet      gasNodes
	waterNet    waterNodes
	drainNet    drainNodes
	heatNet     heatNodes
	hazards     []*layers.Feature
	targets     []*layers.Feature
	rivFeats    []*layers.Feature
	// construction sites and the gas pipe under each
	construction [][2]*layers.Feature
}

// Generate makes the city that o names.
func Generate(o Options) (*city.City, error) {
	if o.Scale < 1 {
		return nil, fmt.Errorf("%w (got %d)", ErrScale, o.Scale)
	}
	g := &gen{
		o:     o,
		tiles: o.Scale,
		size:  tileSize * float64(o.Scale),
		cat:   layers.Default(),
		feats: map[string][]*layers.Feature{},
	}
	g.waterBodies()
	g.streets()
	g.roads()
	g.bridgeDecks()
	g.blocks()
	g.utilityTunnel()
	g.gas()
	g.water()
	g.drainage()
	g.heating()
	g.ducts()
	g.places()
	g.sensors()
	g.contacts()

	c := &city.City{Features: g.feats, Meta: g.meta()}
	for _, fs := range g.feats {
		for _, f := range fs {
			f.Geometry = project(f.Geometry)
		}
	}
	return c, nil
}

// Write generates the city o names and writes it to dir with the default
// catalog.
func Write(dir string, o Options) error {
	c, err := Generate(o)
	if err != nil {
		return err
	}
	return city.Write(dir, c, layers.Default())
}

func (g *gen) meta() city.Meta {
	name, nameEn := "滨湖区", "Binhu District"
	if g.o.Scale > 1 {
		name, nameEn = "滨湖新城", "Binhu New City"
	}
	minLon, minLat := toLonLat(0, 0)
	maxLon, maxLat := toLonLat(g.size, g.size)
	cLon, cLat := toLonLat(g.size/2, g.size/2)
	zoom := 13 - math.Round(math.Log2(float64(g.o.Scale)))
	return city.Meta{
		Name: name, NameEn: nameEn,
		Bounds: [4]float64{round(minLon, 7), round(minLat, 7), round(maxLon, 7), round(maxLat, 7)},
		Center: [2]float64{round(cLon, 7), round(cLat, 7)},
		Zoom:   zoom, Seed: g.o.Seed, Scale: g.o.Scale,
	}
}

// rng returns the random stream of one part of the city.
func (g *gen) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.o.Seed, stream*0x9e3779b97f4a7c15))
}

// add appends a feature with a geometry in local metres to a layer and
// returns it; ids number a layer's features from 1 in the order they are added.
func (g *gen) add(layer string, geom orb.Geometry, props map[string]any) *layers.Feature {
	l, err := g.cat.Layer(layer)
	if err != nil {
		panic(err) // layer ids here are constants of this package
	}
	g.count[l.Code]++
	f := &layers.Feature{ID: layers.MakeID(l.Code, g.count[l.Code]), Layer: layer, Geometry: geom, MinZoom: uint8(l.MinZoom), Props: props}
	g.feats[layer] = append(g.feats[layer], f)
	return f
}

func toLonLat(x, y float64) (float64, float64) {
	return lon0 + x/mPerDegLon, lat0 + y/mPerDegLat
}

func project(g orb.Geometry) orb.Geometry {
	pt := func(p orb.Point) orb.Point {
		lon, lat := toLonLat(p[0], p[1])
		return orb.Point{lon, lat}
	}
	pts := func(ps []orb.Point) {
		for i := range ps {
			ps[i] = pt(ps[i])
		}
	}
	switch g := g.(type) {
	case orb.Point:
		return pt(g)
	case orb.LineString:
		pts(g)
	case orb.Polygon:
		for _, r := range g {
			pts(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				pts(r)
			}
		}
	}
	return g
}

// round rounds x to d decimals.
func round(x float64, d int) float64 {
	p := math.Pow10(d)
	return math.Round(x*p) / p
}

// between returns a uniform number in [a, b).
func between(r *rand.Rand, a, b float64) float64 { return a + (b-a)*r.Float64() }

// pick returns one of xs.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// dist is the distance in metres between two local points.
func dist(a, b orb.Point) float64 { return math.Hypot(a[0]-b[0], a[1]-b[1]) }

// lerp is the point a fraction t of the way from a to b.
func lerp(a, b orb.Point, t float64) orb.Point {
	return orb.Point{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
}

// rect is a closed rectangle polygon centred on c, w by h metres, turned by a radians.
func rect(c orb.Point, w, h, a float64) orb.Polygon {
	s, co := math.Sin(a), math.Cos(a)
	ring := make(orb.Ring, 0, 5)
	for _, d := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}} {
		x, y := d[0]*w/2, d[1]*h/2
		ring = append(ring, orb.Point{c[0] + x*co - y*s, c[1] + x*s + y*co})
	}
	return orb.Polygon{ring}
}
