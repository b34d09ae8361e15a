package postgis

import "context"

// TruncateAuth empties the auth tables, for a test that needs them empty.
func TruncateAuth(ctx context.Context, a *Auth) error {
	_, err := a.pool.Exec(ctx, `TRUNCATE auth_user, auth_token, auth_session`)
	return err
}

// SetMax sets the most sessions s keeps, for a test of the bound.
func (s *Sessions) SetMax(n int) { s.max = n }
