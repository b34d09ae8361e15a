package live

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
)

func TestParseRulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		line       int
		reason     string
	}{
		{"Empty", "", 1, "empty"},
		{"Syntax", "{\n\"rules\": [\n{\"metric\": \"o2\",,}\n]}", 3, "invalid character"},
		{"Truncated", "{\n\"rules\": [\n{\"metric\": \"o2\"", 3, "unexpected end"},
		{"NoRules", `{}`, 1, "no \"rules\""},
		{"UnknownTopField", "{\n\"rules\": [],\n\"ruels\": []\n}", 3, `unknown field "ruels"`},
		{"UnknownField", "{\"rules\": [\n{\"metric\": \"o2\",\n\"levels\": [],\n\"hysterisis\": 1}\n]}", 4, `unknown field "hysterisis"`},
		{"UnknownLevelField", "{\"rules\": [\n{\"metric\": \"o2\", \"levels\": [\n{\"level\": 1,\n \"hi\": 3}]}]}", 4, `unknown field "hi"`},
		{"WrongType", "{\"rules\": [\n{\"metric\": \"o2\",\n\"hysteresis\": \"1\"}]}", 3, "hysteresis"},
		{"UnknownMetric", "{\"rules\": [\n{\"metric\": \"o2\", \"levels\": []},\n{\"metric\": \"co2\",\n\"levels\": []}]}", 3, `unknown metric "co2"`},
		{"NoMetric", "{\"rules\": [\n{\"levels\": []}]}", 2, "without a metric"},
		{"LevelsOutOfOrder", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 1, \"high\": 20},\n{\"level\": 2, \"high\": 10}]}]}", 4, "out of order"},
		{"ThresholdsOutOfOrder", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 3, \"high\": 5},\n{\"level\": 2, \"high\": 4}]}]}", 4, "out of order: level 2 high 4 is below level 3's 5"},
		{"LowOutOfOrder", "{\"rules\": [\n{\"metric\": \"o2\", \"levels\": [\n{\"level\": 3, \"low\": 18},\n\n{\"level\": 2, \"low\": 19}]}]}", 5, "low 19 is above"},
		{"DuplicateLevel", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 2, \"high\": 5},\n{\"level\": 2, \"high\": 10}]}]}", 4, "out of order"},
		{"LevelRange", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 5, \"high\": 5}]}]}", 3, "outside 1…4"},
		{"EmptyLevel", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 1}]}]}", 3, "no high, low, drop or rise"},
		{"NegativeHysteresis", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [],\n\"hysteresis\": -1}]}", 3, "hysteresis -1 outside"},
		{"NegativeDuration", "{\"rules\": [\n{\"metric\": \"h2s\",\n\"duration_s\": -5}]}", 3, "duration_s -5 outside"},
		{"HighHuge", "{\"rules\": [\n{\"metric\": \"ch4_lel\", \"levels\": [\n{\"level\": 1, \"high\": 1e308}]}]}", 3, "high 1e+308 is above what ch4_lel can be (2000 %LEL): it would never fire"},
		{"HighMinusHuge", "{\"rules\": [\n{\"metric\": \"ch4_lel\", \"levels\": [\n{\"level\": 1, \"high\": -1e308}]}]}", 3, "it would always fire"},
		{"HighAtMinimum", "{\"rules\": [\n{\"metric\": \"ch4_lel\", \"levels\": [\n{\"level\": 1, \"high\": 0}]}]}", 3, "high 0 is at or below the least ch4_lel can be"},
		{"HighAboveMaxInOtherUnit", "{\"rules\": [\n{\"metric\": \"flow\", \"unit\": \"m/s\", \"levels\": [\n{\"level\": 1, \"high\": 25}]}]}", 3, "above what flow can be (20 m/s)"},
		{"LowBelowMinimum", "{\"rules\": [\n{\"metric\": \"o2\", \"levels\": [\n{\"level\": 1, \"low\": -5}]}]}", 3, "low -5 is at or below the least o2 can be (0 %VOL): it would never fire"},
		{"LowAboveMaximum", "{\"rules\": [\n{\"metric\": \"o2\", \"levels\": [\n{\"level\": 1, \"low\": 101}]}]}", 3, "it would always fire"},
		{"DropBeyondRange", "{\"rules\": [\n{\"metric\": \"pressure\", \"rate_window_s\": 60, \"levels\": [\n{\"level\": 1, \"drop\": 50}]}]}", 3, "drop 50 is more than pressure can move"},
		{"PercentHuge", "{\"rules\": [\n{\"metric\": \"strain\", \"relative_to\": \"design_strain_ue\", \"relative\": \"percent\", \"levels\": [\n{\"level\": 1, \"high\": 1e300}]}]}", 3, "outside ±1e+06"},
		{"DurationHuge", "{\"rules\": [\n{\"metric\": \"h2s\",\n\"duration_s\": 1e18}]}", 3, "duration_s 1e+18 outside 0…2592000 (the retention of 30 days)"},
		{"LevelDurationHuge", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 1, \"high\": 10, \"duration_s\": 2592001}]}]}", 3, "level 1: duration_s 2.592001e+06 outside"},
		{"StuckBeyondRetention", "{\"rules\": [\n{\"metric\": \"h2s\",\n\"stuck_s\": 31536000}]}", 3, "stuck_s 3.1536e+07 outside"},
		{"HysteresisHuge", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [],\n\"hysteresis\": 1e308}]}", 3, "a level could never clear"},
		{"NumberTooBig", "{\"rules\": [\n{\"metric\": \"h2s\", \"levels\": [\n{\"level\": 1, \"high\": 1e999}]}]}", 3, "high"},
		{"RateWithoutWindow", "{\"rules\": [\n{\"metric\": \"pressure\", \"levels\": [\n{\"level\": 1, \"drop\": 0.1}]}]}", 3, "without rate_window_s"},
		{"BadUnit", "{\"rules\": [\n{\"metric\": \"pressure\",\n\"unit\": \"bar\"}]}", 3, `not measured in "bar"`},
		{"BadRelative", "{\"rules\": [\n{\"metric\": \"strain\", \"relative_to\": \"x\",\n\"relative\": \"ratio\"}]}", 3, `unknown relative "ratio"`},
		{"RelativeWithoutAttribute", "{\"rules\": [\n{\"metric\": \"strain\",\n\"relative\": \"percent\"}]}", 3, "without relative_to"},
		{"BadHours", "{\"rules\": [\n{\"metric\": \"leak_noise\", \"levels\": [\n{\"level\": 3, \"high\": 35, \"hours\": [2, 25]}]}]}", 3, "hours"},
		{"BadInstrument", "{\"rules\": [\n{\"metric\": \"o2\",\n\"instrument\": [30, 10]}]}", 3, "instrument range"},
		{"KindWithoutLayer", "{\"rules\": [\n{\"metric\": \"o2\",\n\"kind\": \"x\"}]}", 3, "kind without a layer"},
		{"DuplicateBase", "{\"rules\": [\n{\"metric\": \"o2\"},\n{\"metric\": \"o2\"}]}", 3, `duplicate rule for metric "o2" (first at line 2)`},
		{"DuplicateOverride", "{\"rules\": [\n{\"metric\": \"ch4_lel\", \"layer\": \"hazard\", \"kind\": \"restaurant\"},\n{\"metric\": \"h2s\"},\n\n{\"metric\": \"ch4_lel\", \"layer\": \"hazard\", \"kind\": \"restaurant\"}]}", 5, "duplicate rule for metric \"ch4_lel\" on hazard/restaurant (first at line 2)"},
		{"DuplicateSensor", "{\"rules\": [\n{\"metric\": \"o2\", \"sensor\": 7},\n{\"metric\": \"o2\", \"sensor\": 7}]}", 3, "on sensor 7"},
		{"TrailingText", "{\"rules\": []}\n{}", 2, "text after"},
		{"BadOffset", "{\"utc_offset_h\": 20,\n\"rules\": []}", 1, "utc_offset_h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := ParseRules([]byte(tc.file))
			if err == nil {
				t.Fatalf("accepted: %d rules", len(rs.Rules()))
			}
			var re *RuleError
			if !errors.As(err, &re) || !errors.Is(err, ErrRules) {
				t.Fatalf("%T %v is not a RuleError", err, err)
			}
			if re.Line != tc.line || !strings.Contains(re.Reason, tc.reason) {
				t.Fatalf("got %v, want line %d: …%s…", err, tc.line, tc.reason)
			}
		})
	}
}

func TestRulesWithinRetention(t *testing.T) {
	week := []byte("{\"rules\": [\n{\"metric\": \"h2s\",\n\"duration_s\": 864000}]}")
	if _, err := ParseRules(week); err != nil {
		t.Fatalf("10 days under the default retention: %v", err)
	}
	_, err := ParseRulesWithin(week, 7*24*time.Hour)
	var re *RuleError
	if !errors.As(err, &re) || re.Line != 3 || re.Reason != "duration_s 864000 outside 0…604800 (the retention of 7 days)" {
		t.Fatalf("10 days under a 7-day retention: %v", err)
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * 24 * time.Hour: "30 days", 24 * time.Hour: "1 day", 36 * time.Hour: "36 hours",
		90 * time.Minute: "90 minutes", 1500 * time.Millisecond: "1.5 s", 250 * time.Millisecond: "250 ms",
	} {
		if got := Span(d); got != want {
			t.Errorf("Span(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestLookup(t *testing.T) {
	rs, err := ParseRules([]byte(`{"rules": [
		{"metric": "ch4_lel", "source": "base"},
		{"metric": "ch4_lel", "layer": "hazard", "source": "layer"},
		{"metric": "ch4_lel", "layer": "hazard", "kind": "restaurant", "source": "kind"},
		{"metric": "ch4_lel", "sensor": 42, "source": "sensor"}
	]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		layer, kind string
		sensor      uint64
		want        string
	}{
		{"", "", 0, "base"}, {layers.DrainNode, "manhole", 1, "base"}, {layers.Hazard, "", 1, "layer"},
		{layers.Hazard, "gas_station", 1, "layer"}, {layers.Hazard, "restaurant", 1, "kind"}, {layers.Hazard, "restaurant", 42, "sensor"},
		{"", "", 42, "sensor"},
	} {
		if r := rs.Lookup("ch4_lel", tc.layer, tc.kind, tc.sensor); r == nil || r.Source != tc.want {
			t.Errorf("%s/%s sensor %d: got %v, want %s", tc.layer, tc.kind, tc.sensor, r, tc.want)
		}
	}
	if r := rs.Lookup("o2", "", "", 0); r != nil {
		t.Errorf("a rule for a metric the set lacks: %v", r)
	}
}

// TestDefaultRules checks the embedded rules: they parse, every catalog
// metric has a base rule, each rule cites its source, and the figures of
// the guide's thresholds land where they should.
func TestDefaultRules(t *testing.T) {
	rs := DefaultRules()
	for _, m := range Metrics() {
		if rs.Lookup(m.ID, "", "", 0) == nil {
			t.Errorf("no base rule for %s", m.ID)
		}
	}
	for _, r := range rs.Rules() {
		if !strings.HasPrefix(r.Source, "standard") && !strings.HasPrefix(r.Source, "default") {
			t.Errorf("line %d: source %q says neither standard nor default", r.line, r.Source)
		}
	}
	// metrics the guide grades, by the asset they sit on
	graded := []struct {
		metric, layer, kind string
		levels              int
	}{
		{"ch4_lel", layers.GasNode, "valve", 3}, {"ch4_lel", layers.DrainNode, "manhole", 3}, {"ch4_lel", layers.Hazard, "restaurant", 2},
		{"pressure", layers.GasPipe, "", 3}, {"flow", layers.GasPipe, "", 3}, {"vibration", layers.Hazard, "construction_site", 3},
		{"leak_scan", layers.Hazard, "gas_station", 3}, {"pressure", layers.WaterPipe, "", 3}, {"flow", layers.WaterPipe, "", 3},
		{"leak_noise", layers.WaterPipe, "", 3}, {"pressure", layers.WaterNode, "hydrant", 3}, {"level", layers.DrainNode, "manhole", 3},
		{"water_depth", layers.DrainNode, "waterlogging_point", 3}, {"rainfall", layers.DrainNode, "pump_station", 3},
		{"river_level", layers.Water, "river", 3}, {"h2s", layers.DrainNode, "manhole", 3}, {"pressure", layers.HeatPipe, "", 3},
		{"temperature", layers.HeatPipe, "", 3}, {"flow", layers.HeatPipe, "", 3}, {"strain", layers.Bridge, "", 3},
		{"deflection", layers.Bridge, "", 3}, {"displacement", layers.Bridge, "", 3}, {"tilt", layers.Bridge, "", 3},
		{"cable_force", layers.Bridge, "", 3}, {"crack_width", layers.Bridge, "", 3}, {"frequency", layers.Bridge, "", 3},
		{"vehicle_weight", layers.Bridge, "", 3}, {"wind_speed", layers.Bridge, "", 3}, {"acceleration", layers.Bridge, "", 3},
		{"ch4_vol", layers.UtilityTunnel, "", 3}, {"o2", layers.UtilityTunnel, "", 3}, {"h2s", layers.UtilityTunnel, "", 3},
		{"temperature", layers.UtilityTunnel, "", 3}, {"humidity", layers.UtilityTunnel, "", 2}, {"level", layers.UtilityTunnel, "", 3},
	}
	for _, g := range graded {
		r := rs.Lookup(g.metric, g.layer, g.kind, 0)
		if r == nil || len(r.Levels) != g.levels {
			t.Errorf("%s on %s/%s: %v", g.metric, g.layer, g.kind, r)
		}
	}
	// spot checks against the table
	check := func(metric, layer, kind string, l Level, high, low float64) {
		t.Helper()
		r := rs.Lookup(metric, layer, kind, 0)
		for _, th := range r.Levels {
			if th.Level == l {
				if th.High != high && !(high == 0 && th.High > 1e308) || th.Low != low && !(low == 0 && th.Low < -1e308) {
					t.Errorf("%s %s/%s level %d: high %v low %v", metric, layer, kind, l, th.High, th.Low)
				}
				return
			}
		}
		t.Errorf("%s %s/%s has no level %d", metric, layer, kind, l)
	}
	check("ch4_lel", "", "", 2, 25, 0)
	check("ch4_lel", layers.Hazard, "restaurant", 1, 25, 0)
	check("pressure", layers.WaterPipe, "", 3, 0, 0.14)
	check("pressure", layers.WaterNode, "hydrant", 3, 0, 0.15)
	check("o2", "", "", 3, 23.5, 19.5)
	check("ch4_vol", "", "", 2, 1.0, 0)
	check("water_depth", "", "", 2, 25, 0)
	if r := rs.Lookup("ch4_lel", "", "", 0); r.Levels[2].Duration.Seconds() != 60 || r.Levels[0].Duration != 0 || r.Hysteresis != 2 {
		t.Errorf("ch4_lel durations %v %v, hysteresis %v", r.Levels[2].Duration, r.Levels[0].Duration, r.Hysteresis)
	}
}

// TestSampleCityMetrics checks that every metric the sample city's sensors
// report is in the catalog.
func TestSampleCityMetrics(t *testing.T) {
	for _, id := range []string{"ch4_lel", "ch4_vol", "leak_scan", "pressure", "flow", "leak_noise", "vibration", "level",
		"water_depth", "rainfall", "river_level", "h2s", "o2", "temperature", "humidity", "strain", "deflection",
		"displacement", "tilt", "crack_width", "acceleration", "cable_force", "vehicle_weight", "wind_speed", "battery"} {
		m := LookupMetric(id)
		if m == nil {
			t.Errorf("metric %s is not in the catalog", id)
			continue
		}
		for _, u := range m.Units {
			if !(u.Min <= u.InstMin && u.InstMin < u.InstMax && u.InstMax <= u.Max) {
				t.Errorf("%s in %s: ranges %+v", id, u.Symbol, u)
			}
		}
	}
	if m := LookupMetric("flow"); !m.InRange(3, "m/s") || m.InRange(30, "m/s") || m.InRange(1, "l/s") {
		t.Error("flow ranges")
	}
}

func FuzzParseRules(f *testing.F) {
	f.Add(DefaultRulesJSON())
	f.Add([]byte(`{"rules": [{"metric": "o2", "levels": [{"level": 3, "low": 19.5, "high": 23.5}]}]}`))
	f.Add([]byte(`{"utc_offset_h": 8, "rules": [{"metric": "leak_noise", "levels": [{"level": 3, "high": 35, "hours": [22, 5]}]}]}`))
	f.Add([]byte(`{"rules": [{"metric": "pressure", "rate_window_s": 60, "levels": [{"level": 1, "drop": 0.1}]}]}`))
	f.Add([]byte(`{"rules": [{"metric": "ch4_lel", "levels": [{"level": 1, "high": 1e308}]}]}`))
	f.Add([]byte(`{"rules": [{"metric": "o2", "duration_s": 1e18, "levels": [{"level": 2, "low": 18}, {"level": 1, "low": -1e308}]}]}`))
	f.Add([]byte(`{"rules": [{"metric": "strain", "relative_to": "d", "relative": "percent", "hysteresis": 5, "levels": [{"level": 1, "high": 100}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules(data)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || re.Line < 1 || re.Line > 1+strings.Count(string(data), "\n") {
				t.Fatalf("error %v with a line outside the file", err)
			}
			return
		}
		// every accepted rule makes sense and evaluates without panicking
		for _, r := range rs.Rules() {
			if r.Hysteresis < 0 || r.RateWindow < 0 || r.Stuck < 0 || r.Stuck > DefaultRetention {
				t.Fatalf("rule %+v accepted", r)
			}
			for _, l := range r.Levels {
				if l.Duration < 0 || l.Duration > DefaultRetention || math.IsNaN(l.High) || math.IsNaN(l.Low) {
					t.Fatalf("level %+v accepted", l)
				}
				if m := LookupMetric(r.Metric); r.Relative == Absolute && m != nil {
					u, _ := m.Unit(r.Unit)
					if !math.IsInf(l.High, 1) && (l.High > u.Max || l.High <= u.Min) || !math.IsInf(l.Low, -1) && (l.Low > u.Max || l.Low <= u.Min) {
						t.Fatalf("level %+v of %s accepted beyond [%v, %v]", l, r.Metric, u.Min, u.Max)
					}
				}
			}
			var s State
			for i, v := range []float64{0, 1, -1, 1e9, 0.5} {
				r.Evaluate(&s, Reading{Value: v, Time: t0.Add(seconds(float64(i)))}, map[string]float64{r.RelativeTo: 2})
			}
			r.CheckStale(&s, t0.Add(seconds(1e6)), 0)
		}
	})
}

// The reasons docs/rules.md shows are the ones ParseRules gives.
func TestRulesDocReasons(t *testing.T) {
	files := map[string]string{
		"level 1: high 1e+308 is above what ch4_lel can be (2000 %LEL): it would never fire": `{"rules": [{"metric": "ch4_lel", "levels": [{"level": 1, "high": 1e308}]}]}`,
		"level 1: low -5 is at or below the least o2 can be (0 %VOL): it would never fire":   `{"rules": [{"metric": "o2", "levels": [{"level": 1, "low": -5}]}]}`,
		"level 1: drop 50 is more than pressure can move (10.1): it would never fire":        `{"rules": [{"metric": "pressure", "rate_window_s": 60, "levels": [{"level": 1, "drop": 50}]}]}`,
		"level 1: high 5000 is outside ±10.1: it would never or always fire":                 `{"rules": [{"metric": "pressure", "relative_to": "p", "relative": "difference", "levels": [{"level": 1, "high": 5000}]}]}`,
		"level 1: high 1e+300 is outside ±1e+06: ":                                           `{"rules": [{"metric": "strain", "relative_to": "s", "relative": "percent", "levels": [{"level": 1, "high": 1e300}]}]}`,
		"hysteresis 1e+308 outside 0…10000: a level could never clear":                       `{"rules": [{"metric": "h2s", "hysteresis": 1e308}]}`,
		"duration_s 1e+18 outside 0…2592000 (the retention of 30 days)":                      `{"rules": [{"metric": "h2s", "duration_s": 1e18}]}`,
		"levels out of order: level 2 high 4 is below level 3's 5":                           `{"rules": [{"metric": "h2s", "levels": [{"level": 3, "high": 5}, {"level": 2, "high": 4}]}]}`,
	}
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(doc), "### What is refused as making no sense")
	table, _, _ = strings.Cut(table, "\n\n The physical")
	seen := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[3]), "`") {
			continue
		}
		reason := strings.TrimSuffix(strings.Trim(strings.TrimSpace(cells[3]), "`"), "…")
		file, ok := files[reason]
		if !ok {
			t.Errorf("docs/rules.md shows %q, which this test does not know", reason)
			continue
		}
		seen++
		if _, err := ParseRules([]byte(file)); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: %v; docs/rules.md says %q", file, err, reason)
		}
	}
	if seen != len(files) {
		t.Errorf("docs/rules.md shows %d of the %d reasons", seen, len(files))
	}
}
