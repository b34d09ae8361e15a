package incident

import (
	"errors"
	"strings"
	"testing"
)

func TestSuggestLevel(t *testing.T) {
	r := DefaultLevelRules()
	cases := []struct {
		name   string
		in     LevelInput
		level  Level
		zh, en string
	}{
		{"schools and people", LevelInput{AlarmLevel: 1, Domain: "gas", Targets: map[string]int{"school": 2}, People: 3412}, LevelII,
			"II 级：1 级燃气报警，150 m 内有 2 所学校、约 3,400 人", "level II: 1-level gas alarm, 2 schools and about 3,400 people within 150 m"},
		{"nothing around", LevelInput{AlarmLevel: 1, Domain: "gas"}, LevelIII, "III 级：1 级燃气报警", "level III: 1-level gas alarm"},
		{"a crowd", LevelInput{AlarmLevel: 1, Domain: "gas", Targets: map[string]int{"hospital": 1}, People: 25000}, LevelI,
			"I 级：1 级燃气报警，150 m 内有 1 家医院、约 25,000 人", "level I: 1-level gas alarm, 1 hospital and about 25,000 people within 150 m"},
		{"targets raise at most one", LevelInput{AlarmLevel: 2, Domain: "water", Targets: map[string]int{"school": 1, "hospital": 2}}, LevelIII,
			"III 级：2 级供水报警，150 m 内有 2 家医院、1 所学校", "level III: 2-level water supply alarm, 2 hospitals and 1 school within 150 m"},
		{"scenario floor", LevelInput{AlarmLevel: 3, Domain: "gas", Scenario: "gas_pipe_rupture", People: 80}, LevelII,
			"II 级：3 级燃气报警，150 m 内有 约 80 人", "level II: 3-level gas alarm, about 80 people within 150 m"},
		{"a mall does not raise", LevelInput{AlarmLevel: 4, Domain: "bridge", Targets: map[string]int{"mall": 1}}, LevelIV,
			"IV 级：4 级桥梁报警，150 m 内有 1 座商场", "level IV: 4-level bridge alarm, 1 shopping mall within 150 m"},
	}
	for _, c := range cases {
		s, err := r.SuggestLevel(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Level != c.level || s.ReasonZh != c.zh || s.ReasonEn != c.en {
			t.Errorf("%s: got %s %q %q\nwant %s %q %q", c.name, s.Level, s.ReasonZh, s.ReasonEn, c.level, c.zh, c.en)
		}
	}
	if _, err := r.SuggestLevel(LevelInput{AlarmLevel: 0}); !isCode(err, "bad_level") {
		t.Errorf("alarm level 0: %v", err)
	}
}

func TestBadLevelRules(t *testing.T) {
	good := string(DefaultLevelRulesJSON())
	cases := map[string]struct{ file, want string }{
		"syntax":        {"{\n\"radius_m\": 150,\n\"base\": {", "line 3"},
		"type":          {"{\n\"radius_m\": \"far\"}", "line 2"},
		"unknown field": {`{"radius": 150}`, "unknown field"},
		"radius":        {strings.Replace(good, `"radius_m": 150`, `"radius_m": 0`, 1), "radius_m"},
		"base level":    {strings.Replace(good, `"1": 3`, `"1": 5`, 1), "base.1"},
		"base missing":  {strings.Replace(good, `"1": 3, `, ``, 1), "alarm level 1"},
		"twice":         {strings.Replace(good, `"kind": "kindergarten"`, `"kind": "school"`, 1), `"school" is listed twice`},
		"names":         {strings.Replace(good, `"zh_measure": "所", "en": "school"`, `"zh_measure": "", "en": "school"`, 1), "targets[0]"},
		"raise":         {strings.Replace(good, `"min": 1, "raise": 0}`, `"min": 1, "raise": 9}`, 1), "targets[4].raise"},
		"people order":  {strings.Replace(good, `"min": 20000`, `"min": 100`, 1), "people[1].min"},
		"scenario":      {strings.Replace(good, `"most_lenient": 3`, `"most_lenient": 0`, 1), "scenarios.gas_explosion_confined"},
		"two values":    {good + "{}", "more than one"},
	}
	for name, c := range cases {
		_, err := ParseLevelRules([]byte(c.file))
		if !errors.Is(err, ErrLevelRules) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func FuzzParseLevelRules(f *testing.F) {
	f.Add(DefaultLevelRulesJSON())
	f.Add([]byte(`{"radius_m": 50, "base": {"1": 1, "2": 2, "3": 3, "4": 4}}`))
	f.Add([]byte(`{"radius_m": 50, "base": {"1": 1, "2": 2, "3": 3, "4": 4}, "people": [{"min": 1, "raise": 3}], "targets": [{"kind": "k", "zh": "a", "zh_measure": "b", "en": "c", "en_plural": "d", "min": 1, "raise": 3}], "max_target_raise": 3}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseLevelRules(data)
		if err != nil {
			var le *LevelRuleError
			if !errors.As(err, &le) || le.Line > 1+strings.Count(string(data), "\n") {
				t.Fatalf("error %v", err)
			}
			return
		}
		for a := 1; a <= 4; a++ {
			s, err := r.SuggestLevel(LevelInput{AlarmLevel: a, Targets: map[string]int{"k": 5, "school": 1}, People: 1 << 30})
			if err != nil || !s.Level.Valid() || s.ReasonZh == "" || s.ReasonEn == "" {
				t.Fatalf("alarm level %d: %+v %v", a, s, err)
			}
		}
	})
}
