package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/onemap/onemap/auth"
	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// An incident taken halfway through the loop is where it was after a
// restart, on the embedded default and on PostGIS.
func TestIncidentsSurviveRestart(t *testing.T) {
	t.Run("memory", func(t *testing.T) { incidentsSurviveRestart(t, "") })
	t.Run("postgis", func(t *testing.T) {
		db := pgtest.URL(t)
		if err := run(t.Context(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
			t.Fatalf("load: %v", err)
		}
		incidentsSurviveRestart(t, db)
	})
}

func incidentsSurviveRestart(t *testing.T, db string) {
	var args []string
	if db != "" {
		args = []string{"--db", db}
	}
	srv := newStoppableServer(t, args...)
	srv.start()
	url := srv.url()
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	op := apiLogIn(t, url, srv.dir, db, "wang", "operator")
	an := apiLogIn(t, url, srv.dir, db, "li", "analyst")
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
	if len(props.Proposals) == 0 {
		t.Fatal("no alarm proposed")
	}
	var opened struct{ Incident incident.Incident }
	json.Unmarshal([]byte(must(op, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":%s}`, jsonOf(props.Proposals[0].Alarms)))), &opened)
	id := opened.Incident.ID
	must(op, "POST", "/api/v1/incidents/"+id+"/verify", `{"outcome":"confirmed","reason":"现场确认"}`)
	var sug incident.Draft
	json.Unmarshal([]byte(must(an, "GET", "/api/v1/incidents/"+id+"/suggestion", "")), &sug)
	must(an, "POST", "/api/v1/incidents/"+id+"/draft", `{"warning":`+jsonOf(sug.Warning)+`}`)
	must(an, "POST", "/api/v1/incidents/"+id+"/submit", `{}`)
	before := must(an, "GET", "/api/v1/incidents/"+id, "")

	srv.stop()
	srv.start()
	an = apiLogIn(t, url, srv.dir, db, "li", "analyst")
	after := must(an, "GET", "/api/v1/incidents/"+id, "")
	if after != before {
		t.Fatalf("after a restart:\n%s\nbefore:\n%s", after, before)
	}
	if !strings.Contains(after, `"state":"in_review"`) {
		t.Errorf("incident %s", after)
	}
	// the loop goes on where it stopped, numbered after what was kept
	boss := apiLogIn(t, url, srv.dir, db, "zhao", "commander")
	var in struct{ Incident incident.Incident }
	json.Unmarshal([]byte(must(boss, "POST", "/api/v1/incidents/"+id+"/review", `{"approve":true}`)), &in)
	if in.Incident.State != incident.InReview || in.Incident.Reviewer != "zhao" || in.Incident.Events != 5 {
		t.Errorf("review after the restart: %+v", in.Incident)
	}
	// a second incident of the day gets the next number
	postReading(t, url, "GAS-000002", "ch4_lel", 60)
	json.Unmarshal([]byte(must(op, "GET", "/api/v1/incidents/proposals", "")), &props)
	if len(props.Proposals) == 0 {
		res, _ := http.Get(url + "/api/v1/alarms")
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("no second alarm proposed: %s", b)
	}
	op = apiLogIn(t, url, srv.dir, db, "wang", "operator")
	var second struct{ Incident incident.Incident }
	json.Unmarshal([]byte(must(op, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":%s}`, jsonOf(props.Proposals[0].Alarms)))), &second)
	if second.Incident.ID == id || second.Incident.ID[:len(id)-3] != id[:len(id)-3] {
		t.Errorf("second incident %q after %q", second.Incident.ID, id)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A late approval's reminder goes to whoever may take the draft's next
// step at its level: a level IV review to the analysts and commanders, a
// level II review or any signature to the commanders alone; never to the
// drafter or a disabled user.
func TestApprovers(t *testing.T) {
	ctx := t.Context()
	acc := auth.NewAccounts(auth.AccountsOptions{Users: auth.NewMemoryUsers(),
		Hasher: auth.NewHasher(auth.HashParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)})
	for login, roles := range map[string][]string{"li": {"analyst"}, "zhou": {"analyst"}, "zhao": {"commander"}, "qian": {"commander"}, "wang": {"operator"}} {
		u, err := acc.AddUser(ctx, nil, auth.NewUser{Login: login, Password: login + "-password-long", Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		if login == "qian" {
			if _, err := acc.SetDisabled(ctx, nil, u.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	who := approvers(acc, auth.NewAuthorizer(nil))
	for _, c := range []struct {
		name     string
		level    incident.Level
		reviewer string
		want     string
	}{
		{"ReviewIV", incident.LevelIV, "", "zhao zhou"},
		{"ReviewII", incident.LevelII, "", "zhao"},
		{"SignIV", incident.LevelIV, "zhou", "zhao"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := &incident.Incident{ID: "INC-20260601-001", State: incident.InReview, Reviewer: c.reviewer,
				Draft: &incident.Warning{Level: c.level, Drafter: "li"}}
			rec, err := who(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rec {
				if len(r.Channels) != 1 || r.Channels[0] != directory.ChannelInApp || r.Person.Login == "" {
					t.Errorf("recipient %+v", r)
				}
				got = append(got, r.Person.Login)
			}
			slices.Sort(got)
			if strings.Join(got, " ") != c.want {
				t.Errorf("told %v, want %s", got, c.want)
			}
		})
	}
}
