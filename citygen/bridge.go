package citygen

import (
	"cmp"
	"math"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// bridgeInfo is a bridge deck while the city is generated.
type bridgeInfo struct {
	e         *edge
	f         *layers.Feature
	structure string
	s, n      float64 // deck ends (y)
	x         float64
}

// bridgeDecks writes a deck outline for every bridge edge. On each river
// the widest crossing is cable-stayed, the next tied-arch, then arch; the
// rest are beam bridges.
func (g *gen) bridgeDecks() {
	r := g.rng(streamBridges)
	gr := g.grid
	byRiver := make([][]*edge, len(g.rivers))
	for _, e := range gr.edges {
		if e.bridge {
			ty := int(gr.nodes[e.a].p[1] / tileSize)
			ty = max(0, min(ty, g.tiles-1))
			byRiver[ty] = append(byRiver[ty], e)
		}
	}
	for ty, es := range byRiver {
		rv := g.rivers[ty]
		crossing := func(e *edge) float64 { s, n := rv.banks(e.line.pos); return n - s }
		order := slices.Clone(es)
		slices.SortStableFunc(order, func(a, b *edge) int { return cmp.Compare(crossing(b), crossing(a)) })
		kinds := map[*edge]string{}
		for k, e := range order {
			kinds[e] = [...]string{"cable_stayed", "tied_arch", "arch", "beam"}[min(k, 3)]
		}
		for _, e := range es { // in grid order, never map order
			x := e.line.pos
			s, n := rv.banks(x)
			w := n - s
			st := kinds[e]
			var approach, span float64
			var year int
			switch st {
			case "cable_stayed":
				span = math.Max(168, math.Round(w*1.1+between(r, 20, 60)))
				approach, year = between(r, 110, 160), 2012+r.IntN(8)
			case "tied_arch":
				span = math.Round(math.Min(w-6, between(r, 90, 130)))
				approach, year = between(r, 45, 80), 2005+r.IntN(12)
			case "arch":
				span = math.Round(math.Min(w-6, between(r, 55, 80)))
				approach, year = between(r, 35, 60), 1988+r.IntN(20)
			default:
				span = math.Round(between(r, 30, 45))
				approach, year = between(r, 25, 50), 1990+r.IntN(30)
			}
			ds, dn := s-approach, n+approach
			cond := "A"
			switch v := r.Float64(); {
			case v < 0.08 && st != "cable_stayed":
				cond = "D"
			case v < 0.25:
				cond = "C"
			case v < 0.7:
				cond = "B"
			}
			zh, en := e.line.name+"桥", e.line.en+" Bridge"
			if st == "cable_stayed" || st == "tied_arch" {
				zh, en = e.line.name[:len(e.line.name)-len("路")]+"大桥", e.line.en[:len(e.line.en)-len("Road")]+"Grand Bridge"
				if e.line.class == "expressway" {
					zh, en = e.line.name[:len(e.line.name)-len("大道")]+"大桥", e.line.en[:len(e.line.en)-len("Avenue")]+"Grand Bridge"
				}
			}
			poly := orb.Polygon{{{x - e.line.width/2, ds}, {x + e.line.width/2, ds}, {x + e.line.width/2, dn}, {x - e.line.width/2, dn}, {x - e.line.width/2, ds}}}
			// Design values the structure's monitoring is judged against
			// (the guide: % of the design limit): strain 500 με, deflection
			// L/600 of the main span, and a first natural frequency that falls
			// with the span (about 100/L Hz for girders, a little more for
			// stiffer cable-stayed and arch decks).
			props := map[string]any{
				"name": zh, "name_en": en, "structure": st, "main_span_m": span, "length_m": math.Round(dn - ds),
				"width_m": e.line.width, "build_year": year, "condition": cond, "rated_load_t": 55, "road": e.line.name,
				"design_strain_ue": 500.0, "design_deflection_mm": math.Round(span*1000/600*10) / 10,
				"design_displacement_mm": 100.0, "design_tilt_deg": 0.5,
				"baseline_frequency_hz": math.Round(100/span*1.2*1000) / 1000,
			}
			if st == "cable_stayed" {
				props["design_cable_force_kn"] = 6000.0
			}
			f := g.add(layers.Bridge, poly, props)
			g.bridges = append(g.bridges, &bridgeInfo{e: e, f: f, structure: st, s: ds, n: dn, x: x})
		}
	}
}
