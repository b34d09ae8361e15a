package auth

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestDocRolesTable checks the roles table in docs/auth.md against the
// embedded roles.json: the same roles in the same order, a row for every
// permission, and in each cell what the role holds.
func TestDocRolesTable(t *testing.T) {
	data, err := os.ReadFile("../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	in := false
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "| permission |") {
			in = true
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) < 3 {
		t.Fatal("docs/auth.md has no table headed | permission |")
	}
	roles := DefaultRoles()
	if got, want := rows[0][1:], roles.Names(); !slices.Equal(got, want) {
		t.Fatalf("doc table roles %v, roles.json %v", got, want)
	}
	list := roles.List()
	seen := map[Permission]bool{}
	for _, row := range rows[2:] {
		perm, ok := ParsePermission(row[0])
		if !ok {
			t.Errorf("doc table row %q: not a permission", row[0])
			continue
		}
		if seen[perm] {
			t.Errorf("doc table: %s twice", perm)
		}
		seen[perm] = true
		if len(row) != len(list)+1 {
			t.Errorf("doc table row %s: %d cells, want %d", perm, len(row), len(list)+1)
			continue
		}
		for i, ro := range list {
			if got, want := row[i+1], docCell(ro, perm); got != want {
				t.Errorf("doc table: %s for %s is %q, roles.json says %q", ro.Name, perm, got, want)
			}
		}
	}
	for _, perm := range Permissions() {
		if !seen[perm] {
			t.Errorf("doc table lacks %s", perm)
		}
	}
}

// docCell is what the doc's table shows for role ro and perm: "" when not
// held, "✓", or for a levelled permission the levels covered.
func docCell(ro Role, perm Permission) string {
	if !slices.Contains(ro.Permissions, perm) {
		return ""
	}
	if !perm.Levelled() {
		return "✓"
	}
	numerals := []string{"", "I", "II", "III", "IV"}
	l := ro.Levels[perm]
	if l == 0 {
		l = LevelMostSevere
	}
	if l == LevelLeastSevere {
		return "IV"
	}
	return fmt.Sprintf("%s–IV", numerals[l])
}
