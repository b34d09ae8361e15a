// Package auth holds who may do what on onemap: roles and their permissions
// (a table in a file, auth/roles.json by default), users with argon2id
// password hashes, login sessions with idle and absolute timeouts and a CSRF
// token each, lockout with back-off after failed logins, device and
// integration tokens stored only as hashes, and an append-only audit log
// whose entries are chained by SHA-256.
//
// An Authorizer answers Allowed(principal, permission) from the roles table
// in a few nanoseconds without allocating, so it can run on every request; a
// principal is built once per session or token from the user's roles and
// scopes (units, districts) or the token's scopes (ingest, ingest for some
// sensors, read).
//
// The package knows nothing of HTTP: the server maps cookies, headers and
// routes onto it. Users and tokens are kept behind the UserStore and
// TokenStore interfaces, with implementations in one file each in the data
// directory (written atomically, mode 0600, locked against a second writer
// such as the onemap users command); sessions behind SessionStore, in memory
// or in a file of the data directory that outlives a restart. The package
// authtest holds the tests every store passes.
// Every clock is injected (a Now func), so timeouts and back-off are tested
// without waiting.
package auth
