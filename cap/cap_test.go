package cap

import (
	"bytes"
	"encoding/xml"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

var cst = time.FixedZone("CST", 8*3600)

func sample() incident.Warning {
	return incident.Warning{Version: 1, Level: incident.LevelII, Type: "gas_leak",
		Time: time.Date(2026, 5, 12, 6, 20, 0, 0, time.UTC), Location: "长江路 18 号",
		Area:         geojson.NewGeometry(orb.Polygon{{{118.78, 32.04}, {118.79, 32.04}, {118.79, 32.05}}}),
		Surroundings: "150 m 内有 2 所学校、约 3,400 人", Instructions: "请勿使用明火",
		SurroundingsEn: "2 schools and about 3,400 people within 150 m", InstructionsEn: "No open flames"}
}

func opts() Options {
	return Options{Identifier: "onemap-A-1", Sender: "onemap@city.example.gov.cn",
		Sent: time.Date(2026, 5, 12, 14, 28, 5, 123e6, cst), Incident: "A", Event: [2]string{"燃气泄漏", "gas leak"},
		Circles: []Circle{{Center: orb.Point{118.785, 32.045}, RadiusKm: 0.15}}}
}

// children lists the local names of the direct children of the element
// named parent, each time it occurs.
func children(t *testing.T, doc []byte, parent string) [][]string {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(doc))
	var out [][]string
	depth, in := 0, -1
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case xml.StartElement:
			depth++
			if v.Name.Space != Namespace {
				t.Fatalf("element %s in namespace %q", v.Name.Local, v.Name.Space)
			}
			if in >= 0 && depth == in+1 {
				out[len(out)-1] = append(out[len(out)-1], v.Name.Local)
			}
			if v.Name.Local == parent {
				in = depth
				out = append(out, nil)
			}
		case xml.EndElement:
			if depth == in {
				in = -1
			}
			depth--
		}
	}
	return out
}

func TestElementOrder(t *testing.T) {
	a, err := Build(sample(), opts())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(doc, []byte(`<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">`)) {
		t.Fatalf("root: %s", doc[:200])
	}
	alert := children(t, doc, "alert")
	want := []string{"identifier", "sender", "sent", "status", "msgType", "scope", "incidents", "info", "info"}
	if !reflect.DeepEqual(alert[0], want) {
		t.Errorf("alert children %v, want %v", alert[0], want)
	}
	info := children(t, doc, "info")
	wantInfo := []string{"language", "category", "category", "event", "urgency", "severity", "certainty", "effective",
		"headline", "description", "instruction", "area"}
	for i, got := range info {
		if !reflect.DeepEqual(got, wantInfo) {
			t.Errorf("info %d children %v, want %v", i, got, wantInfo)
		}
	}
	if got := children(t, doc, "area")[0]; !reflect.DeepEqual(got, []string{"areaDesc", "polygon", "circle"}) {
		t.Errorf("area children %v", got)
	}
	var back Alert
	if err := xml.Unmarshal(doc, &back); err != nil {
		t.Fatal(err)
	}
	if back.Sent != "2026-05-12T14:28:05+08:00" || back.Status != "Actual" || back.Scope != "Public" || back.MsgType != "Alert" {
		t.Errorf("alert %+v", back)
	}
	zh, en := back.Infos[0], back.Infos[1]
	if zh.Language != "zh-CN" || en.Language != "en" || zh.Severity != "Severe" || zh.Urgency != "Immediate" || zh.Certainty != "Observed" {
		t.Errorf("info %+v", zh)
	}
	if zh.Effective != "2026-05-12T14:20:00+08:00" || zh.Event != "燃气泄漏" || en.Event != "gas leak" {
		t.Errorf("effective %s event %s / %s", zh.Effective, zh.Event, en.Event)
	}
	if !reflect.DeepEqual(zh.Category, []string{"Safety", "Infra"}) {
		t.Errorf("category %v", zh.Category)
	}
	// the ring given open is closed, lat first
	if p := zh.Areas[0].Polygons[0]; p != "32.04,118.78 32.04,118.79 32.05,118.79 32.04,118.78" {
		t.Errorf("polygon %q", p)
	}
	if c := zh.Areas[0].Circles[0]; c != "32.045,118.785 0.15" {
		t.Errorf("circle %q", c)
	}
}

func TestSeverityAndTimes(t *testing.T) {
	for l, s := range map[incident.Level]string{1: "Extreme", 2: "Severe", 3: "Moderate", 4: "Minor", 0: "Unknown"} {
		if Severity(l) != s {
			t.Errorf("level %d: %s", l, Severity(l))
		}
	}
	if got := FormatTime(time.Date(2026, 1, 2, 3, 4, 5, 999e6, time.UTC)); got != "2026-01-02T03:04:05-00:00" {
		t.Errorf("UTC: %s", got)
	}
	for _, bad := range []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05.5+08:00", "2026-01-02 03:04:05+08:00"} {
		if err := checkTime("sent", bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestUpdateAndCancelReferences(t *testing.T) {
	first := opts()
	o := opts()
	o.Identifier, o.MsgType = "onemap-A-2", "Update"
	if _, err := Build(sample(), o); !errors.Is(err, ErrInvalid) {
		t.Fatalf("update without references: %v", err)
	}
	o.References = []Ref{{Sender: first.Sender, Identifier: first.Identifier, Sent: first.Sent},
		{Sender: first.Sender, Identifier: "onemap-A-0", Sent: time.Date(2026, 5, 12, 6, 0, 0, 0, time.UTC)}}
	a, err := Build(sample(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := "onemap@city.example.gov.cn,onemap-A-1,2026-05-12T14:28:05+08:00 onemap@city.example.gov.cn,onemap-A-0,2026-05-12T06:00:00-00:00"
	if a.References != want {
		t.Fatalf("references %q", a.References)
	}
	a.MsgType = "Cancel"
	if err := Validate(a); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRefuses(t *testing.T) {
	cases := map[string]func(a *Alert){
		"identifier space": func(a *Alert) { a.Identifier = "a b" },
		"no sender":        func(a *Alert) { a.Sender = "" },
		"status":           func(a *Alert) { a.Status = "Real" },
		"msgType":          func(a *Alert) { a.MsgType = "Warning" },
		"scope":            func(a *Alert) { a.Scope = "Everyone" },
		"reference":        func(a *Alert) { a.References = "x,y" },
		"category":         func(a *Alert) { a.Infos[0].Category = []string{"Gas"} },
		"no category":      func(a *Alert) { a.Infos[0].Category = nil },
		"no event":         func(a *Alert) { a.Infos[1].Event = "" },
		"urgency":          func(a *Alert) { a.Infos[0].Urgency = "Now" },
		"severity":         func(a *Alert) { a.Infos[0].Severity = "High" },
		"certainty":        func(a *Alert) { a.Infos[0].Certainty = "Sure" },
		"areaDesc":         func(a *Alert) { a.Infos[0].Areas[0].AreaDesc = "" },
		"open polygon":     func(a *Alert) { a.Infos[0].Areas[0].Polygons[0] = "1,2 3,4 5,6 7,8" },
		"short polygon":    func(a *Alert) { a.Infos[0].Areas[0].Polygons[0] = "1,2 3,4 1,2" },
		"lon first":        func(a *Alert) { a.Infos[0].Areas[0].Polygons[0] = "118,32 118,33 119,33 118,32" },
		"circle":           func(a *Alert) { a.Infos[0].Areas[0].Circles[0] = "32,118" },
		"expires":          func(a *Alert) { a.Infos[0].Expires = "tomorrow" },
	}
	for name, spoil := range cases {
		a, err := Build(sample(), opts())
		if err != nil {
			t.Fatal(err)
		}
		spoil(a)
		if err := Validate(a); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := Marshal(a); err == nil {
			t.Errorf("%s: marshalled", name)
		}
	}
	w := sample()
	w.Area = geojson.NewGeometry(orb.Point{118, 32})
	if _, err := Build(w, opts()); !errors.Is(err, ErrInvalid) {
		t.Errorf("a point area: %v", err)
	}
}

func TestAtomFeed(t *testing.T) {
	a, err := Build(sample(), opts())
	if err != nil {
		t.Fatal(err)
	}
	f, err := AtomFeed("urn:onemap:alerts", "当前预警", "onemap", "https://city.example/alerts.atom",
		time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), []*Alert{a}, func(a *Alert) string { return "https://city.example/cap/" + a.Identifier + ".xml" })
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	for _, want := range []string{`<feed xmlns="http://www.w3.org/2005/Atom">`, `<updated>2026-05-12T14:28:05+08:00</updated>`,
		`<link rel="alternate" type="application/cap+xml" href="https://city.example/cap/onemap-A-1.xml">`, "<title>燃气泄漏II级预警：长江路 18 号</title>"} {
		if !strings.Contains(s, want) {
			t.Errorf("feed lacks %s:\n%s", want, s)
		}
	}
}
