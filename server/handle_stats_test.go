package server

import (
	"strings"
	"testing"

	"github.com/onemap/onemap/incident/stats"
)

// Two gas alarms, one confirmed and warned of, one a false alarm: the
// counts, the false-alarm rate and the times to each step.
func TestStats(t *testing.T) {
	ts, _ := wsServer(t, Options{})
	publishOne(t, ts)
	postReadings(t, ts, reading(8, 60, 10))
	in, _ := step(t, ts.URL, "", "operator", `{"alarms":[2]}`, 201)
	step(t, ts.URL, "/"+in.ID+"/verify", "operator", `{"outcome":"false_alarm","cause":"sensor_fault"}`, 200)

	var counts stats.Counts
	getJSON(t, ts.URL+"/api/v1/stats/alarms?by=domain", "viewer", &counts)
	if counts.Total != 2 || len(counts.Series) != 1 || counts.Series[0].Key != "gas" || len(counts.Periods) != 30 {
		t.Errorf("alarm counts %+v", counts)
	}
	getJSON(t, ts.URL+"/api/v1/stats/incidents?group_by=month", "viewer", &counts)
	if counts.Total != 2 || len(counts.Periods) != 12 {
		t.Errorf("incident counts %+v", counts)
	}
	var rates stats.Rates
	getJSON(t, ts.URL+"/api/v1/stats/false-alarms?by=sensor_kind", "viewer", &rates)
	if len(rates.Rows) != 1 || rates.Rows[0].Key != "combustible_gas" || rates.Rows[0].False != 1 || rates.Rows[0].Verified != 2 ||
		rates.Rows[0].Rate == nil || *rates.Rows[0].Rate != 0.5 || rates.Rows[0].Causes["sensor_fault"] != 1 {
		t.Errorf("rates %+v", rates)
	}
	getJSON(t, ts.URL+"/api/v1/stats/false-alarms?by=rule", "viewer", &rates)
	if len(rates.Rows) != 1 || !strings.HasPrefix(rates.Rows[0].Key, "ch4_lel") {
		t.Errorf("rates by rule %+v", rates.Rows)
	}
	var durs stats.Durations
	getJSON(t, ts.URL+"/api/v1/stats/durations", "viewer", &durs)
	if durs.Total.Verify.Count != 2 || durs.Total.Publish.Count != 1 {
		t.Errorf("durations %+v", durs.Total)
	}
	for _, q := range []string{"alarms?group_by=week", "alarms?by=colour", "false-alarms?by=moon", "durations?from=yesterday", "alarms?group_by=day&from=2020-01-01"} {
		if resp, b := send(t, "GET", ts.URL+"/api/v1/stats/"+q, "role:viewer", "", ""); resp.StatusCode != 400 {
			t.Errorf("%s: %d %s", q, resp.StatusCode, b)
		}
	}
}
