package stats

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/live"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrQuery) {
		t.Fatalf("error %v, want code %s", err, want)
	}
	if e.Code != want {
		t.Fatalf("code %s (%v), want %s", e.Code, err, want)
	}
}

func TestCountAlarmsByDayShanghai(t *testing.T) {
	alarms := []Alarm{
		{ID: 1, Domain: "gas", Started: at("2026-12-02T16:30:00Z")}, // 2026-12-03 00:30 local
		{ID: 2, Domain: "gas", Started: at("2026-12-02T15:59:59Z")}, // 2026-12-02 23:59:59 local
		{ID: 3, Domain: "water", Started: at("2026-12-03T15:59:59Z")},
		{ID: 4, Domain: "water", Started: at("2026-12-03T16:00:00Z")}, // 12-04 local, past to
		{ID: 5, Domain: "gas", Started: at("2026-11-30T15:59:59Z")},   // before from
	}
	q := Query{GroupBy: Day, From: at("2026-11-30T16:00:00Z"), To: at("2026-12-03T16:00:00Z")}
	c, err := CountAlarms(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"2026-12-01", "2026-12-02", "2026-12-03"}; !reflect.DeepEqual(c.Periods, want) {
		t.Fatalf("periods %v, want %v", c.Periods, want)
	}
	want := []Series{{Key: All, Counts: []int{0, 1, 2}, Total: 3}}
	if !reflect.DeepEqual(c.Series, want) || c.Total != 3 || c.Zone != "Asia/Shanghai" {
		t.Fatalf("got %+v", c)
	}

	q.By = ByDomain
	c, err = CountAlarms(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	want = []Series{{Key: "gas", Counts: []int{0, 1, 1}, Total: 2}, {Key: "water", Counts: []int{0, 0, 1}, Total: 1}}
	if !reflect.DeepEqual(c.Series, want) {
		t.Fatalf("by domain %+v, want %+v", c.Series, want)
	}

	// In UTC the first alarm is on 2026-12-02, and the fourth on 2026-12-03.
	q.By, q.Loc = ByNone, time.UTC
	q.From, q.To = at("2026-12-02T00:00:00Z"), at("2026-12-04T00:00:00Z")
	c, err = CountAlarms(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{2, 2}; !reflect.DeepEqual(c.Series[0].Counts, want) || c.Zone != "UTC" {
		t.Fatalf("utc %v %v, want %v", c.Periods, c.Series[0].Counts, want)
	}
}

func TestCountPartialPeriods(t *testing.T) {
	// from and to inside a period: the periods cover them, the counts only [from, to).
	alarms := []Alarm{
		{Started: at("2026-01-15T00:00:00+08:00")},
		{Started: at("2026-01-20T00:00:00+08:00")},
		{Started: at("2026-03-10T00:00:00+08:00")},
		{Started: at("2026-03-20T00:00:00+08:00")},
	}
	q := Query{GroupBy: Month, From: at("2026-01-16T00:00:00+08:00"), To: at("2026-03-15T00:00:00+08:00")}
	c, err := CountAlarms(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Periods, []string{"2026-01", "2026-02", "2026-03"}) || !reflect.DeepEqual(c.Series[0].Counts, []int{1, 0, 1}) {
		t.Fatalf("got %v %v", c.Periods, c.Series[0].Counts)
	}
}

func TestCountByLevelAndYear(t *testing.T) {
	alarms := []Alarm{
		{Level: 2, Started: at("2025-12-31T16:00:00Z")}, // 2026-01-01 local
		{Level: 1, Started: at("2025-12-31T15:00:00Z")}, // 2025 local
		{Level: 2, Started: at("2024-06-01T00:00:00Z")},
		{Level: 0, Started: at("2026-06-01T00:00:00Z")},
		{Level: 7, Started: at("2026-06-01T00:00:00Z")},
	}
	q := Query{GroupBy: Year, By: ByLevel, From: at("2024-01-01T00:00:00+08:00"), To: at("2027-01-01T00:00:00+08:00")}
	c, err := CountAlarms(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []Series{
		{Key: "1", Counts: []int{0, 1, 0}, Total: 1},
		{Key: "2", Counts: []int{1, 0, 1}, Total: 2},
		{Key: Unknown, Counts: []int{0, 0, 2}, Total: 2},
	}
	if !reflect.DeepEqual(c.Periods, []string{"2024", "2025", "2026"}) || !reflect.DeepEqual(c.Series, want) {
		t.Fatalf("got %v %+v", c.Periods, c.Series)
	}
}

func TestCountIncidentsByDistrict(t *testing.T) {
	incs := []Incident{
		{ID: "A", District: "玄武区", Opened: at("2026-12-02T16:30:00Z")},
		{ID: "B", District: "", Opened: at("2026-12-03T01:00:00Z")},
		{ID: "C", District: "鼓楼区", Opened: at("2026-12-01T01:00:00Z")},
		{ID: "D", District: "unknown", Opened: at("2026-12-01T01:00:00Z")},
	}
	q := Query{GroupBy: Day, By: ByDistrict, From: at("2026-12-01T00:00:00+08:00"), To: at("2026-12-04T00:00:00+08:00")}
	c, err := CountIncidents(incs, q)
	if err != nil {
		t.Fatal(err)
	}
	want := []Series{
		{Key: "玄武区", Counts: []int{0, 0, 1}, Total: 1},
		{Key: "鼓楼区", Counts: []int{1, 0, 0}, Total: 1},
		{Key: Unknown, Counts: []int{1, 0, 1}, Total: 2},
	}
	if !reflect.DeepEqual(c.Series, want) || c.Total != 4 {
		t.Fatalf("got %+v", c.Series)
	}
}

func TestCountEmpty(t *testing.T) {
	q := Query{GroupBy: Day, From: at("2026-12-01T00:00:00+08:00"), To: at("2026-12-03T00:00:00+08:00")}
	c, err := CountAlarms(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Series, []Series{{Key: All, Counts: []int{0, 0}}}) || c.Total != 0 {
		t.Fatalf("got %+v", c)
	}
	q.By = ByDomain
	c, err = CountIncidents(nil, q)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	if !strings.Contains(string(b), `"series":[]`) || len(c.Periods) != 2 {
		t.Fatalf("got %s", b)
	}
}

func TestQueryRefused(t *testing.T) {
	from := at("2026-01-01T00:00:00+08:00")
	cases := []struct {
		q    Query
		code string
	}{
		{Query{GroupBy: "week", From: from, To: from.Add(time.Hour)}, CodeBadPeriod},
		{Query{GroupBy: "", From: from, To: from.Add(time.Hour)}, CodeBadPeriod},
		{Query{GroupBy: Day, By: "sensor", From: from, To: from.Add(time.Hour)}, CodeBadGroup},
		{Query{GroupBy: Day, From: from}, CodeBadRange},
		{Query{GroupBy: Day, From: from, To: from}, CodeBadRange},
		{Query{GroupBy: Day, From: from, To: from.Add(-time.Hour)}, CodeBadRange},
		{Query{GroupBy: Day, From: from, To: from.AddDate(0, 0, MaxDays+1)}, CodeBadRange},
		{Query{GroupBy: Month, From: from, To: from.AddDate(0, MaxMonths+1, 0)}, CodeBadRange},
		{Query{GroupBy: Year, From: from, To: from.AddDate(MaxYears+1, 0, 0)}, CodeBadRange},
		{Query{GroupBy: Year, From: at("1800-01-01T00:00:00Z"), To: from}, CodeBadRange},
	}
	for _, c := range cases {
		if _, err := CountAlarms(nil, c.q); err == nil {
			t.Errorf("%+v accepted", c.q)
		} else {
			code(t, err, c.code)
		}
	}
	// the bounds themselves are accepted
	for _, q := range []Query{
		{GroupBy: Day, From: from, To: from.AddDate(0, 0, MaxDays)},
		{GroupBy: Month, From: from, To: from.AddDate(0, MaxMonths, 0)},
		{GroupBy: Year, From: from, To: from.AddDate(MaxYears, 0, 0)},
	} {
		if err := q.Validate(); err != nil {
			t.Errorf("%+v: %v", q, err)
		}
	}
}

func f(v float64) *float64 { return &v }

func TestFalseAlarmRates(t *testing.T) {
	t0 := at("2026-12-01T00:00:00Z")
	alarms := []Alarm{
		{Sensor: 1, SensorKind: "ch4_detector", Rule: "ch4_lel", Started: t0, Verified: true, FalseAlarm: true, Cause: "sensor_fault"},
		{Sensor: 1, SensorKind: "ch4_detector", Rule: "ch4_lel", Started: t0, FalseAlarm: true, Cause: "maintenance"},
		{Sensor: 1, SensorKind: "ch4_detector", Rule: "ch4_lel", Started: t0, Verified: true},
		{Sensor: 2, SensorKind: "ch4_detector", Rule: "ch4_lel@hazard/restaurant", Started: t0, Verified: true},
		{Sensor: 2, SensorKind: "ch4_detector", Rule: "ch4_lel@hazard/restaurant", Started: t0}, // not verified
		{Sensor: 3, SensorKind: "level_gauge", Started: t0, Verified: true, FalseAlarm: true},
		{Sensor: 3, SensorKind: "level_gauge", Started: t0.AddDate(0, 1, 0), FalseAlarm: true}, // past to
	}
	q := RateQuery{By: BySensorKind, From: t0, To: t0.AddDate(0, 0, 7)}
	r, err := FalseAlarmRates(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	wantTotal := Rate{Key: All, Alarms: 6, Verified: 5, False: 3, Rate: f(0.6),
		Causes: map[string]int{"sensor_fault": 1, "maintenance": 1, Unknown: 1}}
	if !reflect.DeepEqual(r.Total, wantTotal) {
		t.Fatalf("total %+v, want %+v", r.Total, wantTotal)
	}
	want := []Rate{
		{Key: "ch4_detector", Alarms: 5, Verified: 4, False: 2, Rate: f(0.5), Causes: map[string]int{"sensor_fault": 1, "maintenance": 1}},
		{Key: "level_gauge", Alarms: 1, Verified: 1, False: 1, Rate: f(1), Causes: map[string]int{Unknown: 1}},
	}
	if !reflect.DeepEqual(r.Rows, want) || r.Groups != 2 {
		t.Fatalf("rows %+v", r.Rows)
	}

	q.By = ByRule
	r, err = FalseAlarmRates(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(rs []Rate) (ks []string) {
		for _, x := range rs {
			ks = append(ks, x.Key)
		}
		return ks
	}
	if got := keys(r.Rows); !reflect.DeepEqual(got, []string{"ch4_lel", Unknown, "ch4_lel@hazard/restaurant"}) {
		t.Fatalf("rule rows %v", got)
	}
	if last := r.Rows[2]; last.Verified != 1 || last.False != 0 || *last.Rate != 0 {
		t.Fatalf("restaurant rule %+v", last)
	}

	q.By, q.Limit = BySensor, 2
	r, err = FalseAlarmRates(alarms, q)
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(r.Rows); !reflect.DeepEqual(got, []string{"1", "3"}) || r.Groups != 3 {
		t.Fatalf("sensor rows %v groups %d", got, r.Groups)
	}

	// ties in sensor id order
	r, err = FalseAlarmRates([]Alarm{{Sensor: 10, Started: t0}, {Sensor: 9, Started: t0}, {Sensor: 100, Started: t0}}, RateQuery{By: BySensor, From: q.From, To: q.To})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(r.Rows); !reflect.DeepEqual(got, []string{"9", "10", "100"}) {
		t.Fatalf("tied sensors %v", got)
	}

	// a group with nothing verified has a null rate
	r, err = FalseAlarmRates([]Alarm{{Sensor: 9, Started: t0}}, q)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r.Rows[0])
	if string(b) != `{"key":"9","alarms":1,"verified":0,"false":0,"rate":null}` {
		t.Fatalf("json %s", b)
	}

	r, err = FalseAlarmRates(nil, q)
	if err != nil || len(r.Rows) != 0 || r.Total.Rate != nil || r.Groups != 0 {
		t.Fatalf("empty: %+v %v", r, err)
	}
}

func TestRateQueryRefused(t *testing.T) {
	t0 := at("2026-12-01T00:00:00Z")
	cases := []struct {
		q    RateQuery
		code string
	}{
		{RateQuery{By: "", From: t0, To: t0.Add(time.Hour)}, CodeBadGroup},
		{RateQuery{By: ByDomain, From: t0, To: t0.Add(time.Hour)}, CodeBadGroup},
		{RateQuery{By: BySensor, From: t0}, CodeBadRange},
		{RateQuery{By: BySensor, From: t0, To: t0.Add(MaxSpan + time.Second)}, CodeBadRange},
		{RateQuery{By: BySensor, From: t0, To: t0.Add(time.Hour), Limit: -1}, CodeBadLimit},
		{RateQuery{By: BySensor, From: t0, To: t0.Add(time.Hour), Limit: MaxLimit + 1}, CodeBadLimit},
	}
	for _, c := range cases {
		_, err := FalseAlarmRates(nil, c.q)
		code(t, err, c.code)
	}
}

func TestPercentileNearestRank(t *testing.T) {
	s := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Second
		}
		return out
	}
	d := s(15, 20, 35, 40, 50)
	for _, c := range []struct {
		p    float64
		want int
	}{{0, 15}, {5, 15}, {20, 15}, {30, 20}, {40, 20}, {50, 35}, {90, 50}, {100, 50}} {
		if got := Percentile(d, c.p); got != time.Duration(c.want)*time.Second {
			t.Errorf("p%v = %v, want %ds", c.p, got, c.want)
		}
	}
	ten := s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
	if Percentile(ten, 50) != 5*time.Second || Percentile(ten, 90) != 9*time.Second {
		t.Errorf("1..10: p50 %v p90 %v", Percentile(ten, 50), Percentile(ten, 90))
	}
	if Percentile(s(7), 90) != 7*time.Second || Percentile(nil, 50) != 0 {
		t.Error("one value or none")
	}
}

func TestStepDurations(t *testing.T) {
	t0 := at("2026-12-01T00:00:00Z")
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	var incs []Incident
	// gas, level 2: verified after 1..10 minutes
	for m := 1; m <= 10; m++ {
		incs = append(incs, Incident{ID: "g", Domain: "gas", Level: 2, Opened: t0, Verified: min(m)})
	}
	incs = append(incs,
		Incident{ID: "w1", Domain: "water", Level: 1, Opened: t0, Verified: min(2), Published: min(20), Receipt: min(21), Resolved: min(120)},
		Incident{ID: "w2", Domain: "water", Level: 1, Opened: t0, Verified: min(4), Published: min(40), Receipt: min(43), Resolved: min(60)},
		Incident{ID: "bad", Domain: "water", Opened: min(30), Verified: min(10)},             // verified before opened: left out
		Incident{ID: "late", Domain: "water", Opened: t0.AddDate(0, 0, 8), Verified: min(1)}, // past to
	)
	q := DurationQuery{By: ByDomain, From: t0, To: t0.AddDate(0, 0, 7)}
	d, err := StepDurations(incs, q)
	if err != nil {
		t.Fatal(err)
	}
	if d.Total.Incidents != 13 || d.Total.Verify != (Summary{Count: 12, P50: 240, P90: 540}) {
		t.Fatalf("total %+v", d.Total)
	}
	if len(d.Groups) != 2 {
		t.Fatalf("groups %+v", d.Groups)
	}
	gas, water := d.Groups[0], d.Groups[1]
	if gas.Key != "gas" || gas.Verify != (Summary{Count: 10, P50: 300, P90: 540}) || gas.Publish != (Summary{}) {
		t.Fatalf("gas %+v", gas)
	}
	wantWater := Times{Key: "water", Incidents: 3,
		Verify:  Summary{Count: 2, P50: 120, P90: 240},
		Publish: Summary{Count: 2, P50: 1200, P90: 2400},
		Receipt: Summary{Count: 2, P50: 60, P90: 180},
		Resolve: Summary{Count: 2, P50: 3600, P90: 7200}}
	if water != wantWater {
		t.Fatalf("water %+v, want %+v", water, wantWater)
	}

	q.By = ByLevel
	d, err = StepDurations(incs, q)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, g := range d.Groups {
		ks = append(ks, g.Key)
	}
	if !reflect.DeepEqual(ks, []string{"1", "2", Unknown}) {
		t.Fatalf("level keys %v", ks)
	}

	d, err = StepDurations(nil, DurationQuery{From: t0, To: t0.Add(time.Hour)})
	if err != nil || d.Total.Incidents != 0 || d.Total.Verify != (Summary{}) || len(d.Groups) != 0 {
		t.Fatalf("empty %+v %v", d, err)
	}
	_, err = StepDurations(nil, DurationQuery{By: ByRule, From: t0, To: t0.Add(time.Hour)})
	code(t, err, CodeBadGroup)
	_, err = StepDurations(nil, DurationQuery{From: t0.Add(time.Hour), To: t0})
	code(t, err, CodeBadRange)
}

func TestFromLiveAndRuleID(t *testing.T) {
	cl := at("2026-12-01T01:00:00Z")
	a := &live.Alarm{ID: 7, Sensor: 17, Metric: "ch4_lel", Domain: live.Gas, District: "玄武区",
		Level: 2, MaxLevel: 1, Started: at("2026-12-01T00:00:00Z"), Cleared: &cl,
		Acks: []live.Ack{{By: "wang", At: at("2026-12-01T00:05:00Z")}, {By: "li", At: at("2026-12-01T00:09:00Z")}}}
	got := FromLive(a, "ch4_detector", "ch4_lel")
	want := Alarm{ID: 7, Sensor: 17, SensorKind: "ch4_detector", Metric: "ch4_lel", Rule: "ch4_lel", Domain: "gas",
		District: "玄武区", Level: 1, Started: a.Started, Cleared: cl, Acked: at("2026-12-01T00:05:00Z")}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	rs := live.DefaultRules()
	if id := RuleID(rs.Lookup("ch4_lel", "hazard", "restaurant", 17)); id != "ch4_lel@hazard/restaurant" {
		t.Errorf("restaurant rule %q", id)
	}
	if id := RuleID(rs.Lookup("ch4_lel", "gas_pipe", "", 17)); id != "ch4_lel" {
		t.Errorf("base rule %q", id)
	}
	if id := RuleID(rs.Lookup("pressure", "gas_pipe", "", 17)); id != "pressure@gas_pipe" {
		t.Errorf("layer rule %q", id)
	}
	if id := RuleID(&live.Rule{Metric: "ch4_lel", Sensor: 17}); id != "ch4_lel#17" {
		t.Errorf("sensor rule %q", id)
	}
	if RuleID(nil) != "" {
		t.Error("nil rule")
	}
}

func TestFromIncident(t *testing.T) {
	t0 := at("2026-12-01T00:00:00Z")
	w := &incident.Warning{Level: incident.LevelII, Type: "gas_leak", Time: t0, Location: "长江路 18 号"}
	evs := []incident.Event{
		{Incident: "A", To: incident.Verifying, Alarms: []uint64{7}},
		{Incident: "A", To: incident.Confirmed},
		{Incident: "A", To: incident.WarningDraft, Warning: w},
		{Incident: "A", To: incident.InReview},
		{Incident: "A", To: incident.InReview, Who: "li"},
		{Incident: "A", To: incident.Signed, Who: "li"},
		{Incident: "A", To: incident.Published},
		{Incident: "A", To: incident.Published, Warning: &incident.Warning{Level: incident.LevelI, Type: "gas_leak", Time: t0, Location: "长江路 18 号"}},
		{Incident: "A", To: incident.Responding},
		{Incident: "A", To: incident.Resolved},
		{Incident: "A", To: incident.Released},
		{Incident: "A", To: incident.Archived},
	}
	for i := range evs {
		evs[i].At = t0.Add(time.Duration(i) * time.Minute)
		if evs[i].Who == "" {
			evs[i].Who = "wang"
		}
	}
	in, err := incident.Rebuild(evs)
	if err != nil {
		t.Fatal(err)
	}
	got := FromIncident(in, evs)
	m := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	want := Incident{ID: "A", Opened: t0, Verified: m(1), Published: m(6), Resolved: m(9), Released: m(10), Archived: m(11),
		Level: 1, Outcome: "confirmed"}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestJSONFieldNames(t *testing.T) {
	q := Query{GroupBy: Month, By: ByLevel, From: at("2026-11-01T00:00:00+08:00"), To: at("2027-01-01T00:00:00+08:00")}
	c, err := CountAlarms([]Alarm{{Level: 1, Started: at("2026-12-02T16:30:00Z")}}, q)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"group_by":"month","by":"level","from":"2026-11-01T00:00:00+08:00","to":"2027-01-01T00:00:00+08:00","zone":"Asia/Shanghai",` +
		`"periods":["2026-11","2026-12"],"series":[{"key":"1","counts":[0,1],"total":1}],"total":1}`
	if string(b) != want {
		t.Fatalf("json\n%s\nwant\n%s", b, want)
	}
}

func TestTooManyGroups(t *testing.T) {
	t0 := at("2026-12-01T00:00:00Z")
	as := make([]Alarm, MaxGroups+1)
	for i := range as {
		as[i] = Alarm{Sensor: uint64(i + 1), District: strconv.Itoa(i), Started: t0}
	}
	_, err := CountAlarms(as, Query{GroupBy: Day, By: ByDistrict, From: t0, To: t0.Add(time.Hour)})
	code(t, err, CodeTooMany)
	_, err = FalseAlarmRates(as, RateQuery{By: BySensor, From: t0, To: t0.Add(time.Hour)})
	code(t, err, CodeTooMany)
	// exactly MaxGroups is accepted
	c, err := CountAlarms(as[:MaxGroups], Query{GroupBy: Day, By: ByDistrict, From: t0, To: t0.Add(time.Hour)})
	if err != nil || len(c.Series) != MaxGroups {
		t.Fatalf("%v", err)
	}
}

func TestQueryJSON(t *testing.T) {
	var q Query
	if err := json.Unmarshal([]byte(`{"group_by":"month","by":"level","from":"2026-01-01T00:00:00+08:00","to":"2027-01-01T00:00:00+08:00"}`), &q); err != nil {
		t.Fatal(err)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}
	c, err := CountIncidents(nil, q)
	if err != nil || len(c.Periods) != 12 || c.Periods[11] != "2026-12" {
		t.Fatalf("%v %v", c, err)
	}
}
