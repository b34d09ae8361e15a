package postgis

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestWKBRoundTrip(t *testing.T) {
	ring := orb.Ring{{117.2, 31.8}, {117.3, 31.8}, {117.3, 31.9}, {117.2, 31.8}}
	for _, g := range []orb.Geometry{
		orb.Point{117.25, 31.85},
		orb.LineString{{117.2, 31.8}, {117.21, 31.81}},
		orb.MultiLineString{{{117.2, 31.8}, {117.21, 31.81}}, {{117.22, 31.8}, {117.23, 31.81}}},
		orb.Polygon{ring},
		orb.MultiPolygon{{ring}, {ring}},
	} {
		b, err := encodeWKB(g)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		back, err := decodeWKB(b)
		if err != nil {
			t.Fatalf("%T: %v", g, err)
		}
		if !orb.Equal(g, back) {
			t.Errorf("%T: got %v back", g, back)
		}
	}
	if _, err := encodeWKB(orb.Collection{}); err == nil {
		t.Error("a collection was encoded")
	}
}
