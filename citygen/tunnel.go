package citygen

import (
	"fmt"
	"math"

	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// tunnelSpan is the stretch of an arterial row that a utility tunnel runs under.
type tunnelSpan struct {
	row    *line
	x0, x1 float64
}

// compartment is one compartment (舱室) of the utility tunnel.
type compartment struct {
	id, zh, en, carries string
	off, width          float64
}

var compartments = []compartment{
	{"gas", "燃气舱", "gas compartment", "DN300 中压燃气管", offTunGas, 1.8},
	{"power_telecom", "电力通信舱", "power and telecom compartment", "10kV 电力电缆, 通信光缆", offTunPower, 2.6},
	{"water_heat", "水信舱", "water and heat compartment", "DN600 给水管, DN500 热力管", offTunWater, 3.2},
}

// utilityTunnel lays a utility tunnel of about 4.5 km under an arterial row
// of each tile, away from the river, as one feature per compartment and
// fire zone (at most 200 m long).
func (g *gen) utilityTunnel() {
	r := g.rng(streamTunnel)
	gr := g.grid
	per := int(tileSize / lineSpacing)
	for ty := range g.tiles {
		for tx := range g.tiles {
			c0, c1 := tx*per+6, tx*per+24
			// the arterial row whose whole stretch is present and farthest from the river
			var row *line
			best := 0.0
			for _, k := range []int{8, 12, 16, 20, 24} {
				j := ty*per + k
				ok := true
				for i := c0; i < c1 && ok; i++ {
					ok = gr.hEdge[gr.node(i, j)] >= 0
				}
				if !ok {
					continue
				}
				rw := gr.rows[j]
				d := math.Inf(1)
				for i := c0; i <= c1; i++ {
					d = math.Min(d, g.riverAt(rw.pos).bankDist(orb.Point{gr.cols[i].pos, rw.pos}))
				}
				if d > best {
					row, best = rw, d
				}
			}
			if row == nil {
				continue
			}
			x0, x1 := gr.cols[c0].pos+offGas, gr.cols[c1].pos+offGas
			g.tunnelSpans = append(g.tunnelSpans, tunnelSpan{row: row, x0: x0, x1: x1})
			nz := int(math.Ceil((x1 - x0) / 200))
			zl := (x1 - x0) / float64(nz)
			year := 2017 + r.IntN(4)
			for _, c := range compartments {
				for z := range nz {
					y := row.pos + c.off
					a, b := x0+zl*float64(z), x0+zl*float64(z+1)
					f := g.add(layers.UtilityTunnel, orb.LineString{{a, y}, {b, y}}, map[string]any{
						"name":        fmt.Sprintf("%s综合管廊%s第%d防火分区", row.name, c.zh, z+1),
						"name_en":     fmt.Sprintf("%s Utility Tunnel, %s, fire zone %d", row.en, c.en, z+1),
						"compartment": c.id, "fire_zone": z + 1, "carries": c.carries, "width_m": c.width,
						"depth_m": 4.5, "length_m": round(b-a, 1), "install_year": year, "owner": "滨湖管廊公司",
					})
					g.tunnel = append(g.tunnel, f)
				}
			}
		}
	}
}
