package postgis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/live/journaltest"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// open loads c into a fresh database and opens a store on it.
func open(t testing.TB, c *city.City) *postgis.Store {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	cat := layers.Default()
	s, err := postgis.Open(ctx, url, cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgis.Load(ctx, s.Pool(), cat, c, postgis.LoadOptions{}); err != nil {
		s.Close()
		t.Fatal(err)
	}
	// Loading notifies; wait until the store has heard of it.
	if err := s.Sync(ctx); err != nil {
		s.Close()
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, c *city.City) store.Store { return open(t, c) })
}

func TestChangesBumpVersion(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.City())
	defer s.Close()
	before, other := s.Version(layers.GasPipe), s.Version(layers.WaterPipe)
	// Another GIS tool edits a pipe.
	if _, err := s.Pool().Exec(ctx, `UPDATE gas_pipe SET diameter_mm = 400 WHERE id = $1`, int64(layers.MakeID(10, 1))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Version(layers.GasPipe) == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Version(layers.GasPipe) == before {
		t.Fatal("gas_pipe's version did not change after an UPDATE")
	}
	if s.Version(layers.WaterPipe) != other {
		t.Errorf("water_pipe version changed with gas_pipe: %d → %d", other, s.Version(layers.WaterPipe))
	}
	f, err := s.Feature(ctx, layers.MakeID(10, 1))
	if err != nil || f.Props["diameter_mm"] != 400.0 {
		t.Errorf("after the edit: %v, %v", f, err)
	}
}

func TestLoadReplacesAndFailsWhole(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.City())
	defer s.Close()
	cat := layers.Default()
	// Loading again replaces rather than adds.
	if err := postgis.Load(ctx, s.Pool(), cat, storetest.City(), postgis.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	s.Sync(ctx)
	if n, _ := s.Count(ctx, layers.GasNode); n != 3 {
		t.Errorf("gas nodes after a second load = %d, want 3", n)
	}
	// A pipe whose end node is missing fails the whole load; what was there stays.
	bad := storetest.City()
	bad.Features[layers.GasNode] = bad.Features[layers.GasNode][:2]
	bad.Features[layers.Building] = nil
	err := postgis.Load(ctx, s.Pool(), cat, bad, postgis.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "gas_pipe") {
		t.Fatalf("err = %v, want the gas_pipe load to fail", err)
	}
	s.Sync(ctx)
	for layer, want := range map[string]int{layers.GasNode: 3, layers.Building: 1, layers.GasPipe: 2} {
		if n, _ := s.Count(ctx, layer); n != want {
			t.Errorf("%s after a failed load = %d, want %d", layer, n, want)
		}
	}
	if err := postgis.Load(ctx, s.Pool(), cat, storetest.City(), postgis.LoadOptions{SRID: 999999}); err == nil || !strings.Contains(err.Error(), "999999") {
		t.Errorf("unknown SRID: err = %v", err)
	}
}

func TestLoadProjected(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.City())
	defer s.Close()
	// The suite's city in CGCS2000 / 3-degree Gauss-Kruger CM 117E (EPSG:4548),
	// projected by PostGIS itself.
	c := storetest.City()
	want := map[uint64]orb.Point{}
	for _, fs := range c.Features {
		for _, f := range fs {
			if p, ok := f.Geometry.(orb.Point); ok {
				want[f.ID] = p
				var x, y float64
				err := s.Pool().QueryRow(ctx, `SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 4548) g`, p[0], p[1]).Scan(&x, &y)
				if err != nil {
					t.Fatal(err)
				}
				f.Geometry = orb.Point{x, y}
			} else {
				delete(c.Features, f.Layer) // keep the points only
			}
		}
	}
	if err := postgis.Load(ctx, s.Pool(), layers.Default(), c, postgis.LoadOptions{SRID: 4548}); err != nil {
		t.Fatal(err)
	}
	s.Sync(ctx)
	for id, p := range want {
		f, err := s.Feature(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Geometry.(orb.Point)
		if d := geo.Distance(got, p); d > 0.01 {
			t.Errorf("feature %d at %v, %.3f m from %v", id, got, d, p)
		}
	}
	if m := s.Meta(); m.Bounds[0] < 117 || m.Bounds[0] > 118 {
		t.Errorf("bounds after a projected load = %v, want longitudes", m.Bounds)
	}

	// Longitude and latitude said to be the metres of EPSG:4548 would land
	// the city at the CRS's false origin: refused, and the city kept.
	err := postgis.Load(ctx, s.Pool(), layers.Default(), storetest.City(), postgis.LoadOptions{SRID: 4548})
	if err == nil || !strings.Contains(err.Error(), "looks like longitude and latitude; load it with --srid 4326") {
		t.Fatalf("lon/lat loaded as EPSG:4548: %v", err)
	}
	s.Sync(ctx)
	if m := s.Meta(); m.Bounds[0] < 117 || m.Bounds[0] > 118 {
		t.Errorf("bounds after a refused load = %v", m.Bounds)
	}
}

func TestJournal(t *testing.T) {
	journaltest.Run(t, journaltest.Factory{
		New: func(t *testing.T, now func() time.Time) live.Journal {
			s := open(t, storetest.City())
			t.Cleanup(func() { s.Close() })
			return s.Journal(8 * 24 * time.Hour).WithClock(now)
		},
		Reopen: func(t *testing.T, j live.Journal) live.Journal {
			return j // the database is the journal: a new one reads the same tables
		},
	})
}

// Readings go into a partition a month, and pruning drops the months past
// the retention whole.
func TestJournalPartitions(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.City())
	defer s.Close()
	j := s.Journal(60 * 24 * time.Hour)
	now := time.Now().UTC().Truncate(time.Millisecond)
	thisMonth := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC)
	rs := []live.Reading{
		{Sensor: 7, Metric: "ch4_lel", Value: 3, Unit: "%LEL", Time: thisMonth.AddDate(0, -2, 0)},
		{Sensor: 7, Metric: "ch4_lel", Value: 3, Unit: "%LEL", Time: thisMonth.AddDate(0, 0, -2)},
		{Sensor: 7, Metric: "ch4_lel", Value: 30, Unit: "%LEL", Time: now},
	}
	if err := j.AppendReadings(ctx, rs); err != nil {
		t.Fatal(err)
	}
	// Sent again: kept once.
	if err := j.AppendReadings(ctx, rs[2:]); err != nil {
		t.Fatal(err)
	}
	partitions := func() (n, readings int) {
		s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'reading'::regclass`).Scan(&n)
		s.Pool().QueryRow(ctx, `SELECT count(*) FROM reading`).Scan(&readings)
		return
	}
	if n, k := partitions(); n != 3 || k != 3 {
		t.Errorf("%d partitions with %d readings, want one a month: 3 with 3", n, k)
	}
	if err := j.Prune(ctx, 0, thisMonth.AddDate(0, -1, 0)); err != nil {
		t.Fatal(err)
	}
	if n, k := partitions(); n != 2 || k != 2 {
		t.Errorf("after pruning: %d partitions with %d readings, want 2 with 2", n, k)
	}
	// A month dropped is made again when a reading needs it.
	if err := j.AppendReadings(ctx, rs[:1]); err != nil {
		t.Fatal(err)
	}
	if n, _ := partitions(); n != 3 {
		t.Errorf("%d partitions after a reading of the dropped month, want 3", n)
	}
}
