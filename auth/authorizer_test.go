package auth

import (
	"testing"
)

const districtRoles = `{"roles": [
  {"name": "commander", "permissions": ["alarms.read", "warnings.sign"]},
  {"name": "district_commander", "permissions": ["alarms.read", "warnings.sign"], "levels": {"warnings.sign": 2}},
  {"name": "county_commander", "permissions": ["warnings.sign"], "levels": {"warnings.sign": 3}},
  {"name": "operator", "permissions": ["alarms.read", "alarms.ack"]}
]}`

func mustRoles(t testing.TB, s string) *Roles {
	t.Helper()
	r, err := ParseRoles([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllowedSignByLevel(t *testing.T) {
	az := NewAuthorizer(mustRoles(t, districtRoles))
	cases := []struct {
		roles []string
		level int
		want  bool
	}{
		{[]string{"commander"}, 1, true},
		{[]string{"commander"}, 4, true},
		{[]string{"district_commander"}, 1, false}, // level I (red) is above a district
		{[]string{"district_commander"}, 2, true},
		{[]string{"district_commander"}, 4, true},
		{[]string{"county_commander"}, 2, false},
		{[]string{"county_commander"}, 3, true},
		// Two roles: the wider bound holds.
		{[]string{"county_commander", "district_commander"}, 2, true},
		{[]string{"county_commander", "district_commander"}, 1, false},
		{[]string{"operator"}, 4, false},
		// Levels outside I–IV are refused to everyone.
		{[]string{"commander"}, 0 - 1, false},
		{[]string{"commander"}, 5, false},
	}
	for _, c := range cases {
		p := az.ForRoles("x", c.roles, Scopes{})
		if got := az.AllowedOn(&p, PermWarningsSign, Target{Level: c.level}); got != c.want {
			t.Errorf("%v sign level %d: %v, want %v", c.roles, c.level, got, c.want)
		}
	}
	p := az.ForRoles("x", []string{"district_commander"}, Scopes{})
	if !az.Allowed(&p, PermWarningsSign) {
		t.Error("a district commander may sign some warnings")
	}
	if got := az.LevelBound(&p, PermWarningsSign); got != 2 {
		t.Errorf("bound %d, want 2", got)
	}
}

func TestAllowedScopes(t *testing.T) {
	az := NewAuthorizer(nil)
	unit := az.ForRoles("u", []string{"unit"}, Scopes{Units: []string{"gas-co"}})
	district := az.ForRoles("d", []string{"operator"}, Scopes{Districts: []string{"north"}})
	both := az.ForRoles("b", []string{"operator"}, Scopes{Units: []string{"gas-co"}, Districts: []string{"north"}})
	free := az.ForRoles("f", []string{"operator"}, Scopes{})
	cases := []struct {
		name string
		p    *Principal
		t    Target
		want bool
	}{
		{"UnitOwnAsset", &unit, Target{Unit: "gas-co", District: "south"}, true},
		{"UnitOtherAsset", &unit, Target{Unit: "water-co", District: "south"}, false},
		{"UnitNoOwner", &unit, Target{District: "south"}, false},
		{"DistrictOwn", &district, Target{Unit: "water-co", District: "north"}, true},
		{"DistrictOther", &district, Target{Unit: "water-co", District: "south"}, false},
		{"BothNeedBoth", &both, Target{Unit: "gas-co", District: "south"}, false},
		{"BothMatch", &both, Target{Unit: "gas-co", District: "north"}, true},
		{"Unscoped", &free, Target{Unit: "water-co", District: "south"}, true},
		{"UnscopedNoOwner", &free, Target{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := az.AllowedOn(c.p, PermAlarmsRead, c.t); got != c.want {
				t.Errorf("%v", got)
			}
		})
	}
	if az.AllowedOn(&unit, PermAlarmsAck, Target{Unit: "gas-co"}) {
		t.Error("a unit member acknowledged an alarm")
	}
}

func TestAllowedNobody(t *testing.T) {
	az := NewAuthorizer(nil)
	var zero Principal
	for _, perm := range Permissions() {
		if az.Allowed(nil, perm) || az.Allowed(&zero, perm) || az.AllowedOn(&zero, perm, Target{}) {
			t.Errorf("nobody holds %s", perm)
		}
	}
	anon := az.Anonymous()
	if az.Allowed(&anon, PermMapView) {
		t.Error("anonymous without roles views the map")
	}
	anon = az.Anonymous("viewer")
	if !az.Allowed(&anon, PermMapView) || az.Allowed(&anon, PermAlarmsAck) {
		t.Error("anonymous viewer")
	}
	ghost := az.ForRoles("g", []string{"no_such_role"}, Scopes{})
	if len(az.Permissions(&ghost)) != 0 {
		t.Error("an unknown role grants something")
	}
	if az.Allowed(&anon, numPerms) || az.AllowedOn(&anon, 200, Target{}) {
		t.Error("a permission out of range is allowed")
	}
}

func TestAllowedDisabledUser(t *testing.T) {
	az := NewAuthorizer(nil)
	u := User{ID: "u1", Login: "ann", Roles: []string{"admin"}, Disabled: true}
	p := az.ForUser(&u)
	if n := len(az.Permissions(&p)); n != 0 {
		t.Errorf("a disabled user holds %d permissions", n)
	}
}

// A principal made under one roles table is judged by the table of the
// Authorizer asked, so a reloaded roles file takes effect at once.
func TestAllowedOtherTable(t *testing.T) {
	old := NewAuthorizer(nil)
	p := old.ForRoles("x", []string{"operator"}, Scopes{})
	reloaded := NewAuthorizer(mustRoles(t, `{"roles": [{"name": "operator", "permissions": ["alarms.read"]}]}`))
	if !old.Allowed(&p, PermAlarmsAck) {
		t.Fatal("the default operator acknowledges")
	}
	if reloaded.Allowed(&p, PermAlarmsAck) || reloaded.AllowedOn(&p, PermAlarmsAck, Target{}) {
		t.Error("the reloaded table's operator acknowledges")
	}
	if !reloaded.AllowedOn(&p, PermAlarmsRead, Target{}) {
		t.Error("the reloaded table's operator reads alarms")
	}
}

func BenchmarkAllowed(b *testing.B) {
	az := NewAuthorizer(nil)
	p := az.ForRoles("ann", []string{"viewer", "operator"}, Scopes{})
	b.ReportAllocs()
	for b.Loop() {
		if !az.Allowed(&p, PermAlarmsAck) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkAllowedOn(b *testing.B) {
	az := NewAuthorizer(mustRoles(b, districtRoles))
	p := az.ForRoles("ann", []string{"district_commander"}, Scopes{Units: []string{"gas-co", "water-co"}, Districts: []string{"north"}})
	t := Target{Level: 3, Unit: "water-co", District: "north"}
	b.ReportAllocs()
	for b.Loop() {
		if !az.AllowedOn(&p, PermWarningsSign, t) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkAllowedReloaded is the slow path: a principal made before the
// roles file was reloaded, resolved again by role name on each call.
func BenchmarkAllowedReloaded(b *testing.B) {
	p := NewAuthorizer(nil).ForRoles("ann", []string{"viewer", "operator"}, Scopes{})
	az := NewAuthorizer(mustRoles(b, string(DefaultRolesJSON())))
	b.ReportAllocs()
	for b.Loop() {
		if !az.Allowed(&p, PermAlarmsAck) {
			b.Fatal("refused")
		}
	}
}
