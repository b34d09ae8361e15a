package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/store/postgis"
)

const usersUsage = `Usage:
  onemap users add --login L --roles R[,R…] [--name N] [--units U,…] [--districts D,…] [--password-stdin]
  onemap users passwd --login L [--password-stdin]
  onemap users roles --login L --roles R[,R…]
  onemap users list
  onemap users disable --login L [--enable]

Every command also takes --data-dir DIR (ONEMAP_DATA_DIR) and works on
DIR/users.json, which a running server shares, or with --db URL
(DATABASE_URL) on the users of that database, as onemap serve --db does;
the audit log is DIR/audit.log either way. Without --password-stdin a
random password is made and printed once. The roles are: %s.
`

const tokensUsage = `Usage:
  onemap tokens add --name N --scopes ingest|read|metrics[,…] [--sensors ID,…]
  onemap tokens list
  onemap tokens revoke --id ID

Every command also takes --data-dir DIR (ONEMAP_DATA_DIR) and works on
DIR/tokens.json, or with --db URL (DATABASE_URL) on the tokens of that
database; the audit log is DIR/audit.log either way. The token's secret is
printed once by add and kept nowhere.
`

const auditUsage = `Usage:
  onemap audit verify [--data-dir DIR]   check the audit log's hash chain; exit 1 if it is broken
`

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

// cliPrincipal is who the audit log names for a change made by a command:
// "cli:" and the operating-system user.
func cliPrincipal() *auth.Principal {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name += ":" + u.Username
	}
	return &auth.Principal{Name: name}
}

// subcommand splits off the subcommand of args, printing usage when there
// is none or it is not one of subs.
func subcommand(cmd, usage string, args []string, stderr io.Writer, subs ...string) (string, []string, bool, error) {
	if len(args) == 0 || !slices.Contains(subs, args[0]) {
		fmt.Fprint(stderr, usage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return "", nil, true, nil
		}
		return "", nil, false, fmt.Errorf("%s: say %s", cmd, strings.Join(subs, ", "))
	}
	return args[0], args[1:], false, nil
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// openAuditLog opens the audit log of a data directory.
func openAuditLog(ctx context.Context, dataDir string) (*auth.AuditLog, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	return auth.OpenAudit(ctx, filepath.Join(dataDir, auth.AuditFile), auth.AuditOptions{})
}

// accountStores are the users, tokens and sessions a command works on: of
// the database at db, or of the data directory when db is empty. Sessions
// are nil for a data directory, where the server keeps them itself.
type accountStores struct {
	users    auth.UserStore
	tokens   auth.TokenStore
	sessions auth.SessionStore
	close    func()
}

// openAccountStores opens the stores of db, or of dataDir when db is
// empty: there the users file, or the tokens file when tokens is set.
func openAccountStores(ctx context.Context, db, dataDir string, tokens bool) (*accountStores, error) {
	if db != "" {
		a, err := postgis.OpenAuth(ctx, db)
		if err != nil {
			return nil, err
		}
		return &accountStores{users: a.Users, tokens: a.Tokens, sessions: a.Sessions, close: a.Close}, nil
	}
	s := &accountStores{close: func() {}}
	var err error
	if tokens {
		s.tokens, err = auth.OpenTokens(ctx, dataDir)
	} else {
		s.users, err = auth.OpenUsers(ctx, dataDir)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// runUsers adds, changes and lists the users of a data directory or a
// database.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := fmt.Sprintf(usersUsage, strings.Join(auth.DefaultRoles().Names(), ", "))
	sub, args, help, err := subcommand("users", usage, args, stderr, "add", "passwd", "roles", "list", "disable")
	if help || err != nil {
		return err
	}
	dataDir := defaultConfig().DataDir
	var login, name, roles, units, districts string
	var passwordStdin, enable bool
	fs := flag.NewFlagSet("onemap users "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (ONEMAP_DATA_DIR)")
	db := dbFlag(fs)
	if sub != "list" {
		fs.StringVar(&login, "login", "", "the user's login")
	}
	switch sub {
	case "add":
		fs.StringVar(&name, "name", "", "the name shown")
		fs.StringVar(&units, "units", "", "limit the user to these owning units (comma-separated)")
		fs.StringVar(&districts, "districts", "", "limit the user to these districts (comma-separated)")
		fallthrough
	case "roles":
		fs.StringVar(&roles, "roles", "", "the user's roles (comma-separated)")
	}
	if sub == "add" || sub == "passwd" {
		fs.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	}
	if sub == "disable" {
		fs.BoolVar(&enable, "enable", false, "enable the user again")
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	if sub != "list" && login == "" {
		return fmt.Errorf("users %s: --login is required", sub)
	}
	if (sub == "add" || sub == "roles") && roles == "" {
		return fmt.Errorf("users %s: --roles is required (%s)", sub, strings.Join(auth.DefaultRoles().Names(), ", "))
	}

	stores, err := openAccountStores(ctx, *db, dataDir, false)
	if err != nil {
		return err
	}
	defer stores.close()
	store := stores.users
	audit, err := openAuditLog(ctx, dataDir)
	if err != nil {
		return err
	}
	defer audit.Close()
	opt := auth.AccountsOptions{Users: store, Audit: audit}
	if stores.sessions != nil {
		// In a database the sessions are there too: a change that ends
		// them ends them now, not at the user's next request.
		opt.Sessions = auth.NewSessions(stores.sessions, auth.SessionOptions{})
	}
	acc := auth.NewAccounts(opt)
	by := cliPrincipal()

	if sub == "list" {
		list, err := store.Users(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tNAME\tROLES\tSCOPES\tSTATUS\tUPDATED")
		for _, u := range list {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", u.Login, dash(u.Name), dash(strings.Join(u.Roles, ",")),
				dash(scopesText(u.Scopes)), status, u.Updated.Format(time.RFC3339))
		}
		return tw.Flush()
	}

	password, generated := "", false
	if sub == "add" || sub == "passwd" {
		if password, generated, err = readPassword(passwordStdin); err != nil {
			return fmt.Errorf("users %s: %w", sub, err)
		}
	}
	if sub == "add" {
		u, err := acc.AddUser(ctx, by, auth.NewUser{Login: login, Name: name, Password: password,
			Roles: splitList(roles), Scopes: auth.Scopes{Units: splitList(units), Districts: splitList(districts)}})
		if err != nil {
			return fmt.Errorf("users add: %w", err)
		}
		fmt.Fprintf(stdout, "added %s (%s)\n", u.Login, strings.Join(u.Roles, ", "))
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", password)
		}
		return nil
	}

	u, err := store.UserByLogin(ctx, login)
	if err != nil {
		return fmt.Errorf("users %s: %w", sub, err)
	}
	switch sub {
	case "passwd":
		if _, err := acc.SetPassword(ctx, by, u.ID, password); err != nil {
			return fmt.Errorf("users passwd: %w", err)
		}
		fmt.Fprintf(stdout, "changed the password of %s\n", u.Login)
		if generated {
			fmt.Fprintf(stdout, "password: %s\n", password)
		}
	case "roles":
		u, err = acc.SetRoles(ctx, by, u.ID, splitList(roles))
		if err != nil {
			return fmt.Errorf("users roles: %w", err)
		}
		fmt.Fprintf(stdout, "%s now has the roles %s\n", u.Login, strings.Join(u.Roles, ", "))
	case "disable":
		if _, err := acc.SetDisabled(ctx, by, u.ID, !enable); err != nil {
			return fmt.Errorf("users disable: %w", err)
		}
		if enable {
			fmt.Fprintf(stdout, "enabled %s\n", u.Login)
		} else {
			fmt.Fprintf(stdout, "disabled %s\n", u.Login)
		}
	}
	return nil
}

// readPassword reads a password from the first line of stdin, or makes a
// random one of 24 characters.
func readPassword(fromStdin bool) (password string, generated bool, err error) {
	if !fromStdin {
		b := make([]byte, 18)
		rand.Read(b)
		return base64.RawURLEncoding.EncodeToString(b), true, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, auth.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", false, fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", false, errors.New("no password on standard input")
	}
	return line, false, nil
}

func scopesText(s auth.Scopes) string {
	var parts []string
	if len(s.Units) > 0 {
		parts = append(parts, "units="+strings.Join(s.Units, ","))
	}
	if len(s.Districts) > 0 {
		parts = append(parts, "districts="+strings.Join(s.Districts, ","))
	}
	return strings.Join(parts, " ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// runTokens issues, lists and revokes the device and integration tokens of
// a data directory or a database.
func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, help, err := subcommand("tokens", tokensUsage, args, stderr, "add", "list", "revoke")
	if help || err != nil {
		return err
	}
	dataDir := defaultConfig().DataDir
	var name, scopes, sensors, id string
	fs := flag.NewFlagSet("onemap tokens "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (ONEMAP_DATA_DIR)")
	db := dbFlag(fs)
	switch sub {
	case "add":
		fs.StringVar(&name, "name", "", "what the token is for")
		fs.StringVar(&scopes, "scopes", "", "ingest and/or read (comma-separated)")
		fs.StringVar(&sensors, "sensors", "", "limit an ingest token to these sensor ids (comma-separated)")
	case "revoke":
		fs.StringVar(&id, "id", "", "the token's id (onemap tokens list)")
	}
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	var nt auth.NewToken
	switch sub {
	case "add":
		if name == "" || scopes == "" {
			return errors.New("tokens add: --name and --scopes are required")
		}
		nt = auth.NewToken{Name: name, Scopes: splitList(scopes)}
		if sensors != "" {
			nt.Sensors = []uint64{}
			for _, s := range splitList(sensors) {
				n, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return fmt.Errorf("tokens add: sensor %.40q is not a sensor id", s)
				}
				nt.Sensors = append(nt.Sensors, n)
			}
		}
	case "revoke":
		if id == "" {
			return errors.New("tokens revoke: --id is required")
		}
	}

	stores, err := openAccountStores(ctx, *db, dataDir, true)
	if err != nil {
		return err
	}
	defer stores.close()
	audit, err := openAuditLog(ctx, dataDir)
	if err != nil {
		return err
	}
	defer audit.Close()
	ts := auth.NewTokens(auth.TokensOptions{Store: stores.tokens, Audit: audit})
	by := cliPrincipal()

	switch sub {
	case "add":
		secret, t, err := ts.Issue(ctx, by, nt)
		if err != nil {
			return fmt.Errorf("tokens add: %w", err)
		}
		fmt.Fprintf(stdout, "issued %s %q (%s)\n", t.ID, t.Name, strings.Join(t.Scopes, ", "))
		fmt.Fprintf(stdout, "token: %s\n", secret)
		fmt.Fprintln(stdout, "It is shown this once; onemap keeps only its hash.")
	case "list":
		list, err := ts.List(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tSENSORS\tCREATED\tLAST USED\tSTATUS")
		for _, t := range list {
			sens := "all"
			if t.Sensors != nil {
				sens = strconv.Itoa(len(t.Sensors))
			} else if !slices.Contains(t.Scopes, auth.ScopeIngest) {
				sens = "-"
			}
			last := "never"
			if !t.LastUsed.IsZero() {
				last = t.LastUsed.Format(time.RFC3339)
			}
			status := "active"
			if !t.Active() {
				status = "revoked " + t.Revoked.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, ","), sens,
				t.Created.Format(time.RFC3339), last, status)
		}
		return tw.Flush()
	case "revoke":
		t, err := ts.Revoke(ctx, by, id)
		if err != nil {
			return fmt.Errorf("tokens revoke: %w", err)
		}
		fmt.Fprintf(stdout, "revoked %s %q\n", t.ID, t.Name)
	}
	return nil
}

// runAudit checks the audit log of a data directory.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, args, help, err := subcommand("audit", auditUsage, args, stderr, "verify")
	if help || err != nil {
		return err
	}
	dataDir := defaultConfig().DataDir
	fs := flag.NewFlagSet("onemap audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&dataDir, "data-dir", dataDir, "the server's data directory (ONEMAP_DATA_DIR)")
	if help, err := parseFlags(fs, args); help || err != nil {
		return err
	}
	path := filepath.Join(dataDir, auth.AuditFile)
	rep, err := auth.Verify(ctx, path)
	var ce *auth.ChainError
	if errors.As(err, &ce) {
		return fmt.Errorf("audit log %s is broken at entry %d: %s (the %d entries before it are intact)",
			path, ce.Entry, ce.Reason, rep.Entries)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "audit log %s: %d entries, chain intact; head %s\n", path, rep.Entries, rep.Head)
	if rep.Torn {
		fmt.Fprintln(stdout, "its last line was cut short by a crash; the next start cuts it off")
	}
	return nil
}
