package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// LoadOptions change how a city is loaded.
type LoadOptions struct {
	// SRID is the CRS of the city's coordinates; 0 means 4326. Data in
	// another CRS (such as CGCS2000 / 3-degree Gauss-Kruger, EPSG:4547) is
	// transformed to 4326 as it is loaded.
	SRID int
	// Progress, if set, is told of each layer's rows as they are copied.
	Progress func(layer string, rows int)
}

// Load replaces the city in the database with c, in one transaction: a
// failure leaves the database as it was, and loading again replaces. Rows go
// in with COPY, through a staging table per layer so that geometry can be
// transformed on the way.
func Load(ctx context.Context, pool *pgxpool.Pool, cat *layers.Catalog, c *city.City, o LoadOptions) error {
	srid := o.SRID
	if srid == 0 || srid == 4490 { // CGCS2000 geographic agrees with WGS84 to centimetres
		srid = 4326
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer tx.Rollback(ctx)

	var known bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = $1)`, srid).Scan(&known); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if !known {
		return fmt.Errorf("load: SRID %d is not in spatial_ref_sys", srid)
	}
	if err := checkFits(ctx, tx, c, srid); err != nil {
		return err
	}
	order := loadOrder(cat)
	names := make([]string, len(order))
	for i, l := range order {
		names[i] = qi(l.ID)
	}
	if _, err := tx.Exec(ctx, `TRUNCATE `+joinIdents(names)); err != nil {
		return fmt.Errorf("load: empty the layers: %w", err)
	}
	for _, l := range order {
		fs := c.Features[l.ID]
		if len(fs) == 0 {
			continue
		}
		if err := loadLayer(ctx, tx, l, fs, srid, o.Progress); err != nil {
			return fmt.Errorf("load %s: %w", l.ID, err)
		}
	}
	meta := c.Meta
	if srid != 4326 {
		// city.json of projected data gives bounds in metres: take them
		// from the transformed data instead.
		var minx, miny, maxx, maxy *float64
		q := `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) AS e FROM (`
		for i, l := range order {
			if i > 0 {
				q += " UNION ALL "
			}
			q += `SELECT geom FROM ` + qi(l.ID)
		}
		q += `) g) x`
		if err := tx.QueryRow(ctx, q).Scan(&minx, &miny, &maxx, &maxy); err != nil {
			return fmt.Errorf("load: city extent: %w", err)
		}
		if minx != nil {
			meta.Bounds = [4]float64{*minx, *miny, *maxx, *maxy}
			meta.Center = [2]float64{(*minx + *maxx) / 2, (*miny + *maxy) / 2}
		}
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO city (meta) VALUES ($1) ON CONFLICT (id) DO UPDATE SET meta = EXCLUDED.meta`, mj); err != nil {
		return fmt.Errorf("load: city: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("load: commit: %w", err)
	}
	return nil
}

// checkFits refuses coordinates that cannot be in the CRS srid: longitude
// and latitude given as the metres of a projected CRS, which would put the
// city a few hundred metres from the CRS's false origin.
func checkFits(ctx context.Context, tx pgx.Tx, c *city.City, srid int) error {
	var projected bool
	if err := tx.QueryRow(ctx, `SELECT srtext LIKE 'PROJCS%' FROM spatial_ref_sys WHERE srid = $1`, srid).Scan(&projected); err != nil {
		return fmt.Errorf("load: SRID %d: %w", srid, err)
	}
	if !projected {
		return nil
	}
	var b orb.Bound
	n := 0
	for _, fs := range c.Features {
		for _, f := range fs {
			if f.Geometry == nil {
				continue
			}
			if n == 0 {
				b = f.Geometry.Bound()
			} else {
				b = b.Union(f.Geometry.Bound())
			}
			n++
		}
	}
	if n > 0 && b.Min[0] >= -180 && b.Max[0] <= 180 && b.Min[1] >= -90 && b.Max[1] <= 90 {
		return fmt.Errorf("load: --srid %d is a projected CRS in metres, but every coordinate lies within ±180, ±90 (x %.4f to %.4f, y %.4f to %.4f): the data looks like longitude and latitude; load it with --srid 4326 (or 4490)",
			srid, b.Min[0], b.Max[0], b.Min[1], b.Max[1])
	}
	return nil
}

func joinIdents(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}

// loadLayer copies one layer's features into its table.
func loadLayer(ctx context.Context, tx pgx.Tx, l *layers.Layer, fs []*layers.Feature, srid int, progress func(string, int)) error {
	stage := qi("stage_" + l.ID)
	cols := []string{"id", "minzoom", "wkb"}
	defs := "id bigint, minzoom smallint, wkb bytea"
	sel := "id, minzoom, " + geomExpr(srid)
	tcols := "id, minzoom, geom"
	known := map[string]bool{}
	for _, f := range l.Fields {
		cols = append(cols, f.Name)
		defs += ", " + qi(f.Name) + " " + columnType(f)
		sel += ", " + qi(f.Name)
		tcols += ", " + qi(f.Name)
		known[f.Name] = true
	}
	cols = append(cols, "extra")
	defs += ", extra jsonb"
	sel += ", extra"
	tcols += ", extra"
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE `+stage+` (`+defs+`) ON COMMIT DROP`); err != nil {
		return err
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= len(fs) {
			return nil, nil
		}
		f := fs[i]
		i++
		if progress != nil && (i%2000 == 0 || i == len(fs)) {
			progress(l.ID, i)
		}
		if f.ID > math.MaxInt64 {
			return nil, fmt.Errorf("feature %d: id too large", i-1)
		}
		g, err := encodeWKB(f.Geometry)
		if err != nil {
			return nil, fmt.Errorf("feature %d (id %d): %w", i-1, f.ID, err)
		}
		row := make([]any, 0, len(cols))
		row = append(row, int64(f.ID), int16(f.MinZoom), g)
		for _, fd := range l.Fields {
			v, err := columnValue(fd, f.Props[fd.Name])
			if err != nil {
				return nil, fmt.Errorf("feature %d (id %d): %w", i-1, f.ID, err)
			}
			row = append(row, v)
		}
		var extra map[string]any
		for k, v := range f.Props {
			if !known[k] {
				if extra == nil {
					extra = map[string]any{}
				}
				extra[k] = v
			}
		}
		if extra != nil {
			row = append(row, extra)
		} else {
			row = append(row, nil)
		}
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_" + l.ID}, cols, src); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+qi(l.ID)+` (`+tcols+`) SELECT `+sel+` FROM `+stage); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DROP TABLE `+stage)
	return err
}

// geomExpr turns the staged WKB into the stored geometry.
func geomExpr(srid int) string {
	if srid == 4326 {
		return "ST_SetSRID(ST_GeomFromWKB(wkb), 4326)"
	}
	return fmt.Sprintf("ST_Transform(ST_SetSRID(ST_GeomFromWKB(wkb), %d), 4326)", srid)
}

// columnValue converts an attribute to what its column's type takes.
func columnValue(f layers.Field, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch columnType(f) {
	case "bigint", "integer":
		x, ok := v.(float64)
		if !ok || x != math.Trunc(x) {
			return nil, fmt.Errorf("attribute %q: %v is not a whole number", f.Name, v)
		}
		return int64(x), nil
	}
	return v, nil
}
