package postgis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"
)

// open loads c into a fresh database and opens a store on it.
func open(t *testing.T, c *city.City) *postgis.Store {
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
	before, other := s.Version("gas_pipe"), s.Version("water_pipe")
	// Another GIS tool edits a pipe.
	if _, err := s.Pool().Exec(ctx, `UPDATE gas_pipe SET diameter_mm = 400 WHERE id = $1`, int64(layers.MakeID(10, 1))); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.Version("gas_pipe") == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s.Version("gas_pipe") == before {
		t.Fatal("gas_pipe's version did not change after an UPDATE")
	}
	if s.Version("water_pipe") != other {
		t.Errorf("water_pipe version changed with gas_pipe: %d → %d", other, s.Version("water_pipe"))
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
	if n, _ := s.Count(ctx, "gas_node"); n != 3 {
		t.Errorf("gas nodes after a second load = %d, want 3", n)
	}
	// A pipe whose end node is missing fails the whole load; what was there stays.
	bad := storetest.City()
	bad.Features["gas_node"] = bad.Features["gas_node"][:2]
	bad.Features["building"] = nil
	err := postgis.Load(ctx, s.Pool(), cat, bad, postgis.LoadOptions{})
	if err == nil || !strings.Contains(err.Error(), "gas_pipe") {
		t.Fatalf("err = %v, want the gas_pipe load to fail", err)
	}
	s.Sync(ctx)
	for layer, want := range map[string]int{"gas_node": 3, "building": 1, "gas_pipe": 2} {
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
}

func TestJournal(t *testing.T) {
	ctx := context.Background()
	s := open(t, storetest.City())
	defer s.Close()
	j := s.Journal(60 * 24 * time.Hour)
	now := time.Now().UTC().Truncate(time.Millisecond)
	lastMonth := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, -2) // another partition
	rs := []live.Reading{
		{Sensor: 7, Metric: "ch4_lel", Value: 3, Unit: "%LEL", Time: lastMonth},
		{Sensor: 7, Metric: "ch4_lel", Value: 30, Unit: "%LEL", Time: now},
		{Sensor: 8, Metric: "pressure", Value: 0.31, Unit: "MPa", Time: now},
	}
	if err := j.AppendReadings(ctx, rs); err != nil {
		t.Fatal(err)
	}
	if err := j.AppendAck(ctx, 1, live.Ack{By: "值班员", At: now, Note: "seen"}); err != nil {
		t.Fatal(err)
	}
	// Sent again, with one new reading: kept once.
	again := append(rs[1:2:2], live.Reading{Sensor: 7, Metric: "ch4_lel", Value: 31, Unit: "%LEL", Time: now.Add(time.Second)})
	if err := j.AppendReadings(ctx, again); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := j.Replay(ctx, func(r live.Reading) error {
		got = append(got, fmt.Sprintf("%d/%s=%v@%d", r.Sensor, r.Metric, r.Value, r.Time.Sub(now).Milliseconds()))
		return nil
	}, func(id uint64, a live.Ack) error {
		got = append(got, fmt.Sprintf("ack %d by %s %s at %d", id, a.By, a.Note, a.At.Sub(now).Milliseconds()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("7/ch4_lel=3@%d", lastMonth.Sub(now).Milliseconds()), "7/ch4_lel=30@0", "8/pressure=0.31@0",
		"ack 1 by 值班员 seen at 0", "7/ch4_lel=31@1000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("replay:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var parts int
	s.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'reading'::regclass`).Scan(&parts)
	if parts != 2 {
		t.Errorf("%d partitions, want one a month: 2", parts)
	}
}
