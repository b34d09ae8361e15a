package plan_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
)

func TestDefaultPlans(t *testing.T) {
	p := plan.Default()
	if len(p.Plans) < 8 {
		t.Fatalf("%d default plans", len(p.Plans))
	}
	// The sample city's scenarios, by the type and level of their warning.
	for _, c := range []struct {
		typ   string
		level int
		want  string
	}{
		{"gas_leak", 1, "gas-leak-major"}, // gas-leak-school
		{"gas_leak", 2, "gas-leak-major"},
		{"gas_leak", 3, "gas-leak"},
		{"gas_leak", 4, "gas-leak"},
		{"pipe_burst", 3, "pipe-burst"},       // water-main-burst
		{"waterlogging", 2, "waterlogging"},   // waterlogging-rainstorm
		{"bridge_damage", 2, "bridge-damage"}, // bridge-overload
		{"tunnel_gas", 1, "tunnel-gas"},       // tunnel-methane
		{"tunnel_fire", 4, "tunnel-fire"},
		{"road_collapse", 3, "road-collapse"},
	} {
		pl, ok := p.Select(c.typ, c.level)
		if !ok || pl.ID != c.want {
			t.Errorf("Select(%s, %d) = %v, %v; want %s", c.typ, c.level, pl, ok, c.want)
		}
	}
	for _, c := range []struct {
		typ   string
		level int
	}{{"gas_leak", 0}, {"gas_leak", 5}, {"volcano", 1}, {"", 1}} {
		if pl, ok := p.Select(c.typ, c.level); ok {
			t.Errorf("Select(%q, %d) = %s, want none", c.typ, c.level, pl.ID)
		}
	}
	gas, _ := p.Get("gas-leak-major")
	var tasks, cautions []string
	for _, x := range gas.Tasks {
		tasks = append(tasks, x.Title.Zh)
	}
	for _, x := range gas.Cautions {
		cautions = append(cautions, x.Zh)
	}
	for _, want := range []string{"上游阀门", "疏散", "警戒区", "相邻地下空间"} {
		if !strings.Contains(strings.Join(tasks, "|"), want) {
			t.Errorf("the major gas leak plan has no task of %s: %v", want, tasks)
		}
	}
	if !strings.Contains(strings.Join(cautions, "|"), "禁止明火") {
		t.Errorf("the major gas leak plan does not forbid open flame: %v", cautions)
	}
	if got := p.IDs(); len(got) != len(p.Plans) || got[0] > got[1] {
		t.Errorf("IDs: %v", got)
	}
	// Read gives what Default does.
	r, err := plan.Read(bytes.NewReader(plan.DefaultPlansJSON()))
	if err != nil || len(r.Plans) != len(p.Plans) {
		t.Fatalf("Read of the default file: %v", err)
	}
}

// edit returns the default file with f applied to its first plan.
func edit(t *testing.T, f func(pl map[string]any, all []any) []any) []byte {
	t.Helper()
	var doc map[string][]any
	if err := json.Unmarshal(plan.DefaultPlansJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	doc["plans"] = f(doc["plans"][0].(map[string]any), doc["plans"])
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func task0(pl map[string]any) map[string]any { return pl["tasks"].([]any)[0].(map[string]any) }

func TestParseRefusals(t *testing.T) {
	set := func(f func(pl map[string]any)) func(map[string]any, []any) []any {
		return func(pl map[string]any, all []any) []any { f(pl); return all }
	}
	long := strings.Repeat("长", plan.MaxPlanText)
	for _, c := range []struct {
		name, entry, field string
		edit               func(map[string]any, []any) []any
	}{
		{"unknown field", "", "", set(func(pl map[string]any) { pl["priority"] = 1 })},
		{"unknown task field", "", "", set(func(pl map[string]any) { task0(pl)["owner"] = "x" })},
		{"bad role", "gas-leak-major", "plans[0].tasks[0].role", set(func(pl map[string]any) { task0(pl)["role"] = "mayor" })},
		{"bad unit kind", "gas-leak-major", "plans[0].tasks[0].unit_kind", set(func(pl map[string]any) { task0(pl)["unit_kind"] = "army" })},
		{"no one", "gas-leak-major", "plans[0].tasks[0]", set(func(pl map[string]any) { delete(task0(pl), "role"); delete(task0(pl), "unit_kind") })},
		{"no deadline", "gas-leak-major", "plans[0].tasks[0].deadline_min", set(func(pl map[string]any) { delete(task0(pl), "deadline_min") })},
		{"deadline too far", "gas-leak-major", "plans[0].tasks[0].deadline_min", set(func(pl map[string]any) { task0(pl)["deadline_min"] = plan.MaxDeadlineMin + 1 })},
		{"no title en", "gas-leak-major", "plans[0].tasks[0].title", set(func(pl map[string]any) { task0(pl)["title"] = map[string]any{"zh": "关阀"} })},
		{"long title", "gas-leak-major", "plans[0].tasks[0].title", set(func(pl map[string]any) { task0(pl)["title"] = map[string]any{"zh": long, "en": "x"} })},
		{"unknown type", "gas-leak-major", "plans[0].type", set(func(pl map[string]any) { pl["type"] = "volcano" })},
		{"wrong domain", "gas-leak-major", "plans[0].domain", set(func(pl map[string]any) { pl["domain"] = "water" })},
		{"bad id", "#1", "plans[0].id", set(func(pl map[string]any) { pl["id"] = "Gas Leak" })},
		{"no level", "gas-leak-major", "plans[0].min_level", set(func(pl map[string]any) { pl["min_level"] = 0 })},
		{"levels reversed", "gas-leak-major", "plans[0].min_level", set(func(pl map[string]any) { pl["min_level"], pl["max_level"] = 2, 1 })},
		{"level V", "gas-leak-major", "plans[0].min_level", set(func(pl map[string]any) { pl["max_level"] = 5 })},
		{"escalation", "gas-leak-major", "plans[0].escalate_every_min", set(func(pl map[string]any) { pl["escalate_every_min"] = -1 })},
		{"no tasks", "gas-leak-major", "plans[0].tasks", set(func(pl map[string]any) { pl["tasks"] = []any{} })},
		{"too many tasks", "gas-leak-major", "plans[0].tasks", set(func(pl map[string]any) {
			ts := make([]any, plan.MaxTasks+1)
			for i := range ts {
				ts[i] = task0(pl)
			}
			pl["tasks"] = ts
		})},
		{"no measures", "gas-leak-major", "plans[0].measures", set(func(pl map[string]any) { delete(pl, "measures") })},
		{"caution without zh", "gas-leak-major", "plans[0].cautions[0]", set(func(pl map[string]any) {
			pl["cautions"] = []any{map[string]any{"en": "no flame"}}
		})},
		{"overlap", "gas-leak", "plans[1].min_level", func(pl map[string]any, all []any) []any {
			all[1].(map[string]any)["min_level"] = 2
			return all
		}},
		{"same id", "gas-leak-major", "plans[1].id", func(pl map[string]any, all []any) []any {
			all[1].(map[string]any)["id"] = "gas-leak-major"
			return all
		}},
		{"no plans", "", "plans", func(map[string]any, []any) []any { return []any{} }},
	} {
		_, err := plan.Parse(edit(t, c.edit))
		var pe *plan.PlanError
		if !errors.As(err, &pe) || !errors.Is(err, plan.ErrPlans) || pe.Code() != "bad_plans" {
			t.Errorf("%s: %v, want a *PlanError", c.name, err)
			continue
		}
		if pe.Entry != c.entry || (c.field != "" && pe.Field != c.field) {
			t.Errorf("%s: entry %q field %q (%v), want %q %q", c.name, pe.Entry, pe.Field, err, c.entry, c.field)
		}
		if c.entry != "" && !strings.Contains(err.Error(), c.entry) {
			t.Errorf("%s: %q does not name the entry", c.name, err)
		}
	}
}

func TestParseSyntax(t *testing.T) {
	for _, c := range []struct {
		name string
		data string
		line int
	}{
		{"syntax", "{\n  \"plans\": [\n    {,}\n  ]\n}", 3},
		{"type", "{\n\"plans\": [{\"id\": 7}]}", 2},
		{"cut short", "{\"plans\": [", 1},
		{"two values", "{\"plans\": []} {}", 0},
	} {
		_, err := plan.Parse([]byte(c.data))
		var pe *plan.PlanError
		if !errors.As(err, &pe) || pe.Line != c.line {
			t.Errorf("%s: %v, want line %d", c.name, err, c.line)
		}
	}
	big := bytes.Repeat([]byte(" "), plan.MaxPlansSize+1)
	if _, err := plan.Read(bytes.NewReader(big)); !errors.Is(err, plan.ErrPlans) || !strings.Contains(err.Error(), "larger") {
		t.Errorf("a file over the limit: %v", err)
	}
}

func TestLevelsAreTheIncidentLevels(t *testing.T) {
	pl, _ := plan.Default().Get("gas-leak-major")
	if pl.MinLevel != incident.LevelI || pl.MaxLevel != incident.LevelII || pl.EscalateEvery() != 10 {
		t.Errorf("gas-leak-major: %s–%s every %d min", pl.MinLevel, pl.MaxLevel, pl.EscalateEvery())
	}
	if pl, _ := plan.Default().Get("gas-leak"); pl.EscalateEvery() != plan.DefaultEscalateEveryMin {
		t.Errorf("a plan without an interval escalates every %d min", pl.EscalateEvery())
	}
}

// Every scenario the impact analysis drafts warnings as has a plan at
// every level in the sample plans.
func TestScenariosHavePlans(t *testing.T) {
	p := plan.Default()
	for _, typ := range []string{"gas_pipe_rupture", "gas_explosion_confined", "tunnel_gas", "water_main_burst", "waterlogging", "bridge_damage", "tunnel_incident"} {
		for l := 1; l <= 4; l++ {
			if _, ok := p.Select(typ, l); !ok {
				t.Errorf("no plan for %s at level %d", typ, l)
			}
		}
	}
	if pl, _ := p.Select("gas_explosion_confined", 1); pl == nil || pl.ID != "gas-leak-major" {
		t.Errorf("a level I gas leak in an underground space: %v", pl)
	}
}
