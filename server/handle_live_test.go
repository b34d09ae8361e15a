package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
)

var liveNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// liveServer serves a gas detector GAS-1 (id 7) with an ingest token.
func liveServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(newTestServer(liveOptions(t, Options{})).Handler())
	t.Cleanup(ts.Close)
	return ts
}

// liveOptions are o with the live state of liveServer.
func liveOptions(t *testing.T, o Options) Options {
	t.Helper()
	sensors := live.NewSensors([]*layers.Feature{{ID: 7, Layer: layers.Sensor, Geometry: orb.Point{117.26, 31.84},
		Props: map[string]any{"code": "GAS-1", "domain": "gas", "kind": "combustible_gas", "metrics": "ch4_lel,battery", "asset": 1.0, "asset_layer": layers.DrainNode}}})
	curves := series.New(series.Options{Now: func() time.Time { return liveNow }})
	svc, err := live.NewService(live.Options{Sensors: sensors, Series: curves, Now: func() time.Time { return liveNow }})
	if err != nil {
		t.Fatal(err)
	}
	o.Catalog, o.Store, o.Live, o.Sensors, o.Series = layers.Default(), memory.New(storetest.City()), svc, sensors, curves
	o.IngestTokens, o.Now = []string{"secret"}, func() time.Time { return liveNow }
	return o
}

func send(t *testing.T, method, url, token, contentType, payload string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(payload))
	authorize(req, token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, body(t, resp)
}

func lel(v float64, minutesAgo int) string {
	return fmt.Sprintf(`{"sensor":7,"metric":"ch4_lel","value":%v,"ts":%q}`, v, liveNow.Add(-time.Duration(minutesAgo)*time.Minute).Format(time.RFC3339))
}

func TestReadingsAndAlarms(t *testing.T) {
	ts := liveServer(t)
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+lel(2, 10)+","+lel(30, 9)+","+`{"sensor":"GAS-9"}`+"]")
	var res struct {
		Accepted int
		Refused  []struct {
			Index int
			Code  string
		}
	}
	json.Unmarshal(b, &res)
	if resp.StatusCode != 200 || res.Accepted != 2 || len(res.Refused) != 1 || res.Refused[0].Index != 2 || res.Refused[0].Code != "unknown_sensor" {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	// NDJSON works the same.
	resp, b = send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/x-ndjson", lel(60, 8)+"\n"+lel(61, 7)+"\n")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"accepted":2`) {
		t.Fatalf("ndjson: %d %s", resp.StatusCode, b)
	}
	var alarms struct {
		Alarms []struct {
			ID     uint64
			Sensor uint64
			Metric string
			Level  int
			State  string
		}
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms?state=active&level=1")), &alarms)
	if len(alarms.Alarms) != 1 || alarms.Alarms[0].Sensor != 7 || alarms.Alarms[0].Level != 1 || alarms.Alarms[0].State != "active" {
		t.Fatalf("alarms %+v", alarms)
	}
	id := fmt.Sprint(alarms.Alarms[0].ID)
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms?domain=water")), &alarms)
	if len(alarms.Alarms) != 0 {
		t.Errorf("water alarms %+v", alarms)
	}
	var im struct {
		Scenario struct {
			ID     string
			Radius float64 `json:"radius_m"`
			Source string
		}
		Pipe uint64
		Area struct {
			Type     string
			Geometry struct{ Type string }
		}
		Targets []any
		Roads   []string
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms/"+id+"/impact")), &im)
	// The detector stands at the start of the suite city's medium-pressure
	// main: its rupture radius is under the 30 m floor.
	if im.Scenario.ID != "gas_explosion_confined" || im.Scenario.Radius != 30 || im.Scenario.Source == "" || im.Pipe != layers.MakeID(10, 1) || im.Area.Geometry.Type != "Polygon" {
		t.Errorf("impact %+v", im)
	}
	if r := get(t, ts.URL+"/api/v1/alarms/999/impact"); r.StatusCode != 404 {
		t.Errorf("impact of no alarm: %d", r.StatusCode)
	}
	resp, b = send(t, "POST", ts.URL+"/api/v1/alarms/"+id+"/ack", "role:operator", "application/json", `{"note":"去现场"}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"by":"operator"`) {
		t.Errorf("ack: %d %s", resp.StatusCode, b)
	}
	var a struct {
		Changes []struct{ Kind string }
		Ack     struct{ By string }
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms/"+id)), &a)
	if len(a.Changes) < 2 || a.Ack.By != "operator" {
		t.Errorf("alarm %+v", a)
	}
	var sn struct {
		Code  string
		State []struct {
			Metric string
			Value  float64
			Level  int
		}
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/sensors/GAS-1")), &sn)
	if sn.Code != "GAS-1" || len(sn.State) != 1 || sn.State[0].Value != 61 || sn.State[0].Level != 1 {
		t.Errorf("sensor %+v", sn)
	}
	var curve struct {
		Buckets []struct {
			Min, Max float64
			N        int
		}
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/sensors/7/series?metric=ch4_lel&step=1h")), &curve)
	if len(curve.Buckets) != 1 || curve.Buckets[0].N != 4 || curve.Buckets[0].Min != 2 || curve.Buckets[0].Max != 61 {
		t.Errorf("series %+v", curve)
	}
}

// A bad body keeps what came before it, and says how many were refused.
func TestReadingsBadBodyKeepsWhatCameBefore(t *testing.T) {
	ts := liveServer(t)
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+lel(2, 10)+`,{"sensor":"GAS-9"},`+lel(3, 9)+`, 7, `+lel(4, 8)+"]")
	var res struct {
		Accepted      int
		Refused       []struct{ Index int }
		RefusedTotal  int            `json:"refused_total"`
		RefusedByCode map[string]int `json:"refused_by_code"`
		Error         struct{ Code, Message string }
	}
	json.Unmarshal(b, &res)
	if resp.StatusCode != 400 || res.Error.Code != CodeBadBody || res.Accepted != 2 || res.RefusedTotal != 1 || res.RefusedByCode["unknown_sensor"] != 1 ||
		!strings.Contains(res.Error.Message, "reading 3") {
		t.Fatalf("%d %s; want 400 bad_body at reading 3 after 2 accepted and 1 refused", resp.StatusCode, b)
	}
	resp, b = send(t, "GET", ts.URL+"/api/v1/sensors/7/series?metric=ch4_lel&step=1h", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"n":2`) {
		t.Errorf("the readings before the fault are not in the curve: %d %s", resp.StatusCode, b)
	}
}

// A million refusals make a short answer: the first hundred and counts.
func TestReadingsRefusalsSummarised(t *testing.T) {
	ts := liveServer(t)
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+strings.Repeat(`{"sensor":"GAS-9"},`, live.MaxBatch-1)+lel(5, 1)+"]")
	var res struct {
		Accepted      int
		Refused       []struct{ Index int }
		RefusedTotal  int            `json:"refused_total"`
		RefusedByCode map[string]int `json:"refused_by_code"`
	}
	json.Unmarshal(b, &res)
	if resp.StatusCode != 200 || res.Accepted != 1 || len(res.Refused) != live.MaxRefusals || res.RefusedTotal != live.MaxBatch-1 ||
		res.RefusedByCode["unknown_sensor"] != live.MaxBatch-1 || len(b) > 20<<10 {
		t.Fatalf("%d, %d bytes: %.300s", resp.StatusCode, len(b), b)
	}
}

// The million-{} body costs little: it is refused at its first element,
// whatever follows.
func TestReadingsMillionEmptyObjectsCheap(t *testing.T) {
	ts := liveServer(t)
	payload := "[" + strings.Repeat("{},", 1e6) + "{}]"
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", payload)
	runtime.ReadMemStats(&after)
	if resp.StatusCode != 400 || !strings.Contains(string(b), CodeBadBody) || len(b) > 1<<10 {
		t.Fatalf("%d, %d bytes: %.300s", resp.StatusCode, len(b), b)
	}
	// Client and server share this process; both together stay far below
	// the gigabyte such a body once cost.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("the request allocated %d MiB", got>>20)
	}
}

func TestLiveBadRequests(t *testing.T) {
	ts := liveServer(t)
	tests := []struct {
		name, method, path, token, payload string
		status                             int
		code                               string
	}{
		{"NoToken", "POST", "/api/v1/readings", "", "[]", 401, CodeUnauthorized},
		{"WrongToken", "POST", "/api/v1/readings", "guess", "[]", 401, CodeUnauthorized},
		{"ViewerIngests", "POST", "/api/v1/readings", "role:viewer", "[]", 403, CodeForbidden},
		{"TooLarge", "POST", "/api/v1/readings", "secret", "[" + strings.Repeat(" ", MaxReadingsBody) + "]", 413, CodeTooLarge},
		{"BrokenBody", "POST", "/api/v1/readings", "secret", "[" + lel(1, 1) + ", {", 400, CodeBadBody},
		{"EmptyObjectBody", "POST", "/api/v1/readings", "secret", `{}`, 400, CodeBadBody},
		{"NullBody", "POST", "/api/v1/readings", "secret", `null`, 400, CodeBadBody},
		{"NumberBody", "POST", "/api/v1/readings", "secret", `12`, 400, CodeBadBody},
		{"ArrayOfEmptyObject", "POST", "/api/v1/readings", "secret", `[{}]`, 400, CodeBadBody},
		{"ArrayOfNumbers", "POST", "/api/v1/readings", "secret", `[1, 2]`, 400, CodeBadBody},
		{"TooManyReadings", "POST", "/api/v1/readings", "secret", "[" + strings.Repeat(`{"sensor":"X"},`, live.MaxBatch) + `{"sensor":"X"}]`, 413, CodeTooManyReadings},
		{"SensorNameTooLong", "GET", "/api/v1/sensors/" + strings.Repeat("G", 5000), "", "", 404, CodeNotFound},
		{"BadState", "GET", "/api/v1/alarms?state=open", "", "", 400, CodeBadRequest},
		{"BadLevel", "GET", "/api/v1/alarms?level=0", "", "", 400, CodeBadRequest},
		{"LevelBeyondAny", "GET", "/api/v1/alarms?level=9", "", "", 400, CodeBadRequest},
		{"UnknownDomain", "GET", "/api/v1/alarms?domain=drain", "", "", 400, CodeBadRequest},
		{"SensorsUnknownDomain", "GET", "/api/v1/sensors?domain=drain", "", "", 400, CodeBadRequest},
		{"BadFrom", "GET", "/api/v1/alarms?from=yesterday", "", "", 400, CodeBadRequest},
		{"UnknownAlarm", "GET", "/api/v1/alarms/99", "", "", 404, CodeNotFound},
		{"BadAlarmID", "GET", "/api/v1/alarms/x", "", "", 400, CodeBadID},
		{"AckWithWho", "POST", "/api/v1/alarms/1/ack", "role:operator", `{"by":"someone else"}`, 400, CodeBadRequest},
		{"AckAnonymous", "POST", "/api/v1/alarms/1/ack", "", `{}`, 401, CodeUnauthorized},
		{"AckByViewer", "POST", "/api/v1/alarms/1/ack", "role:viewer", `{}`, 403, CodeForbidden},
		{"RulesByOperator", "PUT", "/api/v1/rules", "role:operator", `{"rules": []}`, 403, CodeForbidden},
		{"UnknownSensor", "GET", "/api/v1/sensors/GAS-404", "", "", 404, CodeNotFound},
		{"SeriesOtherMetric", "GET", "/api/v1/sensors/7/series?metric=pressure", "", "", 400, CodeBadRequest},
		{"SeriesTinyStep", "GET", "/api/v1/sensors/7/series?metric=ch4_lel&step=1ms", "", "", 400, CodeBadRequest},
		{"SeriesTooMany", "GET", "/api/v1/sensors/7/series?metric=ch4_lel&step=1s&from=2026-01-01T00:00:00Z", "", "", 400, CodeBadRequest},
		{"SeriesBackwards", "GET", "/api/v1/sensors/7/series?metric=ch4_lel&from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z", "", "", 400, CodeBadRequest},
		{"BadRules", "PUT", "/api/v1/rules", "role:admin", `{"rules": [{"metric": "nope"}]}`, 422, CodeBadRules},
		{"RulesHighHuge", "PUT", "/api/v1/rules", "role:admin", `{"rules": [{"metric": "ch4_lel", "levels": [{"level": 1, "high": 1e308}]}]}`, 422, CodeBadRules},
		{"RulesHighMinusHuge", "PUT", "/api/v1/rules", "role:admin", `{"rules": [{"metric": "ch4_lel", "levels": [{"level": 1, "high": -1e308}]}]}`, 422, CodeBadRules},
		{"RulesDurationHuge", "PUT", "/api/v1/rules", "role:admin", `{"rules": [{"metric": "ch4_lel", "duration_s": 1e18, "levels": [{"level": 1, "high": 50}]}]}`, 422, CodeBadRules},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, b := send(t, tt.method, ts.URL+tt.path, tt.token, "application/json", tt.payload)
			var e struct {
				Error struct{ Code, Message string }
			}
			json.Unmarshal(b, &e)
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("%d %.300s; want %d %q", resp.StatusCode, b, tt.status, tt.code)
			}
			if len(b) > 20<<10 {
				t.Errorf("an answer of %d bytes", len(b))
			}
		})
	}
	// The running rules stayed after the bad file.
	resp, b := send(t, "GET", ts.URL+"/api/v1/rules", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "ch4_lel") {
		t.Errorf("rules after a bad PUT: %d %.100s", resp.StatusCode, b)
	}
	resp, b = send(t, "PUT", ts.URL+"/api/v1/rules", "role:admin", "application/json", string(b))
	if resp.StatusCode != 200 {
		t.Errorf("PUT the rules back: %d %s", resp.StatusCode, b)
	}
}

// from and to select the alarms started between them, or with overlap=true
// those active at some time between them: what a trend of the last hour
// needs.
func TestAlarmsOverlap(t *testing.T) {
	ts := liveServer(t)
	// Raised 120 minutes ago, cleared 30 minutes ago.
	resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+lel(30, 120)+","+lel(1, 30)+"]")
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	count := func(q string) int {
		t.Helper()
		var a struct{ Alarms []struct{ ID uint64 } }
		r := get(t, ts.URL+"/api/v1/alarms?"+q)
		if r.StatusCode != 200 {
			t.Fatalf("%s: %d", q, r.StatusCode)
		}
		json.Unmarshal(body(t, r), &a)
		return len(a.Alarms)
	}
	at := func(minutesAgo int) string {
		return liveNow.Add(-time.Duration(minutesAgo) * time.Minute).Format(time.RFC3339)
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{"from=" + at(60), 0},                                       // not started within the hour
		{"from=" + at(60) + "&overlap=true", 1},                     // but active within it
		{"from=" + at(20) + "&overlap=true", 0},                     // cleared before
		{"from=" + at(180) + "&to=" + at(150) + "&overlap=true", 0}, // not yet raised
		{"from=" + at(180) + "&to=" + at(100) + "&overlap=true", 1},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: %d alarms, want %d", c.q, got, c.want)
		}
	}
	if r := get(t, ts.URL+"/api/v1/alarms?overlap=maybe"); r.StatusCode != 400 {
		t.Errorf("overlap=maybe: %d, want 400", r.StatusCode)
	}
}

// Each accepted PUT of the rules is a new version, listed and readable by
// number; the alarms say which version raised them, and every
// acknowledgement is kept.
func TestRulesVersionsAndAcks(t *testing.T) {
	ts := liveServer(t)
	var vs struct {
		Versions []struct {
			By      string
			Version uint64
			Default bool
		}
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/rules/versions")), &vs)
	if len(vs.Versions) != 1 || vs.Versions[0].Version != 1 || !vs.Versions[0].Default {
		t.Fatalf("versions at start: %+v", vs)
	}
	rules := `{"rules": [{"metric": "ch4_lel", "unit": "%LEL", "levels": [{"level": 1, "high": 5}]}]}`
	resp, b := send(t, "PUT", ts.URL+"/api/v1/rules", "role:admin", "application/json", rules)
	var put struct{ Version uint64 }
	json.Unmarshal(b, &put)
	if resp.StatusCode != 200 || put.Version != 2 {
		t.Fatalf("PUT: %d %s", resp.StatusCode, b)
	}
	vs.Versions = nil
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/rules/versions")), &vs)
	if len(vs.Versions) != 2 || vs.Versions[0].Version != 2 || vs.Versions[0].Default || vs.Versions[0].By != "admin" {
		t.Errorf("versions after a PUT, newest first: %+v", vs)
	}
	if _, b := send(t, "GET", ts.URL+"/api/v1/rules?version=2", "", "", ""); string(b) != rules {
		t.Errorf("version 2: %s", b)
	}
	if _, b := send(t, "GET", ts.URL+"/api/v1/rules?version=1", "", "", ""); !strings.Contains(string(b), "hysteresis") {
		t.Errorf("version 1 is not the defaults: %.100s", b)
	}
	for q, want := range map[string]int{"version=3": 404, "version=0": 400, "version=x": 400, "version=-1": 400} {
		if r := get(t, ts.URL+"/api/v1/rules?"+q); r.StatusCode != want {
			t.Errorf("%s: %d, want %d", q, r.StatusCode, want)
		}
	}

	if resp, b := send(t, "POST", ts.URL+"/api/v1/readings", "secret", "application/json", "["+lel(6, 1)+"]"); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	var list struct {
		Alarms []struct {
			ID          uint64
			RuleVersion uint64 `json:"rule_version"`
		}
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms")), &list)
	if len(list.Alarms) != 1 || list.Alarms[0].RuleVersion != 2 {
		t.Fatalf("alarms: %+v", list)
	}
	id := fmt.Sprint(list.Alarms[0].ID)
	for _, who := range []string{"operator", "duty"} {
		if resp, b := send(t, "POST", ts.URL+"/api/v1/alarms/"+id+"/ack", "role:"+who, "application/json", `{}`); resp.StatusCode != 200 {
			t.Fatalf("ack: %d %s", resp.StatusCode, b)
		}
	}
	var a struct {
		Ack  struct{ By string }
		Acks []struct{ By string }
	}
	json.Unmarshal(body(t, get(t, ts.URL+"/api/v1/alarms/"+id)), &a)
	if len(a.Acks) != 2 || a.Acks[0].By != "operator" || a.Acks[1].By != "duty" || a.Ack.By != "duty" {
		t.Errorf("acknowledgements: %+v", a)
	}
}
