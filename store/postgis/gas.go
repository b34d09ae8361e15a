package postgis

import (
	"context"
	"fmt"
	"slices"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

var _ spatial.NeighbourhoodFinder = (*Store)(nil)

// GasNeighbourhood finds the underground spaces within distance metres of
// the gas pipes in b in one statement per kind of space: a lateral join on
// the GiST index (a bound padded in degrees) decided by ST_DWithin on
// geography. The answer is the same as spatial.GasNeighbourhood's.
func (s *Store) GasNeighbourhood(ctx context.Context, b orb.Bound, distance float64) ([]spatial.Adjacency, error) {
	if !(distance > 0 && distance <= 500) {
		return nil, fmt.Errorf("%w: %v m is not in (0, 500]", spatial.ErrRadius, distance)
	}
	gas, err := s.cat.Layer(layers.GasPipe)
	if err != nil {
		return nil, err
	}
	pipes := map[uint64]*layers.Feature{}
	if err := s.Features(ctx, gas.ID, b, layers.MaxZoom, func(f *layers.Feature) error { pipes[f.ID] = f; return nil }); err != nil {
		return nil, err
	}
	// Degrees that hold distance metres at this latitude, padded: the index
	// test only has to keep every candidate.
	pad := spatial.NewPlane(b.Center()).Bound(orb.Bound{Min: b.Center(), Max: b.Center()}, distance*1.5)
	deg := max(pad.Max[0]-b.Center()[0], pad.Max[1]-b.Center()[1])
	var out []spatial.Adjacency
	for _, id := range spatial.AdjacentLayers {
		l, err := s.cat.Layer(id)
		if err != nil {
			return nil, err
		}
		where := ""
		if id == layers.Building {
			where = " AND s.basement"
		}
		rows, err := s.pool.Query(ctx, `SELECT p.id, `+selectCols(l, "s.")+`, ST_Distance(p.geom::geography, s.geom::geography),
				ST_AsBinary(ST_ClosestPoint(s.geom, p.geom))
			FROM `+qi(gas.ID)+` p JOIN `+qi(id)+` s ON s.geom && ST_Expand(p.geom, $6)
				AND ST_DWithin(p.geom::geography, s.geom::geography, $5)`+where+`
			WHERE p.geom && ST_MakeEnvelope($1, $2, $3, $4, 4326)`,
			b.Min[0], b.Min[1], b.Max[0], b.Max[1], distance, deg)
		if err != nil {
			return nil, fmt.Errorf("postgis: gas neighbourhood %s: %w", id, err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				rows.Close()
				return nil, err
			}
			pid, _ := vals[0].(int64)
			pipe := pipes[uint64(pid)]
			if pipe == nil {
				continue // its bound meets b but it was not read: cannot happen, but be safe
			}
			sp, err := scanValues(vals[1:], l)
			if err != nil {
				rows.Close()
				return nil, err
			}
			d, _ := vals[len(vals)-2].(float64)
			cb, _ := vals[len(vals)-1].([]byte)
			cg, err := decodeWKB(cb)
			if err != nil {
				rows.Close()
				return nil, err
			}
			cp, _ := cg.(orb.Point)
			out = append(out, spatial.Adjacency{Pipe: pipe, Space: sp, Distance: d, Closest: cp})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgis: gas neighbourhood %s: %w", id, err)
		}
	}
	slices.SortFunc(out, spatial.CompareAdjacency)
	return out, nil
}
