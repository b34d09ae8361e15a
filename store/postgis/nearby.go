package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

var _ spatial.Searcher = (*Store)(nil)

// Nearby returns the features of the layers within radius metres of from,
// nearest first (ties by id), measured on the WGS84 spheroid (geography).
// A bound in degrees, padded by the radius, lets the GiST index pick the
// candidates; ST_DWithin on geography decides.
func (s *Store) Nearby(ctx context.Context, from orb.Geometry, radius float64, layerIDs []string) ([]spatial.Hit, error) {
	if err := spatial.CheckRadius(radius); err != nil {
		return nil, err
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
		if hits, err = scanHits(rows, err, l, hits); err != nil {
			return nil, fmt.Errorf("postgis: nearby %s: %w", id, err)
		}
	}
	spatial.SortHits(hits)
	return hits, nil
}

// maxNearbyFrom bounds the geometries one statement of NearbyAny measures
// from; more are sent in several.
const maxNearbyFrom = 5000

// NearbyAny returns the features of the layers within radius metres of any
// of the geometries in from, each once with its distance to the nearest of
// them, nearest first (ties by id), measured as Nearby measures. Each layer
// is one statement: the geometries go as an array, each with its padded
// bound for the GiST index, and DISTINCT ON keeps the nearest match of each
// feature.
func (s *Store) NearbyAny(ctx context.Context, from []orb.Geometry, radius float64, layerIDs []string) ([]spatial.Hit, error) {
	if err := spatial.CheckRadius(radius); err != nil {
		return nil, err
	}
	if len(from) == 0 {
		return nil, nil
	}
	wkbs := make([][]byte, len(from))
	x0, y0, x1, y1 := make([]float64, len(from)), make([]float64, len(from)), make([]float64, len(from)), make([]float64, len(from))
	for i, g := range from {
		w, err := encodeWKB(g)
		if err != nil {
			return nil, err
		}
		b := g.Bound()
		q := spatial.NewPlane(b.Center()).Bound(b, radius*1.01)
		wkbs[i], x0[i], y0[i], x1[i], y1[i] = w, q.Min[0], q.Min[1], q.Max[0], q.Max[1]
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	best := map[uint64]spatial.Hit{}
	for _, id := range layerIDs {
		l, err := s.cat.Layer(id)
		if err != nil {
			return nil, err
		}
		if l.Derived {
			continue
		}
		for lo := 0; lo < len(from); lo += maxNearbyFrom {
			hi := min(lo+maxNearbyFrom, len(from))
			rows, err := s.pool.Query(ctx, `WITH q AS (
					SELECT ST_SetSRID(ST_GeomFromWKB(u.w), 4326) AS g, ST_MakeEnvelope(u.x0, u.y0, u.x1, u.y1, 4326) AS env
					FROM unnest($1::bytea[], $2::float8[], $3::float8[], $4::float8[], $5::float8[]) AS u(w, x0, y0, x1, y1))
				SELECT DISTINCT ON (t.id) `+selectCols(l, "t.")+`, ST_Distance(t.geom::geography, q.g::geography) AS d,
					ST_AsBinary(ST_ClosestPoint(t.geom, q.g))
				FROM `+qi(id)+` AS t JOIN q ON t.geom && q.env AND ST_DWithin(t.geom::geography, q.g::geography, $6)
				ORDER BY t.id, d`,
				wkbs[lo:hi], x0[lo:hi], y0[lo:hi], x1[lo:hi], y1[lo:hi], radius)
			hits, err := scanHits(rows, err, l, nil)
			if err != nil {
				return nil, fmt.Errorf("postgis: nearby any %s: %w", id, err)
			}
			for _, h := range hits {
				if b, ok := best[h.Feature.ID]; !ok || h.Distance < b.Distance {
					best[h.Feature.ID] = h
				}
			}
		}
	}
	hits := make([]spatial.Hit, 0, len(best))
	for _, h := range best {
		hits = append(hits, h)
	}
	spatial.SortHits(hits)
	return hits, nil
}

// scanHits appends to hits the rows of a query (and its error) whose
// columns are the layer's, the distance and the closest point's WKB.
func scanHits(rows pgx.Rows, err error, l *layers.Layer, hits []spatial.Hit) ([]spatial.Hit, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanFeature(rows, l)
		if err != nil {
			return nil, err
		}
		vals, _ := rows.Values()
		d, _ := vals[len(vals)-2].(float64)
		cb, _ := vals[len(vals)-1].([]byte)
		cp, err := decodeWKB(cb)
		if err != nil {
			return nil, err
		}
		p, _ := cp.(orb.Point)
		hits = append(hits, spatial.Hit{Feature: f, Distance: d, Closest: p})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return hits, nil
}
