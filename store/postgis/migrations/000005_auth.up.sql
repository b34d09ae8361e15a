-- Users, device and integration tokens, and login sessions (package auth),
-- for a server on this database and the onemap users and tokens commands
-- given the same --db. No secret is stored: a password as its argon2id
-- hash, a token and a session id as the SHA-256 of theirs.
CREATE TABLE auth_user (
    id text PRIMARY KEY,
    login text COLLATE "C" NOT NULL,
    name text NOT NULL DEFAULT '',
    roles text[] NOT NULL,
    units text[] NOT NULL DEFAULT '{}',
    districts text[] NOT NULL DEFAULT '{}',
    disabled boolean NOT NULL DEFAULT false,
    password_hash text NOT NULL,
    created timestamptz NOT NULL,
    updated timestamptz NOT NULL,
    sessions_after timestamptz
);
CREATE UNIQUE INDEX auth_user_login ON auth_user (login);

CREATE TABLE auth_token (
    id text PRIMARY KEY,
    name text NOT NULL,
    scopes text[] NOT NULL,
    sensors bigint[], -- NULL: every sensor
    hash bytea NOT NULL CHECK (length(hash) = 32),
    created timestamptz NOT NULL,
    last_used timestamptz,
    revoked timestamptz,
    created_by text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX auth_token_hash ON auth_token (hash);

CREATE TABLE auth_session (
    id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id text NOT NULL,
    csrf text NOT NULL,
    created timestamptz NOT NULL,
    last_seen timestamptz NOT NULL,
    remote text NOT NULL DEFAULT ''
);
CREATE INDEX auth_session_user ON auth_session (user_id);
CREATE INDEX auth_session_last_seen ON auth_session (last_seen);
