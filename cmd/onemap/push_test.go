package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/notify"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// A published warning reaches the owning unit's webhook signed with its
// secret; a failed attempt is retried with the same delivery id. On
// PostGIS the directory is the one imported into the database.
func TestPushToWebhook(t *testing.T) {
	t.Run("memory", func(t *testing.T) { pushToWebhook(t, "") })
	t.Run("postgis", func(t *testing.T) {
		db := pgtest.URL(t)
		if err := run(t.Context(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		pushToWebhook(t, db)
	})
}

func pushToWebhook(t *testing.T, db string) {
	var mu sync.Mutex
	got := map[string]int{}
	var bodies []string
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := notify.Verify([]byte("gas-secret"), r.Header, body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get(notify.HeaderDelivery)
		got[id]++
		if got[id] == 1 {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		bodies = append(bodies, string(body))
	}))
	defer hook.Close()
	dir := t.TempDir()
	dirFile := filepath.Join(dir, "directory.json")
	sample := strings.Replace(string(directory.Sample()), "https://gas.binhu.example/onemap/warnings", hook.URL, 1)
	os.WriteFile(dirFile, []byte(sample), 0o644)
	secrets := filepath.Join(dir, "secrets.json")
	os.WriteFile(secrets, []byte(`{"gas_co_webhook": "gas-secret"}`), 0o600)

	args := []string{"--directory", dirFile, "--webhook-secrets", secrets}
	if db != "" {
		var out strings.Builder
		if err := run(t.Context(), []string{"directory", "import", "--db", db, dirFile}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "imported") {
			t.Errorf("directory import said %q", out.String())
		}
		args = []string{"--db", db, "--webhook-secrets", secrets}
	}
	srv := newStoppableServer(t, args...)
	srv.start()
	url := srv.url()
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	op := apiLogIn(t, url, srv.dir, db, "wang", "operator")
	an := apiLogIn(t, url, srv.dir, db, "li", "analyst")
	boss := apiLogIn(t, url, srv.dir, db, "zhao", "commander")
	must := func(ws *webSession, method, path, body string) string {
		t.Helper()
		st, b, err := ws.do(method, path, body)
		if err != nil || st/100 != 2 {
			t.Fatalf("%s %s: %d %s %v", method, path, st, b, err)
		}
		return b
	}
	var props struct{ Proposals []struct{ Alarms []uint64 } }
	json.Unmarshal([]byte(must(op, "GET", "/api/v1/incidents/proposals", "")), &props)
	var opened struct{ Incident incident.Incident }
	json.Unmarshal([]byte(must(op, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":%s}`, jsonOf(props.Proposals[0].Alarms)))), &opened)
	id := "/api/v1/incidents/" + opened.Incident.ID
	must(op, "POST", id+"/verify", `{"outcome":"confirmed"}`)
	var sug incident.Draft
	json.Unmarshal([]byte(must(an, "GET", id+"/suggestion", "")), &sug)
	must(an, "POST", id+"/draft", `{"warning":`+jsonOf(sug.Warning)+`}`)
	must(an, "POST", id+"/submit", `{}`)
	must(boss, "POST", id+"/review", `{"approve":true}`)
	must(boss, "POST", id+"/sign", `{}`)
	must(boss, "POST", id+"/publish", `{}`)

	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no delivery reached the webhook: %v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	mu.Lock()
	body := bodies[0]
	mu.Unlock()
	if !strings.Contains(body, opened.Incident.ID) || !strings.Contains(body, "预警") {
		t.Errorf("webhook body %s", body)
	}
	var dels struct{ Deliveries []notify.Delivery }
	json.Unmarshal([]byte(must(boss, "GET", id+"/deliveries", "")), &dels)
	for _, d := range dels.Deliveries {
		if d.Channel == directory.ChannelWebhook && d.Unit == "gas_co" && (d.State != notify.Delivered || d.Attempts != 2) {
			t.Errorf("the gas company's webhook: %s after %d attempts", d.State, d.Attempts)
		}
	}
	// after a restart the deliveries stand as they were: none is sent again
	srv.stop()
	srv.start()
	boss = apiLogIn(t, url, srv.dir, db, "zhao", "commander")
	var again struct{ Deliveries []notify.Delivery }
	json.Unmarshal([]byte(must(boss, "GET", id+"/deliveries", "")), &again)
	if len(again.Deliveries) != len(dels.Deliveries) {
		t.Errorf("%d deliveries after a restart, were %d", len(again.Deliveries), len(dels.Deliveries))
	}
	for _, d := range again.Deliveries {
		if d.Channel == directory.ChannelWebhook && d.Unit == "gas_co" && (d.State != notify.Delivered || d.Attempts != 2) {
			t.Errorf("after a restart the gas company's webhook: %s after %d attempts", d.State, d.Attempts)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range got {
		if n != 2 {
			t.Errorf("delivery %s reached the webhook %d times", k, n)
		}
	}
}

// The directory command checks a file, naming what is wrong; imports it
// into a database and exports it back the same; and the server on a
// database refuses --directory, whose place the database takes.
func TestDirectoryCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "directory.json")
	os.WriteFile(good, directory.Sample(), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(string(directory.Sample()), `"unit": "gas_co"`, `"unit": "gas_cx"`, 1)), 0o644)
	var out strings.Builder
	if err := run(t.Context(), []string{"directory", "check", good}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "units") {
		t.Fatalf("check the sample: %v %q", err, out.String())
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"BadRef", []string{"directory", "check", bad}, `bad_ref: people[`},
		{"NoFile", []string{"directory", "check"}, "name one directory.json"},
		{"NoSub", []string{"directory"}, "say check, import, export"},
		{"ImportNoDB", []string{"directory", "import", "--db", "", good}, "--db or DATABASE_URL"},
		{"ImportBad", []string{"directory", "import", "--db", "postgres://x@127.0.0.1:1/x", bad}, "bad_ref"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := run(t.Context(), c.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
	t.Run("postgis", func(t *testing.T) {
		db := pgtest.URL(t)
		if err := run(t.Context(), []string{"directory", "import", "--db", db, good}, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
		var exp strings.Builder
		if err := run(t.Context(), []string{"directory", "export", "--db", db}, &exp, io.Discard); err != nil {
			t.Fatal(err)
		}
		back, err := directory.Read(strings.NewReader(exp.String()))
		if err != nil {
			t.Fatalf("the export does not read back: %v", err)
		}
		if g, w := jsonOf(back.File()), jsonOf(directory.Default().File()); g != w {
			t.Errorf("exported\n%s\nimported\n%s", g, w)
		}
		err = run(t.Context(), []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--db", db, "--directory", good}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "onemap directory import") {
			t.Errorf("serve --db --directory: %v", err)
		}
	})
}
