package citygen

import (
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// segIndex buckets the segments of line features by grid cell for
// distance queries in local metres.
type segIndex struct {
	cell  float64
	cells map[[2]int32][]int32 // looked up, never ranged
	segs  [][2]orb.Point
}

func newSegIndex(fs []*layers.Feature, cell float64) *segIndex {
	ix := &segIndex{cell: cell, cells: map[[2]int32][]int32{}}
	for _, f := range fs {
		ls := f.Geometry.(orb.LineString)
		for i := 0; i+1 < len(ls); i++ {
			k := int32(len(ix.segs))
			ix.segs = append(ix.segs, [2]orb.Point{ls[i], ls[i+1]})
			b := orb.LineString{ls[i], ls[i+1]}.Bound()
			for x := ix.key(b.Min[0]); x <= ix.key(b.Max[0]); x++ {
				for y := ix.key(b.Min[1]); y <= ix.key(b.Max[1]); y++ {
					ix.cells[[2]int32{x, y}] = append(ix.cells[[2]int32{x, y}], k)
				}
			}
		}
	}
	return ix
}

func (ix *segIndex) key(v float64) int32 { return int32(math.Floor(v / ix.cell)) }

// near reports whether any indexed segment lies within d metres of p.
func (ix *segIndex) near(p orb.Point, d float64) bool {
	for x := ix.key(p[0] - d); x <= ix.key(p[0]+d); x++ {
		for y := ix.key(p[1] - d); y <= ix.key(p[1]+d); y++ {
			for _, k := range ix.cells[[2]int32{x, y}] {
				s := ix.segs[k]
				if segDist(p, s[0], s[1]) <= d {
					return true
				}
			}
		}
	}
	return false
}

// nearLine reports whether any indexed segment lies within d metres of
// the segment a–b.
func (ix *segIndex) nearLine(a, b orb.Point, d float64) bool {
	bd := orb.LineString{a, b}.Bound().Pad(d)
	for x := ix.key(bd.Min[0]); x <= ix.key(bd.Max[0]); x++ {
		for y := ix.key(bd.Min[1]); y <= ix.key(bd.Max[1]); y++ {
			for _, k := range ix.cells[[2]int32{x, y}] {
				s := ix.segs[k]
				if segSegDist(a, b, s[0], s[1]) <= d {
					return true
				}
			}
		}
	}
	return false
}

// segSegDist is the distance between the segments a–b and c–d.
func segSegDist(a, b, c, d orb.Point) float64 {
	cross := func(o, p, q orb.Point) float64 { return (p[0]-o[0])*(q[1]-o[1]) - (p[1]-o[1])*(q[0]-o[0]) }
	d1, d2 := cross(a, b, c), cross(a, b, d)
	d3, d4 := cross(c, d, a), cross(c, d, b)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return 0
	}
	return math.Min(math.Min(segDist(a, c, d), segDist(b, c, d)), math.Min(segDist(c, a, b), segDist(d, a, b)))
}

// segDist is the distance from p to the segment a–b.
func segDist(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}
