package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/onemap/onemap/store/postgis/pgtest"
)

// shellWords splits a line of a shell example into words: a comment is cut,
// double quotes group words, and "< FILE" becomes the words "<" and FILE.
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	in, have := false, false
loop:
	for _, r := range line {
		switch {
		case r == '"':
			in, have = !in, true
		case r == '#' && !in:
			break loop
		case (r == ' ' || r == '\t') && !in:
			if have {
				words = append(words, w.String())
				w.Reset()
				have = false
			}
		default:
			w.WriteRune(r)
			have = true
		}
	}
	if have {
		words = append(words, w.String())
	}
	return words
}

// TestAuthDocCommands runs the commands docs/auth.md shows, in its order,
// on a fresh data directory, and again with the users and tokens in a
// database (--db), and checks what they leave there.
func TestAuthDocCommands(t *testing.T) {
	doc, err := os.ReadFile("../../docs/auth.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```sh\n")
	if !ok {
		t.Fatal("docs/auth.md has no shell example")
	}
	block, _, _ = strings.Cut(block, "```")
	t.Run("DataDir", func(t *testing.T) { runAuthDoc(t, block, t.TempDir(), "") })
	t.Run("PostGIS", func(t *testing.T) { runAuthDoc(t, block, t.TempDir(), pgtest.URL(t)) })
}

// runAuthDoc runs the onemap commands of block with --data-dir dir and,
// when db is set, --db db.
func runAuthDoc(t *testing.T, block, dir, db string) {
	flags := []string{"--data-dir=" + dir}
	if db != "" {
		flags = append(flags, "--db="+db)
	}
	t.Cleanup(func() { stdin = os.Stdin })
	tokenID := ""
	ran := 0
	for _, line := range strings.Split(block, "\n") {
		words := shellWords(line)
		if len(words) == 0 || words[0] != "onemap" {
			continue
		}
		args := words[1:]
		if i := len(args) - 2; i >= 0 && args[i] == "<" {
			pw := filepath.Join(dir, "pw.txt")
			if err := os.WriteFile(pw, []byte("a long new password\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(pw)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			stdin, args = f, args[:i]
		}
		for i, a := range args {
			if a == "tok-…" {
				args[i] = tokenID
			}
		}
		with := flags
		if args[0] == "audit" {
			with = flags[:1] // the audit log is the data directory's either way
		}
		out := onemap(t, false, append(args, with...)...)
		ran++
		if m := regexp.MustCompile(`issued (tok-\w+)`).FindStringSubmatch(out); m != nil {
			tokenID = m[1]
		}
		switch strings.Join(args[:2], " ") {
		case "users list":
			if !regexp.MustCompile(`li\.wei.*operator,analyst.*disabled`).MatchString(out) {
				t.Errorf("users list after the doc's commands:\n%s", out)
			}
		case "tokens list":
			if !strings.Contains(out, "station 7") {
				t.Errorf("tokens list:\n%s", out)
			}
		case "audit verify":
			if !strings.Contains(out, "chain intact") {
				t.Errorf("audit verify: %s", out)
			}
		}
	}
	if ran < 9 {
		t.Fatalf("ran %d of the doc's commands, want every one of its 9", ran)
	}
}
