package postgis

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/onemap/onemap/auth"
)

// Users is an auth.UserStore in the table auth_user. A change is one
// transaction that locks the user's row (SELECT … FOR UPDATE), so changes
// from several servers and the onemap users command never interleave; a
// login is unique by an index.
type Users struct{ pool *pgxpool.Pool }

// Tokens is an auth.TokenStore in the table auth_token.
//
// TokenByHash looks the hash up by a unique index rather than comparing it
// with every stored hash. The time an index lookup takes may depend on how
// the hash compares with the stored ones, but the hash is of a secret of 256
// random bits: knowing how close a guessed hash came tells nothing of a
// secret that has it, so the lookup leaks nothing the constant-time scan of
// the other stores protects.
type Tokens struct{ pool *pgxpool.Pool }

// Sessions is an auth.SessionStore in the table auth_session, so that
// sessions outlive a restart and are shared by the servers on one database.
// A touch is written only when the stored LastSeen is a TouchInterval old or
// more, so a request costs a write at most once a minute per session, and a
// session may end up to a minute before its idle timeout.
type Sessions struct {
	pool *pgxpool.Pool
	max  int
}

var (
	_ auth.UserStore    = (*Users)(nil)
	_ auth.TokenStore   = (*Tokens)(nil)
	_ auth.SessionStore = (*Sessions)(nil)
)

// NewUsers returns the users of the database of pool, migrated.
func NewUsers(pool *pgxpool.Pool) *Users { return &Users{pool: pool} }

// NewTokens returns the tokens of the database of pool, migrated.
func NewTokens(pool *pgxpool.Pool) *Tokens { return &Tokens{pool: pool} }

// NewSessions returns the sessions of the database of pool, migrated; at
// auth.MaxSessions, a new one ends the session least recently used.
func NewSessions(pool *pgxpool.Pool) *Sessions { return &Sessions{pool: pool, max: auth.MaxSessions} }

// Users returns the store's users.
func (s *Store) Users() *Users { return NewUsers(s.pool) }

// Tokens returns the store's device and integration tokens.
func (s *Store) Tokens() *Tokens { return NewTokens(s.pool) }

// Sessions returns the store's login sessions.
func (s *Store) Sessions() *Sessions { return NewSessions(s.pool) }

// Auth is the users, tokens and sessions of a database, for a process that
// serves no map, such as the onemap users command.
type Auth struct {
	Users    *Users
	Tokens   *Tokens
	Sessions *Sessions
	pool     *pgxpool.Pool
}

// OpenAuth applies the migrations to the database at url and connects to it.
func OpenAuth(ctx context.Context, url string) (*Auth, error) {
	if err := Migrate(ctx, url); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgis: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "onemap"
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgis: connect: %w", err)
	}
	return &Auth{Users: NewUsers(pool), Tokens: NewTokens(pool), Sessions: NewSessions(pool), pool: pool}, nil
}

// Close closes the connections.
func (a *Auth) Close() { a.pool.Close() }

// uniqueViolation returns the constraint a unique violation broke, or "".
func uniqueViolation(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return pe.ConstraintName
	}
	return ""
}

// inTx runs fn in a transaction, committed if fn succeeds.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// nullTime is t for a nullable column: NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nilIfEmpty keeps an empty list as nil, as the stores in files do.
func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

const userCols = `id, login, name, roles, units, districts, disabled, password_hash, created, updated, sessions_after`

func scanUser(row pgx.Row) (auth.User, error) {
	var u auth.User
	var after *time.Time
	err := row.Scan(&u.ID, &u.Login, &u.Name, &u.Roles, &u.Scopes.Units, &u.Scopes.Districts, &u.Disabled,
		&u.PasswordHash, &u.Created, &u.Updated, &after)
	u.Scopes.Units, u.Scopes.Districts = nilIfEmpty(u.Scopes.Units), nilIfEmpty(u.Scopes.Districts)
	u.Created, u.Updated, u.SessionsAfter = u.Created.UTC(), u.Updated.UTC(), fromNull(after)
	return u, err
}

// orEmpty is s for a NOT NULL array column.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Users returns every user, by login.
func (s *Users) Users(ctx context.Context) ([]auth.User, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+userCols+` FROM auth_user ORDER BY login LIMIT $1`, auth.MaxUsers)
	if err != nil {
		return nil, fmt.Errorf("postgis: users: %w", err)
	}
	defer rows.Close()
	var out []auth.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis: users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: users: %w", err)
	}
	return out, nil
}

// UserByID returns the user of id.
func (s *Users) UserByID(ctx context.Context, id string) (auth.User, error) {
	return s.find(ctx, `id`, id)
}

// UserByLogin returns the user of login.
func (s *Users) UserByLogin(ctx context.Context, login string) (auth.User, error) {
	return s.find(ctx, `login`, login)
}

func (s *Users) find(ctx context.Context, col, v string) (auth.User, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM auth_user WHERE `+col+` = $1`, v))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.User{}, fmt.Errorf("%w: %s %.80s", auth.ErrNoUser, col, v)
	}
	if err != nil {
		return auth.User{}, fmt.Errorf("postgis: user: %w", err)
	}
	return u, nil
}

// CreateUser stores u, refusing a login or id in use.
func (s *Users) CreateUser(ctx context.Context, u auth.User) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The count and the insert at once: no two creations pass MaxUsers.
		if _, err := tx.Exec(ctx, `LOCK TABLE auth_user IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM auth_user`).Scan(&n); err != nil {
			return err
		}
		if n >= auth.MaxUsers {
			return fmt.Errorf("%w: already %d users", auth.ErrBadUser, auth.MaxUsers)
		}
		_, err := tx.Exec(ctx, `INSERT INTO auth_user (`+userCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			u.ID, u.Login, u.Name, orEmpty(u.Roles), orEmpty(u.Scopes.Units), orEmpty(u.Scopes.Districts), u.Disabled,
			u.PasswordHash, u.Created, u.Updated, nullTime(u.SessionsAfter))
		return err
	})
	switch c := uniqueViolation(err); {
	case c == "auth_user_login":
		return fmt.Errorf("%w: %s", auth.ErrLoginTaken, u.Login)
	case c != "":
		return fmt.Errorf("%w: id %.80s in use", auth.ErrBadUser, u.ID)
	case errors.Is(err, auth.ErrBadUser):
		return err
	case err != nil:
		return fmt.Errorf("postgis: create user: %w", err)
	}
	return nil
}

// UpdateUser changes the user of id by fn, with its row locked; its id may
// not change, and its login may change only to one not in use.
func (s *Users) UpdateUser(ctx context.Context, id string, fn func(*auth.User) error) (auth.User, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var out auth.User
	var fnErr error
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM auth_user WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			fnErr = fmt.Errorf("%w: id %.80s", auth.ErrNoUser, id)
			return fnErr
		}
		if err != nil {
			return err
		}
		if err := fn(&u); err != nil {
			fnErr = err
			return err
		}
		if u.ID != id {
			fnErr = fmt.Errorf("%w: a user's id cannot change", auth.ErrBadUser)
			return fnErr
		}
		_, err = tx.Exec(ctx, `UPDATE auth_user SET login = $2, name = $3, roles = $4, units = $5, districts = $6,
			disabled = $7, password_hash = $8, created = $9, updated = $10, sessions_after = $11 WHERE id = $1`,
			id, u.Login, u.Name, orEmpty(u.Roles), orEmpty(u.Scopes.Units), orEmpty(u.Scopes.Districts), u.Disabled,
			u.PasswordHash, u.Created, u.Updated, nullTime(u.SessionsAfter))
		out = u
		return err
	})
	switch {
	case fnErr != nil:
		return auth.User{}, fnErr
	case uniqueViolation(err) != "":
		return auth.User{}, fmt.Errorf("%w: %s", auth.ErrLoginTaken, out.Login)
	case err != nil:
		return auth.User{}, fmt.Errorf("postgis: update user: %w", err)
	}
	// out shares no slice with anything the store holds: it was scanned.
	return out, nil
}

const tokenCols = `id, name, scopes, sensors, hash, created, last_used, revoked, created_by`

func scanToken(row pgx.Row) (auth.Token, error) {
	var t auth.Token
	var sensors []int64
	var hash []byte
	var used, revoked *time.Time
	err := row.Scan(&t.ID, &t.Name, &t.Scopes, &sensors, &hash, &t.Created, &used, &revoked, &t.CreatedBy)
	if sensors != nil {
		t.Sensors = make([]uint64, len(sensors))
		for i, v := range sensors {
			t.Sensors[i] = uint64(v)
		}
	}
	t.Hash = hex.EncodeToString(hash)
	t.Created, t.LastUsed, t.Revoked = t.Created.UTC(), fromNull(used), fromNull(revoked)
	return t, err
}

// tokenHash decodes a token's hash, refusing all but 64 lower-case hex
// digits, so that one hash cannot be written two ways.
func tokenHash(t *auth.Token) ([]byte, error) {
	h, err := hex.DecodeString(t.Hash)
	if err != nil || len(h) != 32 || hex.EncodeToString(h) != t.Hash {
		return nil, fmt.Errorf("%w: token %.80s: the hash is not 64 lower-case hex digits", auth.ErrBadTokenSpec, t.ID)
	}
	return h, nil
}

// sensorsParam is a token's sensors for the bigint[] column: NULL for
// every sensor. Sensor ids keep their 64 bits.
func sensorsParam(s []uint64) []int64 {
	if s == nil {
		return nil
	}
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// Tokens returns every token, by creation time.
func (s *Tokens) Tokens(ctx context.Context) ([]auth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+tokenCols+` FROM auth_token ORDER BY created, id COLLATE "C" LIMIT $1`, auth.MaxTokens)
	if err != nil {
		return nil, fmt.Errorf("postgis: tokens: %w", err)
	}
	defer rows.Close()
	var out []auth.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis: tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: tokens: %w", err)
	}
	return out, nil
}

// TokenByHash returns the token of hash, looked up by index (see Tokens).
func (s *Tokens) TokenByHash(ctx context.Context, hash [32]byte) (auth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+tokenCols+` FROM auth_token WHERE hash = $1`, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Token{}, fmt.Errorf("%w: unknown", auth.ErrBadToken)
	}
	if err != nil {
		return auth.Token{}, fmt.Errorf("postgis: token: %w", err)
	}
	// What the database matched is compared once more, in constant time.
	if h, err := tokenHash(&t); err != nil || subtle.ConstantTimeCompare(h, hash[:]) != 1 {
		return auth.Token{}, fmt.Errorf("%w: unknown", auth.ErrBadToken)
	}
	return t, nil
}

// CreateToken stores t, refusing an id or hash in use.
func (s *Tokens) CreateToken(ctx context.Context, t auth.Token) error {
	h, err := tokenHash(&t)
	if err != nil {
		return err
	}
	if len(t.Sensors) > auth.MaxTokenSensors {
		return fmt.Errorf("%w: over %d sensors", auth.ErrBadTokenSpec, auth.MaxTokenSensors)
	}
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	err = inTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE auth_token IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM auth_token`).Scan(&n); err != nil {
			return err
		}
		if n >= auth.MaxTokens {
			return fmt.Errorf("%w: already %d tokens", auth.ErrBadTokenSpec, auth.MaxTokens)
		}
		_, err := tx.Exec(ctx, `INSERT INTO auth_token (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			t.ID, t.Name, orEmpty(t.Scopes), sensorsParam(t.Sensors), h, t.Created, nullTime(t.LastUsed),
			nullTime(t.Revoked), t.CreatedBy)
		return err
	})
	switch {
	case uniqueViolation(err) != "":
		return fmt.Errorf("%w: id or hash in use", auth.ErrBadTokenSpec)
	case errors.Is(err, auth.ErrBadTokenSpec):
		return err
	case err != nil:
		return fmt.Errorf("postgis: create token: %w", err)
	}
	return nil
}

// UpdateToken changes the token of id by fn, with its row locked; the id
// and hash may not change.
func (s *Tokens) UpdateToken(ctx context.Context, id string, fn func(*auth.Token) error) (auth.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var out auth.Token
	var fnErr error
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		t, err := scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM auth_token WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			fnErr = fmt.Errorf("%w: %.80s", auth.ErrNoToken, id)
			return fnErr
		}
		if err != nil {
			return err
		}
		hash := t.Hash
		if err := fn(&t); err != nil {
			fnErr = err
			return err
		}
		if t.ID != id || t.Hash != hash {
			fnErr = fmt.Errorf("%w: a token's id and hash cannot change", auth.ErrBadTokenSpec)
			return fnErr
		}
		if len(t.Sensors) > auth.MaxTokenSensors {
			fnErr = fmt.Errorf("%w: over %d sensors", auth.ErrBadTokenSpec, auth.MaxTokenSensors)
			return fnErr
		}
		_, err = tx.Exec(ctx, `UPDATE auth_token SET name = $2, scopes = $3, sensors = $4, created = $5,
			last_used = $6, revoked = $7, created_by = $8 WHERE id = $1`,
			id, t.Name, orEmpty(t.Scopes), sensorsParam(t.Sensors), t.Created, nullTime(t.LastUsed),
			nullTime(t.Revoked), t.CreatedBy)
		out = t
		return err
	})
	switch {
	case fnErr != nil:
		return auth.Token{}, fnErr
	case err != nil:
		return auth.Token{}, fmt.Errorf("postgis: update token: %w", err)
	}
	return out, nil
}

const sessionCols = `id_hash, user_id, csrf, created, last_seen, remote`

func scanSession(row pgx.Row) (auth.Session, error) {
	var s auth.Session
	var h []byte
	err := row.Scan(&h, &s.UserID, &s.CSRF, &s.Created, &s.LastSeen, &s.Remote)
	copy(s.IDHash[:], h)
	s.Created, s.LastSeen = s.Created.UTC(), s.LastSeen.UTC()
	return s, err
}

// PutSession stores sess, replacing one of the same hash. At the bound,
// the sessions least recently used end to make room.
func (s *Sessions) PutSession(ctx context.Context, sess auth.Session) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	err := inTx(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO auth_session (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id_hash) DO UPDATE SET user_id = $2, csrf = $3, created = $4, last_seen = $5, remote = $6`,
			sess.IDHash[:], sess.UserID, sess.CSRF, sess.Created, sess.LastSeen, sess.Remote)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM auth_session WHERE id_hash IN (
			SELECT id_hash FROM auth_session WHERE id_hash <> $1 ORDER BY last_seen
			LIMIT greatest((SELECT count(*) FROM auth_session) - $2, 0))`, sess.IDHash[:], s.max)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgis: put session: %w", err)
	}
	return nil
}

// Session returns the session of idHash.
func (s *Sessions) Session(ctx context.Context, idHash [32]byte) (auth.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	sess, err := scanSession(s.pool.QueryRow(ctx, `SELECT `+sessionCols+` FROM auth_session WHERE id_hash = $1`, idHash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Session{}, auth.ErrNoSession
	}
	if err != nil {
		return auth.Session{}, fmt.Errorf("postgis: session: %w", err)
	}
	return sess, nil
}

// TouchSession sets LastSeen when the stored one is a TouchInterval old or
// more; otherwise only checks that the session is there.
func (s *Sessions) TouchSession(ctx context.Context, idHash [32]byte, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var ok bool
	err := s.pool.QueryRow(ctx, `WITH touched AS (
			UPDATE auth_session SET last_seen = $2 WHERE id_hash = $1 AND last_seen <= $3 RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM auth_session WHERE id_hash = $1)`,
		idHash[:], at, at.Add(-auth.TouchInterval)).Scan(&ok)
	if err != nil {
		return fmt.Errorf("postgis: touch session: %w", err)
	}
	if !ok {
		return auth.ErrNoSession
	}
	return nil
}

// DeleteSession removes a session.
func (s *Sessions) DeleteSession(ctx context.Context, idHash [32]byte) error {
	_, err := s.exec(ctx, "delete session", `DELETE FROM auth_session WHERE id_hash = $1`, idHash[:])
	return err
}

// UserSessions returns a user's sessions.
func (s *Sessions) UserSessions(ctx context.Context, userID string) ([]auth.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM auth_session WHERE user_id = $1 LIMIT $2`, userID, s.max)
	if err != nil {
		return nil, fmt.Errorf("postgis: user sessions: %w", err)
	}
	defer rows.Close()
	var out []auth.Session
	for rows.Next() {
		sess, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("postgis: user sessions: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgis: user sessions: %w", err)
	}
	return out, nil
}

// DeleteUserSessions removes a user's sessions.
func (s *Sessions) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	return s.exec(ctx, "delete user sessions", `DELETE FROM auth_session WHERE user_id = $1`, userID)
}

// DeleteExpired removes the sessions last seen at or before idle or created
// at or before absolute.
func (s *Sessions) DeleteExpired(ctx context.Context, idle, absolute time.Time) (int, error) {
	return s.exec(ctx, "delete expired sessions", `DELETE FROM auth_session WHERE last_seen <= $1 OR created <= $2`, idle, absolute)
}

// exec runs a statement and returns how many rows it changed.
func (s *Sessions) exec(ctx context.Context, what, sql string, args ...any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("postgis: %s: %w", what, err)
	}
	return int(tag.RowsAffected()), nil
}
