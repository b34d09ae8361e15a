package postgis

import (
	"context"
	"fmt"
)

// Ping tells whether the database answers: nil once a connection of the
// pool has run a round trip within ctx.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgis: ping: %w", err)
	}
	return nil
}
