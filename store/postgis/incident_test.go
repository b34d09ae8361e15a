package postgis_test

import (
	"context"
	"testing"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/journaltest"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

func TestIncidentJournal(t *testing.T) {
	open := func(t *testing.T, url string) incident.Journal {
		s, err := postgis.Open(context.Background(), url, layers.Default(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s.IncidentJournal()
	}
	var last string
	journaltest.Run(t, journaltest.Factory{
		New: func(t *testing.T) incident.Journal {
			last = pgtest.URL(t)
			return open(t, last)
		},
		Reopen: func(t *testing.T, _ incident.Journal) incident.Journal {
			return open(t, last)
		},
	})
}
