package auth

import (
	"slices"
	"strings"
)

// Principal is who is asking: a user, a device or integration token, or the
// anonymous viewer. Build one with an Authorizer (ForUser, ForToken,
// Anonymous); the zero Principal may do nothing.
type Principal struct {
	// UserID is the user's id; empty for a token or the anonymous viewer.
	UserID string
	// TokenID is the token's id; empty for a user.
	TokenID string
	// Name is what the audit log writes as who: a login, "token:NAME" or
	// "anonymous".
	Name string
	// Roles are the user's roles; a token has none.
	Roles []string
	// Units and Districts, when not empty, limit the principal to the objects
	// of those units (owning units of assets) and districts.
	Units     []string
	Districts []string
	// Sensors, when not nil, are the only sensors (sorted) whose readings the
	// principal may send.
	Sensors []uint64
	// Remote is the address the principal asks from, for the audit log;
	// empty for a command run on the server.
	Remote string

	g     grants
	from  *Roles // the table g was resolved against; nil with fixed
	fixed bool   // g is the principal's own (a token's scopes), not from roles
}

// Target is the object a permission is asked for. Zero fields are not checked.
type Target struct {
	// Level is the warning level, 1 (I) – 4 (IV), for a levelled permission.
	Level int
	// Unit and District are the object's owning unit and district; a
	// principal limited to units or districts is refused an object of none.
	Unit, District string
	// Sensor is the sensor of a reading, for ingest.write.
	Sensor uint64
}

// Authorizer answers whether a principal holds a permission, from a roles
// table. It is safe for concurrent use.
type Authorizer struct {
	roles *Roles
}

// NewAuthorizer returns an Authorizer over roles (DefaultRoles if nil).
func NewAuthorizer(roles *Roles) *Authorizer {
	if roles == nil {
		roles = DefaultRoles()
	}
	return &Authorizer{roles: roles}
}

// Roles returns the table the Authorizer reads.
func (a *Authorizer) Roles() *Roles { return a.roles }

// ForRoles returns the principal holding the roles named (unknown names
// grant nothing), limited to the scopes given.
func (a *Authorizer) ForRoles(name string, roles []string, scopes Scopes) Principal {
	p := Principal{Name: name, Roles: slices.Clone(roles), Units: slices.Clone(scopes.Units), Districts: slices.Clone(scopes.Districts)}
	p.g = a.resolve(roles)
	p.from = a.roles
	return p
}

// ForUser returns the principal of u; a disabled user may do nothing.
func (a *Authorizer) ForUser(u *User) Principal {
	if u.Disabled {
		return Principal{UserID: u.ID, Name: u.Login}
	}
	p := a.ForRoles(u.Login, u.Roles, u.Scopes)
	p.UserID = u.ID
	return p
}

// Anonymous returns the principal of a caller without credentials, holding
// the roles given (none: it may do nothing).
func (a *Authorizer) Anonymous(roles ...string) Principal {
	return a.ForRoles("anonymous", roles, Scopes{})
}

func (a *Authorizer) resolve(roles []string) grants {
	var g grants
	for _, name := range roles {
		if i, ok := a.roles.byName[name]; ok {
			g.add(&a.roles.grants[i])
		}
	}
	return g
}

// grantsOf returns p's grants under a's table without allocating: the ones
// resolved when p was made if they came from the same table, else resolved
// again from p's role names.
func (a *Authorizer) grantsOf(p *Principal) grants {
	if p.fixed || p.from == a.roles {
		return p.g
	}
	return a.resolve(p.Roles)
}

// Allowed reports whether p holds perm at all (at some level, on some
// object). A principal limited by scopes may still be refused a given object:
// ask AllowedOn with it, or filter lists by p.Units and p.Districts.
func (a *Authorizer) Allowed(p *Principal, perm Permission) bool {
	if p == nil || perm >= numPerms {
		return false
	}
	if p.fixed || p.from == a.roles {
		return p.g.perms.has(perm)
	}
	return a.grantsOf(p).perms.has(perm)
}

// AllowedOn reports whether p holds perm on the object t: at t's level for a
// levelled permission, within p's units and districts, and for ingest.write
// for t's sensor when p is limited to some sensors.
func (a *Authorizer) AllowedOn(p *Principal, perm Permission, t Target) bool {
	if p == nil || perm >= numPerms {
		return false
	}
	var g grants
	if p.fixed || p.from == a.roles {
		g.perms, g.level[perm] = p.g.perms, p.g.level[perm]
	} else {
		g = a.grantsOf(p)
	}
	if !g.perms.has(perm) {
		return false
	}
	if t.Level != 0 {
		if t.Level < LevelMostSevere || t.Level > LevelLeastSevere {
			return false
		}
		if levelled[perm] && t.Level < int(g.level[perm]) {
			return false
		}
	}
	if len(p.Units) > 0 && (t.Unit == "" || !contains(p.Units, t.Unit)) {
		return false
	}
	if len(p.Districts) > 0 && (t.District == "" || !contains(p.Districts, t.District)) {
		return false
	}
	if perm == PermIngestWrite && p.Sensors != nil && !p.SensorAllowed(t.Sensor) {
		return false
	}
	return true
}

// SensorAllowed reports whether p may send readings of sensor id: always,
// unless p is limited to some sensors.
func (p *Principal) SensorAllowed(id uint64) bool {
	if p.Sensors == nil {
		return true
	}
	_, ok := slices.BinarySearch(p.Sensors, id)
	return ok
}

// LevelBound returns the most severe warning level p may act on with perm
// (1 for every level), or 0 when p does not hold perm.
func (a *Authorizer) LevelBound(p *Principal, perm Permission) int {
	if !a.Allowed(p, perm) {
		return 0
	}
	return int(a.grantsOf(p).level[perm])
}

// Permissions returns every permission p holds, in order, for a client that
// shows or hides its controls.
func (a *Authorizer) Permissions(p *Principal) []string {
	var out []string
	for perm := range numPerms {
		if a.Allowed(p, perm) {
			out = append(out, perm.String())
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Scopes limit a user to the objects of some owning units and districts.
// Empty lists do not limit.
type Scopes struct {
	Units     []string `json:"units,omitempty"`
	Districts []string `json:"districts,omitempty"`
}

// validScope reports whether s may name a unit or a district.
func validScope(s string) bool {
	return s != "" && len(s) <= 64 && !strings.ContainsFunc(s, isControl) && strings.TrimSpace(s) == s
}
