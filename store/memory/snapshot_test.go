package memory_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
)

// snapshotOf writes the store of c to a snapshot and reads it back.
func snapshotOf(t testing.TB, c *city.City, info memory.SnapshotInfo) (*memory.Store, memory.SnapshotInfo) {
	t.Helper()
	var buf bytes.Buffer
	if err := memory.New(c).WriteSnapshot(&buf, info); err != nil {
		t.Fatal(err)
	}
	s, got, err := memory.ReadSnapshot(&buf, int64(buf.Len()), layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	return s, got
}

// A store read from a snapshot passes the store suite.
func TestSnapshotConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, c *city.City) store.Store {
		s, _ := snapshotOf(t, c, memory.SnapshotInfo{})
		return s
	})
}

// The sample city read from its snapshot has every feature, tile and
// attribute it had, and what the snapshot was told to keep.
func TestSnapshotSameCity(t *testing.T) {
	ctx := context.Background()
	c, ps := city.Check(data.SampleCity(), layers.Default(), city.Options{})
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	want := memory.New(c)
	info := memory.SnapshotInfo{Source: "sample@1", Problems: city.Problems{{Kind: "test", Severity: city.SeverityWarning, File: "x.geojson", Index: 3}}}
	path := filepath.Join(t.TempDir(), "city.snap")
	if err := want.SaveSnapshot(path, info); err != nil {
		t.Fatal(err)
	}
	got, gotInfo, err := memory.OpenSnapshot(path, layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotInfo, info) {
		t.Errorf("info %+v, want %+v", gotInfo, info)
	}
	if got.Meta() != want.Meta() {
		t.Errorf("meta %+v, want %+v", got.Meta(), want.Meta())
	}
	world := orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}
	n := 0
	for _, l := range layers.Default().Layers() {
		wantN, _ := want.Count(ctx, l.ID)
		gotN, _ := got.Count(ctx, l.ID)
		if gotN != wantN {
			t.Errorf("%s: %d features, want %d", l.ID, gotN, wantN)
		}
		err := want.Features(ctx, l.ID, world, layers.MaxZoom, func(f *layers.Feature) error {
			n++
			g, err := got.Feature(ctx, f.ID)
			if err != nil {
				return err
			}
			if !reflect.DeepEqual(g, f) {
				t.Errorf("feature %d: %+v, want %+v", f.ID, g, f)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n != c.Count() {
		t.Errorf("%d features compared, the city has %d", n, c.Count())
	}
	var stored []*layers.Layer
	for _, l := range layers.Default().Layers() {
		if !l.Derived {
			stored = append(stored, l)
		}
	}
	b := c.Meta.Bounds
	for _, z := range []int{11, 14} {
		for _, tl := range tiles.Covering(orb.Bound{Min: orb.Point{b[0], b[1]}, Max: orb.Point{b[2], b[3]}}, z) {
			a, _ := want.RenderTile(ctx, stored, tl)
			g, _ := got.RenderTile(ctx, stored, tl)
			if !bytes.Equal(a, g) {
				t.Errorf("tile %s: %d bytes from the snapshot, %d from the city", tl, len(g), len(a))
			}
		}
	}
}

// A snapshot cut short, damaged, of another format version or not one at
// all is refused with ErrSnapshot, never half read.
func TestSnapshotRefused(t *testing.T) {
	var buf bytes.Buffer
	if err := memory.New(storetest.City()).WriteSnapshot(&buf, memory.SnapshotInfo{Source: "test"}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":       nil,
		"not one":     []byte("{\"type\":\"FeatureCollection\"}"),
		"cut short":   good[:len(good)/2],
		"no checksum": good[:len(good)-4],
		"a byte flipped": func() []byte {
			b := bytes.Clone(good)
			b[len(b)*2/3] ^= 0x40
			return b
		}(),
		"a byte of the header flipped": func() []byte {
			b := bytes.Clone(good)
			b[30] ^= 0x40
			return b
		}(),
		"another version": func() []byte {
			b := bytes.Clone(good)
			b[8] = 99
			return b
		}(),
	}
	for name, b := range cases {
		_, _, err := memory.ReadSnapshot(bytes.NewReader(b), int64(len(b)), layers.Default())
		if !errors.Is(err, memory.ErrSnapshot) {
			t.Errorf("%s: %v, want ErrSnapshot", name, err)
		}
	}
	if _, _, err := memory.OpenSnapshot(filepath.Join(t.TempDir(), "none"), layers.Default()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v, want ErrNotExist", err)
	}
}

// Whatever the bytes, reading a snapshot returns a store or an error, and
// a store it returns answers tiles without panicking.
func FuzzReadSnapshot(f *testing.F) {
	var buf bytes.Buffer
	if err := memory.New(storetest.City()).WriteSnapshot(&buf, memory.SnapshotInfo{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _, err := memory.ReadSnapshot(bytes.NewReader(b), int64(len(b)), layers.Default())
		if err != nil {
			return
		}
		for _, l := range layers.Default().Layers() {
			if _, err := s.RenderTile(context.Background(), []*layers.Layer{l}, tiles.Tile{Z: 14, X: 13532, Y: 6658}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
