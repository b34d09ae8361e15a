package postgis_test

import (
	"context"
	"testing"

	"github.com/onemap/onemap/incident/attach"
	"github.com/onemap/onemap/incident/attach/attachtest"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/postgis"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

func TestAttachments(t *testing.T) {
	ctx := context.Background()
	s, err := postgis.Open(ctx, pgtest.URL(t), layers.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	attachtest.Run(t, func(t *testing.T, clock *attachtest.Clock, max int64) attach.Store {
		if _, err := s.Pool().Exec(ctx, `TRUNCATE incident_attachment`); err != nil {
			t.Fatal(err)
		}
		return s.Attachments(attach.Options{MaxSize: max, Now: clock.Now})
	})
}
