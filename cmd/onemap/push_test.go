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
)

// A published warning reaches the owning unit's webhook signed with its
// secret; a failed attempt is retried with the same delivery id.
func TestPushToWebhook(t *testing.T) {
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

	srv := newStoppableServer(t, "--directory", dirFile, "--webhook-secrets", secrets)
	srv.start()
	url := srv.url()
	postReading(t, url, "GAS-000001", "ch4_lel", 60)
	op := apiLogIn(t, url, srv.dir, "", "wang", "operator")
	an := apiLogIn(t, url, srv.dir, "", "li", "analyst")
	boss := apiLogIn(t, url, srv.dir, "", "zhao", "commander")
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
	boss = apiLogIn(t, url, srv.dir, "", "zhao", "commander")
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
