package wal

import (
	"sync"
	"testing"
)

// OnCommit hears every group of appends made durable, with the records and
// bytes it held: what Stats counts.
func TestOnCommit(t *testing.T) {
	var mu sync.Mutex
	var got []Commit
	l := openLog(t, t.TempDir(), Options{OnCommit: func(c Commit) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	}})
	appendStrings(t, l, "a")
	appendStrings(t, l, "b", "cc")
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Records != 1 || got[1].Records != 2 || got[0].Appends != 1 {
		t.Fatalf("commits = %+v, want one of 1 record, one of 2", got)
	}
	if st := l.Stats(); uint64(got[0].Bytes+got[1].Bytes) != st.Bytes {
		t.Errorf("commits hold %d bytes, Stats %d", got[0].Bytes+got[1].Bytes, st.Bytes)
	}
	for _, c := range got {
		if c.Write < 0 || c.Sync < 0 {
			t.Errorf("commit %+v: negative time", c)
		}
	}
}
