package incident_test

import (
	"testing"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/journaltest"
	"github.com/onemap/onemap/wal"
)

func TestMemoryJournal(t *testing.T) {
	journaltest.Run(t, journaltest.Factory{
		New:    func(*testing.T) incident.Journal { return &incident.MemoryJournal{} },
		Reopen: func(_ *testing.T, j incident.Journal) incident.Journal { return j },
	})
}

func TestWALJournal(t *testing.T) {
	open := func(t *testing.T, dir string) incident.Journal {
		l, err := wal.Open(dir, wal.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return incident.WALJournal{Log: l}
	}
	dirs := map[incident.Journal]string{}
	journaltest.Run(t, journaltest.Factory{
		New: func(t *testing.T) incident.Journal {
			dir := t.TempDir()
			j := open(t, dir)
			dirs[j] = dir
			return j
		},
		Reopen: func(t *testing.T, j incident.Journal) incident.Journal {
			j.(incident.WALJournal).Log.Close()
			n := open(t, dirs[j])
			dirs[n] = dirs[j]
			return n
		},
	})
}
