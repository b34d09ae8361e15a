package postgis

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/onemap/onemap/layers"
)

// Items returns a page of the layer's features that meet q, in id order
// (the primary key's), and how many meet it in all: a count and a page
// query over the same conditions, the page by the id index with LIMIT,
// from q.After (keyset) and q.Offset rows past it.
func (s *Store) Items(ctx context.Context, layer string, q layers.Query) ([]*layers.Feature, int, error) {
	l, err := s.cat.Layer(layer)
	if err != nil {
		return nil, 0, err
	}
	if l.Derived {
		return nil, 0, nil // computed elsewhere, never stored
	}
	where, args, err := itemsWhere(l, q)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var matched int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM `+qi(l.ID)+` WHERE `+where, args...).Scan(&matched); err != nil {
		return nil, 0, fmt.Errorf("postgis: items of %s: %w", layer, err)
	}
	if q.Limit <= 0 || matched == 0 || q.After == 0 && q.Offset >= matched {
		return nil, matched, nil
	}
	n := len(args)
	args = append(args, int64(q.After), q.Limit, q.Offset)
	rows, err := s.pool.Query(ctx, `SELECT `+s.selects[layer]+` FROM `+qi(l.ID)+` WHERE `+where+
		fmt.Sprintf(` AND id > $%d ORDER BY id LIMIT $%d OFFSET $%d`, n+1, n+2, n+3), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("postgis: items of %s: %w", layer, err)
	}
	defer rows.Close()
	page := make([]*layers.Feature, 0, min(q.Limit, matched))
	for rows.Next() {
		f, err := scanFeature(rows, l)
		if err != nil {
			return nil, 0, fmt.Errorf("postgis: items of %s: %w", layer, err)
		}
		page = append(page, f)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("postgis: items of %s: %w", layer, err)
	}
	return page, matched, nil
}

// itemsWhere is the WHERE clause of q's conditions, as layers.Query.Matches
// states them, and its arguments.
func itemsWhere(l *layers.Layer, q layers.Query) (string, []any, error) {
	conds := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if b := q.Bound; b != nil {
		conds = append(conds, fmt.Sprintf("ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
			arg(b.Min[0]), arg(b.Min[1]), arg(b.Max[0]), arg(b.Max[1])))
	}
	names := make([]string, 0, len(q.Equal))
	for k := range q.Equal {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		f, ok := l.Field(k)
		if !ok {
			return "", nil, fmt.Errorf("postgis: layer %s has no attribute %q", l.ID, k)
		}
		v := q.Equal[k]
		switch f.Type {
		case layers.Number:
			x, ok := v.(float64)
			if !ok {
				return "false", nil, nil // a value of another type meets nothing
			}
			conds = append(conds, qi(k)+"::double precision = "+arg(x)+"::double precision")
		case layers.Boolean:
			x, ok := v.(bool)
			if !ok {
				return "false", nil, nil
			}
			conds = append(conds, qi(k)+" = "+arg(x)+"::boolean")
		default:
			x, ok := v.(string)
			if !ok {
				return "false", nil, nil
			}
			conds = append(conds, qi(k)+" = "+arg(x)+"::text")
		}
	}
	if t := q.Time; t != nil {
		if _, ok := l.Field(t.Field); !ok {
			return "", nil, fmt.Errorf("postgis: layer %s has no attribute %q", l.ID, t.Field)
		}
		col := qi(t.Field)
		if t.Years {
			conds = append(conds, col+" IS NOT NULL")
			if !math.IsInf(t.FromYear, 0) {
				conds = append(conds, col+"::double precision >= "+arg(t.FromYear)+"::double precision")
			}
			if !math.IsInf(t.ToYear, 0) {
				conds = append(conds, col+"::double precision <= "+arg(t.ToYear)+"::double precision")
			}
		} else {
			// Dates compare as text, byte by byte as in Go.
			conds = append(conds, "octet_length("+col+") >= 10")
			if t.FromDate != "" {
				conds = append(conds, "left("+col+", 10) COLLATE \"C\" >= "+arg(t.FromDate)+"::text")
			}
			if t.ToDate != "" {
				conds = append(conds, "left("+col+", 10) COLLATE \"C\" <= "+arg(t.ToDate)+"::text")
			}
		}
	}
	return strings.Join(conds, " AND "), args, nil
}
