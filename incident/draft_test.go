package incident

import (
	"strings"
	"testing"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
)

func hit(name, kind string, d float64) spatial.Hit {
	return spatial.Hit{Feature: &layers.Feature{Props: map[string]any{"name": name, "kind": kind}}, Distance: d}
}

func TestDraftFrom(t *testing.T) {
	r := DefaultLevelRules()
	im := &spatial.AlarmImpact{Impact: &spatial.Impact{
		Scenario: spatial.Scenario{ID: "gas_explosion_confined", Radius: 180},
		Area:     orb.Polygon{{{118.78, 32.04}, {118.79, 32.04}, {118.79, 32.05}, {118.78, 32.04}}},
		Targets:  []spatial.Hit{hit("滨湖一中", "school", 60), hit("实验小学", "school", 120), hit("滨湖医院", "hospital", 170)},
		Hazards:  []spatial.Hit{hit("长江路加油站", "gas_station", 90)},
		People:   3412,
		Roads:    []string{"长江路", "湖滨大道"},
	}}
	a := AlarmInfo{ID: 7, Level: 1, Domain: "gas", Metric: "ch4_lel", Sensor: "GAS-000002", Place: "长江路", Raised: t0}
	d, err := r.DraftFrom(a, im)
	if err != nil {
		t.Fatal(err)
	}
	w := d.Warning
	// two schools within 150 m raise III to II; the hospital at 170 m does not count
	if w.Level != LevelII || d.Suggestion.ReasonEn != "level II: 1-level gas alarm, 2 schools and about 3,400 people within 150 m" {
		t.Fatalf("level %s: %q", w.Level, d.Suggestion.ReasonEn)
	}
	if w.Type != "gas_explosion_confined" || w.Location != "长江路" || !w.Time.Equal(t0) || w.Area == nil {
		t.Fatalf("warning %+v", w)
	}
	if w.Headline != "长江路燃气泄漏（相邻地下空间积聚） II 级（橙色）预警" {
		t.Errorf("headline %q", w.Headline)
	}
	for _, want := range []string{"防护目标 3 处：滨湖一中（60 m）", "危险源 1 处：长江路加油站（90 m）", "约 3,400 人", "建议封闭道路：长江路、湖滨大道"} {
		if !strings.Contains(w.Surroundings, want) {
			t.Errorf("surroundings %q lack %q", w.Surroundings, want)
		}
	}
	if !strings.Contains(w.Instructions, "严禁明火") || !strings.Contains(w.InstructionsEn, "no open flames") {
		t.Errorf("instructions %q / %q", w.Instructions, w.InstructionsEn)
	}
	if err := w.validate(); err != nil {
		t.Fatalf("the draft does not validate: %v", err)
	}
	if _, err := r.DraftFrom(a, nil); !isCode(err, "no_impact") {
		t.Fatalf("no impact: %v", err)
	}
	// a scenario without a rule takes the generic instructions
	im.Scenario.ID = "meteor"
	if d, _ := r.DraftFrom(a, im); d.Warning.Instructions != r.Scenarios["generic"].InstructionsZh {
		t.Errorf("unknown scenario: %q", d.Warning.Instructions)
	}
}
