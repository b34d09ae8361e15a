package postgis

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/tiles"
)

var _ tiles.Renderer = (*Store)(nil)

// tileSQL caches the statement of each list of layers; pgx prepares each
// statement once per connection.
var tileSQL sync.Map

// RenderTile makes tile t of the layers in one SQL statement: per layer an
// ST_AsMVT over ST_AsMVTGeom, concatenated. The rules are the encoder's: the
// feature id as the MVT id, the catalog's attributes but the personal ones,
// lines and polygons clipped to the tile and its buffer, points to the tile
// alone, features below their minimum zoom left out, simplified by
// tiles.Tolerance; features in id order, as the memory store writes them,
// so that both give the same bytes for the same features.
func (s *Store) RenderTile(ctx context.Context, ls []*layers.Layer, t tiles.Tile) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	ids := make([]string, len(ls))
	for i, l := range ls {
		ids[i] = l.ID
	}
	key := strings.Join(ids, ",")
	q, ok := tileSQL.Load(key)
	if !ok {
		q, _ = tileSQL.LoadOrStore(key, buildTileSQL(ls))
	}
	// The tolerance in Web Mercator metres: tile units times metres per unit.
	tol := tiles.Tolerance(t.Z) * 2 * math.Pi * 6378137 / math.Exp2(float64(t.Z)) / tiles.Extent
	var b []byte
	if err := s.pool.QueryRow(ctx, q.(string), t.Z, int(t.X), int(t.Y), tol).Scan(&b); err != nil {
		return nil, fmt.Errorf("postgis: tile %s: %w", t, err)
	}
	if len(b) == 0 {
		return nil, nil
	}
	return b, nil
}

func buildTileSQL(ls []*layers.Layer) string {
	var b strings.Builder
	fmt.Fprintf(&b, "WITH e AS (SELECT ST_TileEnvelope($1, $2, $3) AS env,\n"+
		"  ST_Transform(ST_TileEnvelope($1, $2, $3), 4326) AS tile,\n"+
		"  ST_Transform(ST_TileEnvelope($1, $2, $3, margin => %d.0 / %d), 4326) AS query,\n"+
		"  $4::float8 AS tol)\nSELECT ", tiles.Buffer, tiles.Extent)
	for i, l := range ls {
		if i > 0 {
			b.WriteString("\n || ")
		}
		// Tiles never carry personal fields, not even ones that extra
		// might hold under the same names.
		cols, extra := "", "extra"
		var personal []string
		for _, f := range l.Fields {
			if f.Personal {
				personal = append(personal, "'"+f.Name+"'")
				continue
			}
			cols += ", " + qi(f.Name)
		}
		if len(personal) > 0 {
			extra = "extra - ARRAY[" + strings.Join(personal, ", ") + "] AS extra"
		}
		g := "ST_Transform(geom, 3857)"
		buffer, filter := tiles.Buffer, "geom && e.query"
		if l.Geometry == layers.Point {
			buffer, filter = 0, "geom && e.tile"
		} else {
			g = "CASE WHEN e.tol > 0 THEN ST_Simplify(" + g + ", e.tol, true) ELSE " + g + " END"
		}
		fmt.Fprintf(&b, "COALESCE((SELECT ST_AsMVT(t, '%s', %d, 'geom', 'id' ORDER BY id) FROM (\n"+
			"   SELECT id, ST_AsMVTGeom(%s, e.env, %d, %d, true) AS geom%s, %s\n"+
			"   FROM %s, e WHERE %s AND minzoom <= $1) t WHERE geom IS NOT NULL), ''::bytea)",
			l.ID, tiles.Extent, g, tiles.Extent, buffer, cols, extra, qi(l.ID), filter)
	}
	return b.String()
}
