package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/onemap/onemap/incident"
)

// step posts body to an incident route as role and decodes the incident
// answered, failing unless the status is want.
func step(t *testing.T, base, path, role, body string, want int) (incident.Incident, string) {
	t.Helper()
	resp, b := send(t, "POST", base+"/api/v1/incidents"+path, "role:"+role, "application/json", body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s as %s: %d %s, want %d", path, role, resp.StatusCode, b, want)
	}
	var out struct {
		Incident incident.Incident
		Allowed  []incident.State
	}
	json.Unmarshal(b, &out)
	return out.Incident, string(b)
}

// TestIncidentLoop walks an alarm through the whole loop over the API,
// as four people do it, with the refusals each one meets on the way.
func TestIncidentLoop(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	postReadings(t, ts, reading(7, 60, 10)) // a level 1 gas alarm
	c := dial(t, ts, "", http.Header{"Cookie": as("viewer")[1:]})
	write(t, c, `{"type":"subscribe","topics":["warnings"],`+nearGAS1+`,"zoom":15}`)
	if snap := read(t, c); snap.Type != "snapshot" {
		t.Fatalf("%+v", snap)
	}

	resp, b := send(t, "GET", ts.URL+"/api/v1/incidents/proposals", "role:operator", "", "")
	var props struct{ Proposals []struct{ Alarms []uint64 } }
	json.Unmarshal(b, &props)
	if resp.StatusCode != 200 || len(props.Proposals) != 1 || len(props.Proposals[0].Alarms) != 1 {
		t.Fatalf("proposals: %d %s", resp.StatusCode, b)
	}
	alarm := props.Proposals[0].Alarms[0]
	open := fmt.Sprintf(`{"alarms":[%d],"reason":"燃气浓度持续上升"}`, alarm)
	step(t, ts.URL, "", "viewer", open, 403)
	in, _ := step(t, ts.URL, "", "operator", open, 201)
	if in.State != incident.Verifying || !strings.HasPrefix(in.ID, "INC-") {
		t.Fatalf("opened %+v", in)
	}
	id := "/" + in.ID
	if _, b := step(t, ts.URL, "", "duty", open, 409); !strings.Contains(b, CodeConflict) {
		t.Errorf("an alarm opened twice: %s", b)
	}
	if resp, b := send(t, "GET", ts.URL+"/api/v1/incidents/proposals", "role:operator", "", ""); !strings.Contains(string(b), `"proposals":[]`) {
		t.Errorf("the alarm is still proposed: %d %s", resp.StatusCode, b)
	}
	if _, b := step(t, ts.URL, id+"/verify", "operator", `{"outcome":"false_alarm"}`, 422); !strings.Contains(b, "bad_cause") {
		t.Errorf("a false alarm without a cause: %s", b)
	}
	step(t, ts.URL, id+"/verify", "operator", `{"outcome":"maybe"}`, 400)
	step(t, ts.URL, id+"/verify", "operator", `{"outcome":"confirmed","reason":"现场检测确认"}`, 200)

	// the analyst drafts from the suggestion
	resp, b = send(t, "GET", ts.URL+"/api/v1/incidents"+id+"/suggestion", "role:analyst", "", "")
	var sug incident.Draft
	if err := json.Unmarshal(b, &sug); err != nil || resp.StatusCode != 200 || !sug.Suggestion.Level.Valid() ||
		!strings.Contains(sug.Suggestion.ReasonZh, "1 级燃气报警") || sug.Warning.Type == "" || sug.Warning.Area == nil {
		t.Fatalf("suggestion: %d %s", resp.StatusCode, b)
	}
	if resp, _ := send(t, "GET", ts.URL+"/api/v1/incidents"+id+"/suggestion", "role:operator", "", ""); resp.StatusCode != 403 {
		t.Errorf("an operator asks for a draft: %d", resp.StatusCode)
	}
	draft, _ := json.Marshal(map[string]any{"warning": sug.Warning, "reason": sug.Suggestion.ReasonZh})
	// signing before anything is drafted is refused, naming the state
	_, b2 := step(t, ts.URL, id+"/sign", "commander", `{}`, 409)
	var bad struct {
		Error struct {
			Code    string
			State   string
			Allowed []string
		}
	}
	json.Unmarshal([]byte(b2), &bad)
	if bad.Error.Code != CodeBadTransition || bad.Error.State != "confirmed" || strings.Join(bad.Error.Allowed, ",") != "warning_draft,responding,merged" {
		t.Errorf("sign while confirmed: %s", b2)
	}
	step(t, ts.URL, id+"/draft", "operator", string(draft), 403)
	// another level than the suggested one needs a reason
	other := sug.Warning
	other.Level = sug.Suggestion.Level%4 + 1
	ob, _ := json.Marshal(map[string]any{"warning": other})
	if _, b := step(t, ts.URL, id+"/draft", "analyst", string(ob), 400); !strings.Contains(b, "suggested level is") {
		t.Errorf("another level without a reason: %s", b)
	}
	in, _ = step(t, ts.URL, id+"/draft", "analyst", string(draft), 200)
	if in.Draft == nil || in.Draft.Suggested != sug.Suggestion.Level || in.Draft.SuggestedWhy != sug.Suggestion.ReasonZh {
		t.Errorf("the draft keeps the suggestion: %+v", in.Draft)
	}
	_, sb := step(t, ts.URL, id+"/submit", "analyst", `{}`, 200)
	if !strings.Contains(sb, `"approval_due":`) || !strings.Contains(sb, `"approval_late":false`) {
		t.Errorf("submitted: %s", sb)
	}
	if _, b := step(t, ts.URL, id+"/review", "analyst", `{"approve":true}`, 403); !strings.Contains(b, CodeOwnDraft) {
		t.Errorf("the drafter reviews: %s", b)
	}
	step(t, ts.URL, id+"/review", "commander", `{"approve":false}`, 400) // sent back without a reason
	step(t, ts.URL, id+"/review", "commander", `{"approve":true,"reason":"同意"}`, 200)
	step(t, ts.URL, id+"/sign", "analyst", `{}`, 403)
	in, _ = step(t, ts.URL, id+"/sign", "commander", `{}`, 200)
	if in.State != incident.Signed || in.Signer != "commander" || in.Reviewer != "commander" {
		t.Fatalf("signed %+v", in)
	}
	in, _ = step(t, ts.URL, id+"/publish", "commander", `{}`, 200)
	if in.State != incident.Published || len(in.Versions) != 1 || in.Versions[0].Drafter != "analyst" {
		t.Fatalf("published %+v", in)
	}

	// the warning reaches the live channel
	for {
		m := read(t, c)
		if len(m.Warnings) == 0 {
			continue
		}
		if w := m.Warnings[0]; w.Incident != in.ID || !w.Standing || w.Warning.Level != int(sug.Warning.Level) || w.Warning.Headline == "" {
			t.Fatalf("warning on the live channel: %+v", w)
		}
		break
	}

	// a re-issue, then the end of the loop
	upd := sug.Warning
	upd.Instructions = "影响范围扩大，请继续疏散"
	ub, _ := json.Marshal(map[string]any{"warning": upd, "reason": "范围扩大"})
	in, _ = step(t, ts.URL, id+"/update", "commander", string(ub), 200)
	if len(in.Versions) != 2 || in.Versions[1].Version != 2 || in.Versions[1].Instructions != upd.Instructions {
		t.Fatalf("re-issued %+v", in.Versions)
	}
	step(t, ts.URL, id+"/respond", "commander", `{}`, 200)
	step(t, ts.URL, id+"/resolve", "commander", `{"reason":"漏点已封堵"}`, 200)
	step(t, ts.URL, id+"/release", "commander", `{}`, 200)
	in, _ = step(t, ts.URL, id+"/archive", "commander", `{}`, 200)
	if in.State != incident.Archived {
		t.Fatalf("archived %+v", in)
	}
	if _, b := step(t, ts.URL, id+"/verify", "operator", `{"outcome":"confirmed"}`, 409); !strings.Contains(b, "nowhere: it is final") {
		t.Errorf("a step after the archive: %s", b)
	}

	// the record holds every step, in order, with who took it
	resp, b = send(t, "GET", ts.URL+"/api/v1/incidents"+id, "role:viewer", "", "")
	var rec struct {
		Incident incident.Incident
		Records  []incident.Record
	}
	json.Unmarshal(b, &rec)
	var steps []string
	for _, r := range rec.Records {
		if r.Kind != incident.KindStep {
			continue
		}
		ev, err := incident.DecodeEvent(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		steps = append(steps, string(ev.To)+" by "+ev.Who+" as "+ev.Role)
	}
	want := "verifying by operator as operator, confirmed by operator as operator, warning_draft by analyst as analyst, " +
		"in_review by analyst as analyst, in_review by commander as commander, signed by commander as commander, " +
		"published by commander as commander, published by commander as commander, responding by commander as commander, " +
		"resolved by commander as commander, released by commander as commander, archived by commander as commander"
	if resp.StatusCode != 200 || strings.Join(steps, ", ") != want {
		t.Errorf("record: %d\n%s\nwant\n%s", resp.StatusCode, strings.Join(steps, ", "), want)
	}
	resp, b = send(t, "GET", ts.URL+"/api/v1/incidents?state=archived", "role:viewer", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), in.ID) {
		t.Errorf("list: %d %s", resp.StatusCode, b)
	}
	if resp, _ := send(t, "GET", ts.URL+"/api/v1/incidents?state=done", "role:viewer", "", ""); resp.StatusCode != 400 {
		t.Errorf("an unknown state: %d", resp.StatusCode)
	}
}

// A user who both drafts and signs may not sign their own draft.
func TestNobodySignsTheirOwnDraft(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	postReadings(t, ts, reading(7, 30, 10))
	in, _ := step(t, ts.URL, "", "operator", `{"alarms":[1]}`, 201)
	id := "/" + in.ID
	step(t, ts.URL, id+"/verify", "operator", `{"outcome":"confirmed"}`, 200)
	resp, b := send(t, "GET", ts.URL+"/api/v1/incidents"+id+"/suggestion", "role:lead", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("suggestion: %d %s", resp.StatusCode, b)
	}
	var sug incident.Draft
	json.Unmarshal(b, &sug)
	draft, _ := json.Marshal(map[string]any{"warning": sug.Warning})
	step(t, ts.URL, id+"/draft", "lead", string(draft), 200)
	step(t, ts.URL, id+"/submit", "lead", `{}`, 200)
	step(t, ts.URL, id+"/review", "commander", `{"approve":true}`, 200)
	if _, b := step(t, ts.URL, id+"/sign", "lead", `{}`, 403); !strings.Contains(b, CodeOwnDraft) {
		t.Errorf("the drafter signs: %s", b)
	}
	step(t, ts.URL, id+"/sign", "commander", `{}`, 200)
}
