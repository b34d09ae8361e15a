package postgis

import (
	"context"
	"fmt"

	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

var _ spatial.Searcher = (*Store)(nil)

// Nearby returns the features of the layers within radius metres of from,
// nearest first (ties by id), measured on the WGS84 spheroid (geography).
// A bound in degrees, padded by the radius, lets the GiST index pick the
// candidates; ST_DWithin on geography decides.
func (s *Store) Nearby(ctx context.Context, from orb.Geometry, radius float64, layerIDs []string) ([]spatial.Hit, error) {
	if !(radius > 0 && radius <= spatial.MaxRadius) {
		return nil, fmt.Errorf("%w: %v m is not in (0, %d]", spatial.ErrRadius, radius, spatial.MaxRadius)
	}
	g, err := encodeWKB(from)
	if err != nil {
		return nil, err
	}
	b := from.Bound()
	q := spatial.NewPlane(b.Center()).Bound(b, radius*1.01)
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var hits []spatial.Hit
	for _, id := range layerIDs {
		l, err := s.cat.Layer(id)
		if err != nil {
			return nil, err
		}
		if l.Derived {
			continue
		}
		rows, err := s.pool.Query(ctx, `WITH q AS (SELECT ST_SetSRID(ST_GeomFromWKB($1), 4326) AS g)
			SELECT `+s.selects[id]+`, ST_Distance(geom::geography, q.g::geography) AS d,
				ST_AsBinary(ST_ClosestPoint(geom, q.g))
			FROM `+qi(id)+`, q
			WHERE geom && ST_MakeEnvelope($2, $3, $4, $5, 4326) AND ST_DWithin(geom::geography, q.g::geography, $6)`,
			g, q.Min[0], q.Min[1], q.Max[0], q.Max[1], radius)
		if err != nil {
			return nil, fmt.Errorf("postgis: nearby %s: %w", id, err)
		}
		for rows.Next() {
			f, err := scanFeature(rows, l)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("postgis: nearby %s: %w", id, err)
			}
			vals, _ := rows.Values()
			d, _ := vals[len(vals)-2].(float64)
			cb, _ := vals[len(vals)-1].([]byte)
			cp, err := decodeWKB(cb)
			if err != nil {
				rows.Close()
				return nil, err
			}
			p, _ := cp.(orb.Point)
			hits = append(hits, spatial.Hit{Feature: f, Distance: d, Closest: p})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("postgis: nearby %s: %w", id, err)
		}
	}
	spatial.SortHits(hits)
	return hits, nil
}
