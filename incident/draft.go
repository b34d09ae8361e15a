package incident

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/onemap/onemap/spatial"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// AlarmInfo is what a draft reads of the alarm an incident was opened with.
type AlarmInfo struct {
	ID       uint64
	Level    int // 1 most severe to 4
	Domain   string
	Metric   string
	Sensor   string // the sensor's code
	Place    string // where it is: a road, an address, a bridge's name
	Location orb.Point
	Raised   time.Time
}

// Draft is a warning drafted from an alarm and its impact, with the level
// suggested for it and why.
type Draft struct {
	Warning    Warning    `json:"warning"`
	Suggestion Suggestion `json:"suggestion"`
}

// DraftFrom drafts the warning of an alarm from the analysis of its
// impact (§六 1: type, level, time, location, area, surroundings,
// instructions): the level suggested by the rules r from the alarm level,
// the scenario and the protective targets and people within r's radius.
// A person confirms or changes the level before it goes for review.
func (r *LevelRules) DraftFrom(a AlarmInfo, im *spatial.AlarmImpact) (Draft, error) {
	if im == nil || im.Impact == nil {
		return Draft{}, refuse("no_impact", "a draft needs the impact of its alarm")
	}
	targets := map[string]int{}
	for _, h := range im.Targets {
		if h.Distance <= r.RadiusM {
			if k, _ := h.Feature.Props["kind"].(string); k != "" {
				targets[k]++
			}
		}
	}
	people := int(math.Round(im.People))
	sg, err := r.SuggestLevel(LevelInput{AlarmLevel: a.Level, Domain: a.Domain, Scenario: im.Scenario.ID, Targets: targets, People: people})
	if err != nil {
		return Draft{}, err
	}
	sc, ok := r.Scenarios[im.Scenario.ID]
	if !ok {
		sc = r.Scenarios["generic"]
	}
	if sc.Zh == "" {
		sc.Zh, sc.En = im.Scenario.Title, im.Scenario.Title
	}
	place := a.Place
	switch {
	case place == "" && len(im.Roads) > 0:
		place = im.Roads[0] + "（" + a.Sensor + " 处）"
	case place == "":
		place = a.Sensor
	}
	w := Warning{
		Level:          sg.Level,
		Type:           im.Scenario.ID,
		Time:           a.Raised.UTC(),
		Location:       place,
		Instructions:   sc.InstructionsZh,
		InstructionsEn: sc.InstructionsEn,
		Headline:       fmt.Sprintf("%s%s %s 级（%s）预警", place, sc.Zh, sg.Level, levelColourZh[sg.Level]),
		HeadlineEn:     fmt.Sprintf("Level %s (%s) warning: %s at %s", sg.Level, levelColourEn[sg.Level], sc.En, place),
	}
	if len(im.Area) > 0 {
		w.Area = geojson.NewGeometry(im.Area)
	}
	w.Surroundings, w.SurroundingsEn = surroundings(im, people)
	if len(w.Location) > MaxText {
		w.Location = w.Location[:MaxText]
	}
	return Draft{Warning: w, Suggestion: sg}, nil
}

var (
	levelColourZh = map[Level]string{LevelI: "红色", LevelII: "橙色", LevelIII: "黄色", LevelIV: "蓝色"}
	levelColourEn = map[Level]string{LevelI: "red", LevelII: "orange", LevelIII: "yellow", LevelIV: "blue"}
)

// LevelColour is the colour of a warning level in Chinese and English.
func LevelColour(l Level) (zh, en string) { return levelColourZh[l], levelColourEn[l] }

// surroundings writes what lies in the impact area: the nearest targets
// and hazards by name, the people and the roads to close.
func surroundings(im *spatial.AlarmImpact, people int) (zh, en string) {
	var z, e []string
	r := int(math.Round(im.Scenario.Radius))
	names := func(hs []spatial.Hit) []string {
		var out []string
		for _, h := range hs {
			if n, _ := h.Feature.Props["name"].(string); n != "" {
				out = append(out, fmt.Sprintf("%s（%d m）", n, int(math.Round(h.Distance))))
			}
			if len(out) == 5 {
				break
			}
		}
		return out
	}
	if n := len(im.Targets); n > 0 {
		z = append(z, fmt.Sprintf("影响半径 %d m 内有防护目标 %d 处：%s", r, n, strings.Join(names(im.Targets), "、")))
		e = append(e, fmt.Sprintf("%d protective targets within %d m: %s", n, r, strings.Join(names(im.Targets), ", ")))
	}
	if n := len(im.Hazards); n > 0 {
		z = append(z, fmt.Sprintf("危险源 %d 处：%s", n, strings.Join(names(im.Hazards), "、")))
		e = append(e, fmt.Sprintf("%d hazards: %s", n, strings.Join(names(im.Hazards), ", ")))
	}
	if people > 0 {
		z = append(z, "区域内此时约 "+thousands(roundPeople(people))+" 人")
		e = append(e, "about "+thousands(roundPeople(people))+" people in the area now")
	}
	if len(im.Roads) > 0 {
		z = append(z, "建议封闭道路："+strings.Join(im.Roads, "、"))
		e = append(e, "roads to close: "+strings.Join(im.Roads, ", "))
	}
	return clip(strings.Join(z, "；")), clip(strings.Join(e, "; "))
}

// clip cuts s to MaxText bytes at a rune boundary.
func clip(s string) string {
	if len(s) <= MaxText {
		return s
	}
	s = s[:MaxText]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
