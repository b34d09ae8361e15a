package series

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// A store loaded from a snapshot answers every query as the one it was
// taken of, and a damaged snapshot is refused.
func TestSnapshotRoundTrip(t *testing.T) {
	now := t0
	s := newTestStore(time.Hour, &now)
	rng := rand.New(rand.NewPCG(1, 2))
	keys := []Key{{1, "pressure"}, {1, "flow"}, {2, "ch4_lel"}, {3, "pressure"}}
	for i := range 5000 {
		k := keys[rng.IntN(len(keys))]
		ts := t0.Add(-48 * time.Hour).Add(time.Duration(rng.IntN(48*3600)) * time.Second)
		s.Append(k, ts, float64(rng.IntN(10000))/100+float64(i%3))
	}
	snap := s.AppendSnapshot(nil)

	got := newTestStore(time.Hour, &now)
	if err := got.LoadSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Keys(), s.Keys()) {
		t.Fatalf("keys %v, want %v", got.Keys(), s.Keys())
	}
	from, to := t0.Add(-49*time.Hour), t0
	for _, k := range keys {
		if a, b := collect(got, k, from, to), collect(s, k, from, to); !slices.Equal(a, b) || len(a) == 0 {
			t.Errorf("%v: %d readings after the load, want %d", k, len(a), len(b))
		}
		lt, lv, _ := got.Last(k)
		wt, wv, _ := s.Last(k)
		if !lt.Equal(wt) || lv != wv {
			t.Errorf("%v: last %v %v, want %v %v", k, lt, lv, wt, wv)
		}
	}
	if got.Bytes() > s.Bytes() {
		t.Errorf("loaded store holds %d bytes, more than the original's %d", got.Bytes(), s.Bytes())
	}
	// New readings go on where the old ones stopped.
	at := t0.Add(time.Minute)
	got.Append(keys[0], at, 42)
	if lt, lv, _ := got.Last(keys[0]); !lt.Equal(at) || lv != 42 {
		t.Errorf("appended after the load: last %v %v", lt, lv)
	}

	for _, bad := range [][]byte{nil, []byte("nonsense"), snap[:len(snap)-3], append(slices.Clone(snap[:len(snapshotMagic)]), 0xff, 0xff, 0xff)} {
		if err := newTestStore(time.Hour, &now).LoadSnapshot(bad); err == nil {
			t.Errorf("a damaged snapshot of %d bytes was loaded", len(bad))
		}
	}
}

func FuzzLoadSnapshot(f *testing.F) {
	now := t0
	s := newTestStore(time.Hour, &now)
	for i := range 300 {
		s.Append(Key{uint64(i % 3), "pressure"}, t0.Add(-time.Duration(i)*time.Minute), float64(i))
	}
	f.Add(s.AppendSnapshot(nil))
	f.Add([]byte(snapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		st := newTestStore(time.Hour, &now)
		if err := st.LoadSnapshot(b); err != nil {
			return
		}
		for _, k := range st.Keys() {
			collect(st, k, t0.Add(-1000*time.Hour), t0) // must not panic
		}
	})
}
