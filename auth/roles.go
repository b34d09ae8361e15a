package auth

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Role is a named set of permissions.
type Role struct {
	Name        string
	Description string
	// Permissions are the role's permissions, in file order.
	Permissions []Permission
	// Levels bounds levelled permissions: Levels[p] = L lets the role act on
	// warnings of level L to IV only (1 is every level). A levelled permission
	// without an entry covers every level.
	Levels map[Permission]int
}

// Roles is a validated table of roles. It is immutable once parsed.
type Roles struct {
	list   []Role
	byName map[string]int
	grants []grants // by index into list
}

// Limits of a roles file.
const (
	MaxRolesFile = 256 << 10 // bytes
	MaxRoles     = 64
	maxDescLen   = 200 // runes
)

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

//go:embed roles.json
var defaultRolesJSON []byte

var defaultRoles = func() *Roles {
	r, err := ParseRoles(defaultRolesJSON)
	if err != nil {
		panic("auth: embedded roles: " + err.Error())
	}
	return r
}()

// DefaultRoles returns the roles onemap ships (auth/roles.json).
func DefaultRoles() *Roles { return defaultRoles }

// DefaultRolesJSON returns the text of the embedded roles file.
func DefaultRolesJSON() []byte { return bytes.Clone(defaultRolesJSON) }

// List returns the roles in file order.
func (r *Roles) List() []Role {
	out := make([]Role, len(r.list))
	for i, ro := range r.list {
		ro.Permissions = slices.Clone(ro.Permissions)
		lv := make(map[Permission]int, len(ro.Levels))
		for k, v := range ro.Levels {
			lv[k] = v
		}
		ro.Levels = lv
		out[i] = ro
	}
	return out
}

// Has reports whether the table has a role named name.
func (r *Roles) Has(name string) bool { _, ok := r.byName[name]; return ok }

// Names returns the roles' names in file order.
func (r *Roles) Names() []string {
	out := make([]string, len(r.list))
	for i, ro := range r.list {
		out[i] = ro.Name
	}
	return out
}

// MarshalJSON writes the table in the roles file format.
func (r *Roles) MarshalJSON() ([]byte, error) {
	type roleJSON struct {
		Name        string         `json:"name"`
		Description string         `json:"description,omitempty"`
		Permissions []string       `json:"permissions"`
		Levels      map[string]int `json:"levels,omitempty"`
	}
	f := struct {
		Roles []roleJSON `json:"roles"`
	}{Roles: make([]roleJSON, 0, len(r.list))}
	for _, ro := range r.list {
		rj := roleJSON{Name: ro.Name, Description: ro.Description}
		for _, p := range ro.Permissions {
			rj.Permissions = append(rj.Permissions, p.String())
		}
		if len(ro.Levels) > 0 {
			rj.Levels = make(map[string]int, len(ro.Levels))
			for p, l := range ro.Levels {
				rj.Levels[p.String()] = l
			}
		}
		f.Roles = append(f.Roles, rj)
	}
	return json.Marshal(f)
}

// RolesError is why a roles file was refused: the 1-based line and the reason.
type RolesError struct {
	Line   int
	Reason string
}

func (e *RolesError) Error() string { return fmt.Sprintf("auth: roles line %d: %s", e.Line, e.Reason) }

// ErrRoles is matched by errors.Is for every error of ParseRoles.
var ErrRoles = errors.New("auth: invalid roles")

// Is makes every RolesError match ErrRoles.
func (e *RolesError) Is(target error) bool { return target == ErrRoles }

// ParseRoles parses and validates a roles file (its format is in
// docs/auth.md). Any fault refuses the whole file: a syntax error, an unknown
// field or permission, a duplicate role or permission, a role with no
// permissions, a level on a permission that takes none or outside I–IV. The
// error is a *RolesError naming the line and the reason.
func ParseRoles(data []byte) (*Roles, error) {
	p := &rolesParser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	if len(data) > MaxRolesFile {
		return nil, &RolesError{Line: 1, Reason: fmt.Sprintf("roles file of %d bytes, over the %d limit", len(data), MaxRolesFile)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &RolesError{Line: 1, Reason: "empty roles file"}
	}
	r, err := p.file()
	if err != nil {
		return nil, err
	}
	return r, nil
}

type rolesParser struct {
	data []byte
	dec  *json.Decoder
}

func (p *rolesParser) lineAt(off int64) int {
	off = min(max(off, 0), int64(len(p.data)))
	return 1 + bytes.Count(p.data[:off], []byte{'\n'})
}

// fail is an error at the end of the last token read.
func (p *rolesParser) fail(format string, args ...any) error {
	return &RolesError{Line: p.lineAt(p.dec.InputOffset()), Reason: fmt.Sprintf(format, args...)}
}

func (p *rolesParser) token() (json.Token, error) {
	t, err := p.dec.Token()
	if err == nil {
		return t, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return nil, &RolesError{Line: p.lineAt(se.Offset), Reason: strings.TrimPrefix(se.Error(), "json: ")}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, &RolesError{Line: p.lineAt(int64(len(p.data))), Reason: "unexpected end of input"}
	}
	return nil, p.fail("%s", err.Error())
}

func (p *rolesParser) delim(want json.Delim, what string) error {
	t, err := p.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != want {
		return p.fail("%s: %s where %s is expected", what, describeToken(t), kindOf(want))
	}
	return nil
}

func kindOf(d json.Delim) string {
	if d == '{' {
		return "an object"
	}
	return "an array"
}

func describeToken(t json.Token) string {
	switch v := t.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return "a " + string(v)
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a value"
}

func (p *rolesParser) str(what string) (string, error) {
	t, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := t.(string)
	if !ok {
		return "", p.fail("%s: %s where a string is expected", what, describeToken(t))
	}
	return s, nil
}

// key reads an object's next key, refusing one seen before in it.
func (p *rolesParser) key(seen map[string]bool) (string, error) {
	k, err := p.str("key")
	if err != nil {
		return "", err
	}
	if seen[k] {
		return "", p.fail("field %q given twice", k)
	}
	seen[k] = true
	return k, nil
}

func (p *rolesParser) file() (*Roles, error) {
	if err := p.delim('{', "roles file"); err != nil {
		return nil, err
	}
	r := &Roles{byName: map[string]int{}}
	seen := map[string]bool{}
	for p.dec.More() {
		k, err := p.key(seen)
		if err != nil {
			return nil, err
		}
		switch k {
		case "roles":
			if err := p.roles(r); err != nil {
				return nil, err
			}
		default:
			return nil, p.fail("unknown field %q (the file has only \"roles\")", k)
		}
	}
	if err := p.delim('}', "roles file"); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, p.fail("text after the roles object")
	}
	if !seen["roles"] {
		return nil, &RolesError{Line: 1, Reason: "no \"roles\" array"}
	}
	if len(r.list) == 0 {
		return nil, &RolesError{Line: 1, Reason: "no roles"}
	}
	return r, nil
}

func (p *rolesParser) roles(r *Roles) error {
	if err := p.delim('[', "roles"); err != nil {
		return err
	}
	lines := map[string]int{}
	for p.dec.More() {
		if len(r.list) == MaxRoles {
			return p.fail("more than %d roles", MaxRoles)
		}
		ro, line, err := p.role()
		if err != nil {
			return err
		}
		if first, dup := lines[ro.Name]; dup {
			return &RolesError{Line: line, Reason: fmt.Sprintf("duplicate role %q (first at line %d)", ro.Name, first)}
		}
		lines[ro.Name] = line
		g := grants{}
		for _, perm := range ro.Permissions {
			g.perms |= 1 << perm
			g.level[perm] = LevelMostSevere
			if l, ok := ro.Levels[perm]; ok {
				g.level[perm] = uint8(l)
			}
		}
		r.byName[ro.Name] = len(r.list)
		r.list = append(r.list, ro)
		r.grants = append(r.grants, g)
	}
	return p.delim(']', "roles")
}

// role reads one role object and returns it with the line it starts on.
func (p *rolesParser) role() (Role, int, error) {
	var ro Role
	if err := p.delim('{', "role"); err != nil {
		return ro, 0, err
	}
	line := p.lineAt(p.dec.InputOffset())
	seen := map[string]bool{}
	levelLines := map[Permission]int{}
	for p.dec.More() {
		k, err := p.key(seen)
		if err != nil {
			return ro, 0, err
		}
		switch k {
		case "name":
			if ro.Name, err = p.str("name"); err != nil {
				return ro, 0, err
			}
			if !roleName.MatchString(ro.Name) {
				return ro, 0, p.fail("role name %q is not 1–32 of a–z, 0–9 and _, starting with a letter", ro.Name)
			}
		case "description":
			if ro.Description, err = p.str("description"); err != nil {
				return ro, 0, err
			}
			if n := len([]rune(ro.Description)); n > maxDescLen {
				return ro, 0, p.fail("description of %d characters, over %d", n, maxDescLen)
			}
			if strings.ContainsFunc(ro.Description, isControl) {
				return ro, 0, p.fail("description holds a control character")
			}
		case "permissions":
			if err := p.delim('[', "permissions"); err != nil {
				return ro, 0, err
			}
			ro.Permissions = []Permission{}
			for p.dec.More() {
				s, err := p.str("permission")
				if err != nil {
					return ro, 0, err
				}
				perm, ok := ParsePermission(s)
				if !ok {
					return ro, 0, p.fail("unknown permission %q", s)
				}
				if slices.Contains(ro.Permissions, perm) {
					return ro, 0, p.fail("permission %q given twice", s)
				}
				ro.Permissions = append(ro.Permissions, perm)
			}
			if err := p.delim(']', "permissions"); err != nil {
				return ro, 0, err
			}
		case "levels":
			if err := p.delim('{', "levels"); err != nil {
				return ro, 0, err
			}
			ro.Levels = map[Permission]int{}
			lseen := map[string]bool{}
			for p.dec.More() {
				s, err := p.key(lseen)
				if err != nil {
					return ro, 0, err
				}
				perm, ok := ParsePermission(s)
				if !ok {
					return ro, 0, p.fail("levels: unknown permission %q", s)
				}
				if !perm.Levelled() {
					return ro, 0, p.fail("levels: %s takes no level", s)
				}
				t, err := p.token()
				if err != nil {
					return ro, 0, err
				}
				n, ok := t.(json.Number)
				if !ok {
					return ro, 0, p.fail("levels: %s: %s where a level 1–4 is expected", s, describeToken(t))
				}
				f, err := n.Float64()
				if err != nil || math.IsNaN(f) || f != math.Trunc(f) || f < LevelMostSevere || f > LevelLeastSevere {
					return ro, 0, p.fail("levels: %s: level %s is not a whole number 1 (I) – 4 (IV)", s, n)
				}
				ro.Levels[perm] = int(f)
				levelLines[perm] = p.lineAt(p.dec.InputOffset())
			}
			if err := p.delim('}', "levels"); err != nil {
				return ro, 0, err
			}
		default:
			return ro, 0, p.fail("unknown field %q of a role", k)
		}
	}
	if err := p.delim('}', "role"); err != nil {
		return ro, 0, err
	}
	if ro.Name == "" {
		return ro, 0, &RolesError{Line: line, Reason: "a role without a name"}
	}
	if len(ro.Permissions) == 0 {
		return ro, 0, &RolesError{Line: line, Reason: fmt.Sprintf("role %q grants no permission", ro.Name)}
	}
	for _, perm := range sortedKeys(ro.Levels) {
		if !slices.Contains(ro.Permissions, perm) {
			return ro, 0, &RolesError{Line: levelLines[perm], Reason: fmt.Sprintf("role %q bounds %s, which it is not granted", ro.Name, perm)}
		}
	}
	return ro, line, nil
}

func sortedKeys(m map[Permission]int) []Permission {
	out := make([]Permission, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
