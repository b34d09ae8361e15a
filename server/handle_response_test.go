package server

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/cap"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/notify"
)

// publishOne walks an alarm of sensor 7 to a published warning and
// returns the incident's id.
func publishOne(t *testing.T, ts *httptest.Server) string {
	t.Helper()
	postReadings(t, ts, reading(7, 60, 10))
	in, _ := step(t, ts.URL, "", "operator", `{"alarms":[1]}`, 201)
	id := "/" + in.ID
	step(t, ts.URL, id+"/verify", "operator", `{"outcome":"confirmed"}`, 200)
	_, b := send(t, "GET", ts.URL+"/api/v1/incidents"+id+"/suggestion", "role:analyst", "", "")
	var sug incident.Draft
	json.Unmarshal(b, &sug)
	draft, _ := json.Marshal(map[string]any{"warning": sug.Warning})
	step(t, ts.URL, id+"/draft", "analyst", string(draft), 200)
	step(t, ts.URL, id+"/submit", "analyst", `{}`, 200)
	step(t, ts.URL, id+"/review", "commander", `{"approve":true}`, 200)
	step(t, ts.URL, id+"/sign", "commander", `{}`, 200)
	step(t, ts.URL, id+"/publish", "commander", `{}`, 200)
	return in.ID
}

func getJSON(t *testing.T, url, role string, v any) {
	t.Helper()
	resp, b := send(t, "GET", url, "role:"+role, "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s as %s: %d %s", url, role, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

func pngPhoto(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	img.Set(1, 1, color.RGBA{200, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// After publication: the owner unit's member reads and replies in-app,
// the plan's tasks are assigned and done with a photo and a position, and
// the record and CAP messages hold all of it.
func TestResponseAfterPublication(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	id := publishOne(t, ts)
	base := ts.URL + "/api/v1/incidents/" + id

	// The push: the gas company's member among the recipients, in-app.
	var inbox struct {
		Deliveries []notify.Delivery
		Unread     int
	}
	eventually(t, 5*time.Second, "the in-app message", func() bool {
		getJSON(t, ts.URL+"/api/v1/inbox", "unit1", &inbox)
		return len(inbox.Deliveries) == 1
	})
	d := inbox.Deliveries[0]
	if d.Incident != id || !strings.Contains(d.TextZh, "预警") || inbox.Unread != 1 {
		t.Fatalf("inbox %+v", inbox)
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/inbox/"+d.ID+"/read", "role:operator", "application/json", `{}`); resp.StatusCode != 403 {
		t.Errorf("another reads unit1's message: %d %s", resp.StatusCode, b)
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/inbox/"+d.ID+"/read", "role:unit1", "application/json", `{}`); resp.StatusCode != 200 {
		t.Fatalf("read: %d %s", resp.StatusCode, b)
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/inbox/"+d.ID+"/reply", "role:unit1", "application/json", `{"text":"已收到，抢修队出发"}`); resp.StatusCode != 200 {
		t.Fatalf("reply: %d %s", resp.StatusCode, b)
	}
	var dels struct {
		Deliveries []notify.Delivery
		Summary    map[string]int
	}
	getJSON(t, base+"/deliveries", "commander", &dels)
	if dels.Summary["replied"] != 1 || len(dels.Deliveries) < 2 {
		t.Errorf("deliveries %d, summary %v", len(dels.Deliveries), dels.Summary)
	}

	// The plan and its tasks.
	var rsp struct {
		Plan     *struct{ ID string }
		Response struct {
			Tasks []struct {
				ID            string
				State         string
				Assignee      string
				NeedsPhoto    bool `json:"needs_photo"`
				NeedsPosition bool `json:"needs_position"`
				Overdue       bool
				DistanceM     *float64 `json:"distance_m"`
			}
		}
	}
	getJSON(t, base+"/response", "viewer", &rsp)
	if rsp.Plan == nil || len(rsp.Response.Tasks) == 0 || rsp.Response.Tasks[0].State != "pending" {
		t.Fatalf("response %+v", rsp)
	}
	task := rsp.Response.Tasks[0]
	if resp, _ := send(t, "POST", ts.URL+"/api/v1/tasks/"+task.ID+"/assign", "role:analyst", "application/json", `{"assignee":"responder"}`); resp.StatusCode != 403 {
		t.Errorf("an analyst assigns: %d", resp.StatusCode)
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/tasks/"+task.ID+"/assign", "role:commander", "application/json", `{"assignee":"responder"}`); resp.StatusCode != 200 {
		t.Fatalf("assign: %d %s", resp.StatusCode, b)
	}
	var mine struct{ Tasks []struct{ ID string } }
	getJSON(t, ts.URL+"/api/v1/tasks/mine", "responder", &mine)
	if len(mine.Tasks) != 1 || mine.Tasks[0].ID != task.ID {
		t.Fatalf("my tasks %+v", mine)
	}
	adv := func(to, extra string, want int) string {
		t.Helper()
		resp, b := send(t, "POST", ts.URL+"/api/v1/tasks/"+task.ID+"/advance", "role:responder", "application/json", `{"to":"`+to+`"`+extra+`}`)
		if resp.StatusCode != want {
			t.Fatalf("advance to %s: %d %s, want %d", to, resp.StatusCode, b, want)
		}
		return string(b)
	}
	if b := adv("arrived", "", 409); !strings.Contains(b, CodeBadTransition) {
		t.Errorf("arrived before accepting: %s", b)
	}
	adv("accepted", "", 200)
	adv("en_route", "", 200)
	// the position on the way, then arrival
	if resp, b := send(t, "POST", ts.URL+"/api/v1/positions", "role:responder", "application/json", `{"incident":"`+id+`","task":"`+task.ID+`","position":{"lon":117.2605,"lat":31.8405}}`); resp.StatusCode != 200 {
		t.Fatalf("position: %d %s", resp.StatusCode, b)
	}
	if resp, _ := send(t, "POST", ts.URL+"/api/v1/positions", "role:responder", "application/json", `{"incident":"`+id+`","position":{"lon":517,"lat":31.84}}`); resp.StatusCode != 400 {
		t.Errorf("a longitude of 517: %d", resp.StatusCode)
	}
	adv("arrived", "", 200)

	// A photo from the field: its bytes must be the type it claims.
	photo := pngPhoto(t)
	if resp, _ := send(t, "POST", ts.URL+"/api/v1/attachments", "role:responder", "image/jpeg", string(photo)); resp.StatusCode != 415 {
		t.Errorf("a PNG sent as a JPEG: %d", resp.StatusCode)
	}
	resp, b := send(t, "POST", ts.URL+"/api/v1/attachments", "role:responder", "image/png", string(photo))
	var att struct{ ID, Type string }
	json.Unmarshal(b, &att)
	if resp.StatusCode != 201 || att.Type != "image/png" || len(att.ID) != 64 {
		t.Fatalf("attachment: %d %s", resp.StatusCode, b)
	}
	if resp, b := send(t, "POST", ts.URL+"/api/v1/attachments", "role:responder", "image/png", "<svg></svg>"); resp.StatusCode != 415 || !strings.Contains(string(b), CodeBadType) {
		t.Errorf("an SVG: %d %s", resp.StatusCode, b)
	}
	if resp, _ := send(t, "POST", ts.URL+"/api/v1/attachments", "role:viewer", "image/png", string(photo)); resp.StatusCode != 403 {
		t.Errorf("a viewer uploads: %d", resp.StatusCode)
	}
	if resp, got := send(t, "GET", ts.URL+"/api/v1/attachments/"+att.ID, "role:viewer", "", ""); resp.StatusCode != 200 || !bytes.Equal(got, photo) || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("the photo back: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	done := fmt.Sprintf(`,"text":"阀门已关闭","photos":[%q],"position":{"lon":117.26,"lat":31.84}`, att.ID)
	if task.NeedsPhoto {
		adv("done", `,"text":"阀门已关闭"`, 422)
	}
	adv("done", done, 200)
	if resp, b := send(t, "POST", base+"/feedback", "role:responder", "application/json", fmt.Sprintf(`{"text":"现场浓度下降至 5%%LEL","photos":[%q],"position":{"lon":117.26,"lat":31.84}}`, att.ID)); resp.StatusCode != 201 {
		t.Fatalf("feedback: %d %s", resp.StatusCode, b)
	}
	var pos struct{ Positions []struct{ Login string } }
	getJSON(t, base+"/positions", "commander", &pos)
	if len(pos.Positions) != 1 || pos.Positions[0].Login != "responder" {
		t.Errorf("positions %+v", pos)
	}

	// CAP: the alert, an update referring to it, then the cancel.
	getCAP := func(q string) *cap.Alert {
		t.Helper()
		resp, b := send(t, "GET", ts.URL+"/api/v1/warnings/"+id+"/cap.xml"+q, "role:viewer", "", "")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/cap+xml") {
			t.Fatalf("cap%s: %d %s", q, resp.StatusCode, b)
		}
		var a cap.Alert
		if err := xml.Unmarshal(b, &a); err != nil {
			t.Fatal(err)
		}
		if err := cap.Validate(&a); err != nil {
			t.Fatalf("cap%s: %v\n%s", q, err, b)
		}
		return &a
	}
	first := getCAP("")
	if first.MsgType != "Alert" || first.Identifier != id+"-v1" || first.References != "" || first.Infos[0].Language != "zh-CN" ||
		len(first.Infos[0].Areas) != 1 || len(first.Infos[0].Areas[0].Polygons) != 1 || len(first.Infos[0].Areas[0].Circles) != 1 {
		t.Fatalf("first alert %+v", first)
	}
	if !strings.HasSuffix(first.Sent, "+08:00") {
		t.Errorf("sent %s, want China Standard Time", first.Sent)
	}
	var in incident.Incident
	getJSON(t, base, "viewer", &struct{ Incident *incident.Incident }{&in})
	upd := *in.Current()
	upd.Instructions += "请继续疏散"
	ub, _ := json.Marshal(map[string]any{"warning": upd})
	step(t, ts.URL, "/"+id+"/update", "commander", string(ub), 200)
	second := getCAP("")
	if second.MsgType != "Update" || second.References != first.Sender+","+first.Identifier+","+first.Sent {
		t.Errorf("update %s refers to %q", second.MsgType, second.References)
	}
	if again := getCAP("?version=1"); again.Identifier != first.Identifier || again.Sent != first.Sent {
		t.Errorf("version 1 again: %+v", again)
	}
	resp, b = send(t, "GET", ts.URL+"/api/v1/warnings.atom", "role:viewer", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), "/api/v1/warnings/"+id+"/cap.xml") || strings.Count(string(b), "<entry>") != 1 {
		t.Errorf("atom: %d %s", resp.StatusCode, b)
	}
	step(t, ts.URL, "/"+id+"/respond", "commander", `{}`, 200)
	step(t, ts.URL, "/"+id+"/resolve", "commander", `{}`, 200)
	step(t, ts.URL, "/"+id+"/release", "commander", `{"reason":"隐患已消除"}`, 200)
	cancel := getCAP("")
	if cancel.MsgType != "Cancel" || strings.Count(cancel.References, " ") != 1 {
		t.Errorf("cancel %s refers to %q", cancel.MsgType, cancel.References)
	}
	if resp, b := send(t, "GET", ts.URL+"/api/v1/warnings.atom", "role:viewer", "", ""); strings.Contains(string(b), "<entry>") {
		t.Errorf("a released warning in the feed: %d %s", resp.StatusCode, b)
	}
	step(t, ts.URL, "/"+id+"/archive", "commander", `{}`, 200)

	// The record: every step, the deliveries with the reply, the task done
	// with its photo, the field report.
	var rec struct {
		Steps      []incident.Event
		Deliveries []notify.Delivery
		Response   struct {
			Tasks    []struct{ State string }
			Feedback []struct{ Text string }
		}
		Attachments []string
	}
	getJSON(t, base+"/report", "viewer", &rec)
	replied := 0
	for _, d := range rec.Deliveries {
		if d.Reply != "" {
			replied++
		}
	}
	if len(rec.Steps) != 12 || replied != 1 || rec.Response.Tasks[0].State != "done" || len(rec.Response.Feedback) != 1 || len(rec.Attachments) != 1 {
		t.Errorf("record: %d steps, %d replied, tasks %+v, %d reports, attachments %v", len(rec.Steps), replied, rec.Response.Tasks, len(rec.Response.Feedback), rec.Attachments)
	}
	for lang, want := range map[string][]string{"": {"事件处置报告", "已归档", "阀门已关闭", "已收到，抢修队出发", "峰值", "GAS-1 ch4_lel", "/api/v1/attachments/" + att.ID}, "en": {"Incident report", "archived", "Field reports"}} {
		resp, b := send(t, "GET", base+"/report.html?lang="+lang, "role:viewer", "", "")
		for _, w := range want {
			if resp.StatusCode != 200 || !strings.Contains(string(b), w) {
				t.Errorf("report.html?lang=%s lacks %q (%d)", lang, w, resp.StatusCode)
			}
		}
	}
	// The replay: the alarm's curve, the two versions and the release, the
	// responder's path, every action in order.
	var rp struct {
		From, To time.Time
		Alarms   []struct{ ID uint64 }
		Curves   []struct{ Points []struct{ Max float64 } }
		Warnings []struct {
			Version     int
			From, Until time.Time
		}
		Positions []struct{ Login string }
		Actions   []struct{ Kind, What string }
	}
	getJSON(t, base+"/replay", "viewer", &rp)
	if len(rp.Alarms) != 1 || len(rp.Curves) != 1 || len(rp.Curves[0].Points) == 0 || rp.Curves[0].Points[0].Max != 60 {
		t.Errorf("replay alarms and curves: %+v %+v", rp.Alarms, rp.Curves)
	}
	if len(rp.Warnings) != 2 || !rp.Warnings[0].Until.Equal(rp.Warnings[1].From) || rp.Warnings[1].Until.IsZero() || !rp.From.Before(rp.To) {
		t.Errorf("replay warnings %+v", rp.Warnings)
	}
	if len(rp.Positions) < 2 || rp.Positions[0].Login != "responder" || len(rp.Actions) < 12 || rp.Actions[0].What != "verifying" {
		t.Errorf("replay: %d positions, %d actions", len(rp.Positions), len(rp.Actions))
	}
	// Archived: the record is closed.
	if resp, b := send(t, "POST", base+"/feedback", "role:responder", "application/json", `{"text":"补充"}`); resp.StatusCode != 409 {
		t.Errorf("a report after the archive: %d %s", resp.StatusCode, b)
	}
}

// A verification that needs a site check gives the task to a responder,
// who goes, reports back what they found and where, and the operator
// then confirms; the task stays first among the incident's tasks after
// the plan opens.
func TestSiteCheck(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	postReadings(t, ts, reading(7, 60, 10))
	in, _ := step(t, ts.URL, "", "operator", `{"alarms":[1]}`, 201)
	id := "/" + in.ID
	for _, c := range [][2]string{
		{`{"outcome":"site_check"}`, "names who goes"},
		{`{"outcome":"site_check","assignee":"nobody"}`, `no user \"nobody\"`},
		{`{"outcome":"site_check","assignee":"analyst"}`, "cannot report from the field"},
	} {
		if _, b := step(t, ts.URL, id+"/verify", "operator", c[0], 400); !strings.Contains(b, c[1]) {
			t.Errorf("%s: %s, want %q", c[0], b, c[1])
		}
	}
	got, _ := step(t, ts.URL, id+"/verify", "operator", `{"outcome":"site_check","assignee":"responder","reason":"查看东侧阀井有无气味"}`, 200)
	if got.State != incident.Verifying || got.Outcome != incident.OutcomeSiteCheck {
		t.Fatalf("after the site check was asked: %s %s", got.State, got.Outcome)
	}
	var mine struct {
		Tasks []struct {
			ID, State, Brief string
			Title            struct{ Zh string }
			DistanceM        *float64 `json:"distance_m"`
		}
	}
	getJSON(t, ts.URL+"/api/v1/tasks/mine", "responder", &mine)
	if len(mine.Tasks) != 1 || mine.Tasks[0].Title.Zh != "现场核查" || mine.Tasks[0].State != "assigned" || mine.Tasks[0].Brief != "查看东侧阀井有无气味" {
		t.Fatalf("the responder's tasks %+v", mine)
	}
	task := mine.Tasks[0].ID
	for _, to := range []string{"accepted", "en_route", "arrived"} {
		if resp, b := send(t, "POST", ts.URL+"/api/v1/tasks/"+task+"/advance", "role:responder", "application/json", `{"to":"`+to+`"}`); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", to, resp.StatusCode, b)
		}
	}
	done := `{"to":"done","text":"阀井处检测到燃气，浓度 2%LEL","position":{"lon":117.2605,"lat":31.8405}}`
	if resp, b := send(t, "POST", ts.URL+"/api/v1/tasks/"+task+"/advance", "role:responder", "application/json", done); resp.StatusCode != 200 {
		t.Fatalf("done: %d %s", resp.StatusCode, b)
	}
	var rsp struct {
		Response struct {
			Tasks []struct{ ID, State, Note string }
		}
	}
	getJSON(t, ts.URL+"/api/v1/incidents"+id+"/response", "operator", &rsp)
	if len(rsp.Response.Tasks) != 1 || rsp.Response.Tasks[0].State != "done" || !strings.Contains(rsp.Response.Tasks[0].Note, "检测到燃气") {
		t.Fatalf("the operator sees %+v", rsp.Response)
	}
	step(t, ts.URL, id+"/verify", "operator", `{"outcome":"confirmed","reason":"现场核查属实"}`, 200)
}
