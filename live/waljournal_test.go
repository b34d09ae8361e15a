package live_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/live/journaltest"
	"github.com/onemap/onemap/wal"
)

func openWAL(t *testing.T, dir string) live.WALJournal {
	t.Helper()
	l, err := wal.Open(filepath.Join(dir, "journal"), wal.Options{NoSync: true, SegmentSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return live.WALJournal{Log: l, Dir: filepath.Join(dir, "checkpoints")}
}

func TestWALJournal(t *testing.T) {
	dirs := map[*wal.Log]string{}
	journaltest.Run(t, journaltest.Factory{
		New: func(t *testing.T, _ func() time.Time) live.Journal {
			dir := t.TempDir()
			j := openWAL(t, dir)
			dirs[j.Log] = dir
			return j
		},
		Reopen: func(t *testing.T, j live.Journal) live.Journal {
			old := j.(live.WALJournal)
			old.Log.Close()
			nj := openWAL(t, dirs[old.Log])
			dirs[nj.Log] = dirs[old.Log]
			return nj
		},
	})
}
