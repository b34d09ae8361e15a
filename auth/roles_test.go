package auth

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultRoles(t *testing.T) {
	r := DefaultRoles()
	want := []string{"viewer", "operator", "analyst", "commander", "responder", "unit", "admin"}
	if got := r.Names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("roles %v, want %v", got, want)
	}
	az := NewAuthorizer(nil)
	cases := []struct {
		role string
		perm Permission
		want bool
	}{
		{"viewer", PermMapView, true},
		{"viewer", PermAlarmsRead, true},
		{"viewer", PermAlarmsAck, false},
		{"viewer", PermContactsRead, false},
		{"operator", PermAlarmsAck, true},
		{"operator", PermAlarmsVerify, true},
		{"operator", PermRulesWrite, false},
		{"analyst", PermWarningsDraft, true},
		{"analyst", PermWarningsSign, false},
		{"commander", PermWarningsSign, true},
		{"commander", PermAlarmsAck, false},
		{"responder", PermTasksFeedback, true},
		{"unit", PermUnitsReply, true},
		{"unit", PermAlarmsAck, false},
		{"admin", PermRulesWrite, true},
		{"admin", PermUsersAdmin, true},
		{"admin", PermTokensAdmin, true},
		{"admin", PermLayersWrite, true},
		{"admin", PermAuditRead, true},
		{"admin", PermWarningsSign, false},
	}
	for _, c := range cases {
		p := az.ForRoles("x", []string{c.role}, Scopes{})
		if got := az.Allowed(&p, c.perm); got != c.want {
			t.Errorf("%s %s: %v, want %v", c.role, c.perm, got, c.want)
		}
	}
}

func TestPermissionNames(t *testing.T) {
	for _, p := range Permissions() {
		q, ok := ParsePermission(p.String())
		if !ok || q != p {
			t.Errorf("%d: %q parses to %d %v", p, p.String(), q, ok)
		}
	}
	if _, ok := ParsePermission("alarms.delete"); ok {
		t.Error("an unknown permission parsed")
	}
}

func TestParseRolesErrors(t *testing.T) {
	cases := []struct {
		name, file string
		line       int
		reason     string
	}{
		{"Empty", "  \n", 1, "empty roles file"},
		{"NotObject", "[]", 1, "roles file: an array where an object is expected"},
		{"Syntax", "{\n\"roles\": [\n{\"name\": \"a\",,}\n]}", 3, "invalid character"},
		{"Truncated", "{\"roles\": [\n{\"name\": \"a\"", 2, "unexpected end of input"},
		{"NoRoles", `{}`, 1, `no "roles" array`},
		{"ZeroRoles", `{"roles": []}`, 1, "no roles"},
		{"UnknownTop", "{\n\"rolez\": []}", 2, `unknown field "rolez"`},
		{"UnknownField", "{\"roles\": [\n{\"name\": \"a\",\n \"perms\": []}]}", 3, `unknown field "perms" of a role`},
		{"UnknownPermission", "{\"roles\": [\n{\"name\": \"a\",\n \"permissions\": [\"map.view\",\n \"alarms.delete\"]}]}", 4, `unknown permission "alarms.delete"`},
		{"DuplicatePermission", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"map.view\", \"map.view\"]}]}", 1, `permission "map.view" given twice`},
		{"DuplicateRole", "{\"roles\": [\n{\"name\": \"a\", \"permissions\": [\"map.view\"]},\n{\"name\": \"a\", \"permissions\": [\"map.view\"]}]}", 3, `duplicate role "a" (first at line 2)`},
		{"EmptyRole", "{\"roles\": [\n{\"name\": \"a\", \"permissions\": [\"map.view\"]},\n{\"name\": \"b\", \"permissions\": []}]}", 3, `role "b" grants no permission`},
		{"NoPermissions", "{\"roles\": [\n{\"name\": \"b\"}]}", 2, `role "b" grants no permission`},
		{"NoName", "{\"roles\": [\n{\"permissions\": [\"map.view\"]}]}", 2, "a role without a name"},
		{"BadName", "{\"roles\": [\n{\"name\": \"Admin!\", \"permissions\": [\"map.view\"]}]}", 2, `role name "Admin!"`},
		{"NameNotString", "{\"roles\": [\n{\"name\": 7, \"permissions\": [\"map.view\"]}]}", 2, "name: a number where a string is expected"},
		{"DuplicateField", "{\"roles\": [\n{\"name\": \"a\",\n\"name\": \"b\", \"permissions\": [\"map.view\"]}]}", 3, `field "name" given twice`},
		{"LevelOnPlain", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"map.view\"],\n\"levels\": {\"map.view\": 2}}]}", 2, "levels: map.view takes no level"},
		{"LevelOutOfRange", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"warnings.sign\"],\n\"levels\": {\"warnings.sign\": 5}}]}", 2, "level 5 is not a whole number"},
		{"LevelFraction", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"warnings.sign\"], \"levels\": {\"warnings.sign\": 1.5}}]}", 1, "level 1.5"},
		{"LevelHuge", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"warnings.sign\"], \"levels\": {\"warnings.sign\": 1e400}}]}", 1, "level 1e400"},
		{"LevelNotGranted", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"map.view\"],\n\"levels\": {\n\"warnings.sign\": 2}}]}", 3, `role "a" bounds warnings.sign, which it is not granted`},
		{"TrailingText", "{\"roles\": [{\"name\": \"a\", \"permissions\": [\"map.view\"]}]}\n{}", 2, "text after the roles object"},
		{"ControlInDescription", "{\"roles\": [{\"name\": \"a\", \"description\": \"x\\u0007\", \"permissions\": [\"map.view\"]}]}", 1, "control character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := ParseRoles([]byte(c.file))
			var re *RolesError
			if !errors.As(err, &re) {
				t.Fatalf("got %v, %v; want a RolesError", r, err)
			}
			if !errors.Is(err, ErrRoles) {
				t.Error("error does not match ErrRoles")
			}
			if re.Line != c.line || !strings.Contains(re.Reason, c.reason) {
				t.Errorf("line %d %q, want line %d containing %q", re.Line, re.Reason, c.line, c.reason)
			}
		})
	}
}

func TestParseRolesTooManyAndTooLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"roles": [`)
	for i := range MaxRoles + 1 {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString(`{"name": "r` + strings.Repeat("x", i%20) + string(rune('a'+i%26)) + `", "permissions": ["map.view"]}`)
	}
	b.WriteString(`]}`)
	if _, err := ParseRoles([]byte(b.String())); err == nil || !errors.Is(err, ErrRoles) {
		t.Errorf("%d roles: %v", MaxRoles+1, err)
	}
	big := append([]byte(`{"roles": [`), bytes.Repeat([]byte(" "), MaxRolesFile)...)
	if _, err := ParseRoles(big); err == nil || !strings.Contains(err.Error(), "over the") {
		t.Errorf("a file over the limit: %v", err)
	}
}

func TestRolesRoundTrip(t *testing.T) {
	b, err := DefaultRoles().MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRoles(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.List(), DefaultRoles().List()) {
		t.Errorf("round trip changed the roles:\n%v\n%v", r.List(), DefaultRoles().List())
	}
}

func FuzzParseRoles(f *testing.F) {
	f.Add(DefaultRolesJSON())
	f.Add([]byte(`{"roles": [{"name": "a", "permissions": ["warnings.sign"], "levels": {"warnings.sign": 2}}]}`))
	f.Add([]byte(`{"roles": [{"name": "a", "permissions": []}]}`))
	f.Add([]byte(`{"roles": [{"name": "a"},{"name":"a"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRoles(data)
		if err != nil {
			var re *RolesError
			if !errors.As(err, &re) || re.Line < 1 || re.Line > 1+bytes.Count(data, []byte{'\n'}) {
				t.Fatalf("error %v (%T) names no line of the file", err, err)
			}
			return
		}
		b, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ParseRoles(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		if !reflect.DeepEqual(r.List(), r2.List()) {
			t.Fatalf("round trip changed the roles")
		}
	})
}
