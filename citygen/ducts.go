package citygen

import (
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// ducts lays power and telecom ducts under every arterial and secondary
// street, one feature per run of up to two blocks.
func (g *gen) ducts() {
	r := g.rng(streamDucts)
	gr := g.grid
	for _, ls := range [][]*line{gr.cols, gr.rows} {
		for _, l := range ls {
			if l.class == "branch" {
				continue
			}
			for _, run := range gr.runs(l) {
				for s := 0; s < len(run); s += 2 {
					es := run[s:min(s+2, len(run))]
					a, b := es[0].a, es[len(es)-1].b
					y := 1995 + r.IntN(29)
					kv := 10
					if l.class == "expressway" {
						kv = 110
					}
					pp := orb.LineString{gr.offsetPoint(a, offPower), gr.offsetPoint(b, offPower)}
					g.add(layers.PowerDuct, pp, map[string]any{"voltage_kv": kv, "width_m": 1.2, "depth_m": 1.0, "install_year": y, "length_m": round(dist(pp[0], pp[1]), 1), "road": l.name})
					tp := orb.LineString{gr.offsetPoint(a, offTelecom), gr.offsetPoint(b, offTelecom)}
					g.add(layers.TelecomDuct, tp, map[string]any{"holes": pick(r, []int{6, 9, 12, 18, 24}), "depth_m": 0.8, "install_year": y + r.IntN(3), "length_m": round(dist(tp[0], tp[1]), 1), "road": l.name})
				}
			}
		}
	}
}
