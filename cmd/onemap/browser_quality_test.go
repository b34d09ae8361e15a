package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/storetest"
	"github.com/paulmach/orb"
)

// qualityCity writes a sound city with one warning: a school 1.4 km east
// of the city's bounds.
func qualityCity(t *testing.T) string {
	t.Helper()
	c := storetest.City()
	school := *c.Features[layers.ProtectiveTarget][0]
	school.ID = layers.MakeID(22, 2)
	school.Geometry = orb.Point{117.2845, 31.84}
	school.Props = maps.Clone(school.Props)
	school.Props["name"], school.Props["name_en"] = "河东小学", "Hedong Primary School"
	c.Features[layers.ProtectiveTarget] = append(c.Features[layers.ProtectiveTarget], &school)
	dir := t.TempDir()
	if err := city.Write(dir, c, layers.Default()); err != nil {
		t.Fatal(err)
	}
	return dir
}

// qualityReport writes the report of a survey with four problems: three
// errors of two kinds with a geometry and a warning of a whole file, as
// --report writes it, and returns the paths of its JSON and of its GeoJSON
// twin, which holds the three of features.
func qualityReport(t *testing.T) (string, string) {
	t.Helper()
	ps := city.Problems{
		{Kind: city.KindUnknownValue, Severity: city.SeverityError, Layer: layers.GasPipe, File: "gas_pipe.geojson", Index: 0, ID: layers.MakeID(10, 1),
			Attribute: "pressure_class", Reason: `attribute "pressure_class": "meduim_a" is not one of high_a, …; did you mean medium_a (中压A)?`, Suggestion: "medium_a",
			Geometry: orb.LineString{{117.2500, 31.8400}, {117.2553, 31.8400}}},
		{Kind: city.KindUnknownValue, Severity: city.SeverityError, Layer: layers.GasNode, File: "gas_node.geojson", Index: 1, ID: layers.MakeID(11, 2),
			Attribute: "kind", Reason: `attribute "kind": "Tee" is not one of …; did you mean tee (三通)?`, Suggestion: "tee", Geometry: orb.Point{117.2553, 31.8400}},
		{Kind: city.KindDuplicateID, Severity: city.SeverityError, Layer: layers.Building, File: "building.geojson", Index: 0, ID: layers.MakeID(4, 1),
			Reason: "id 17179869185 is the id of another feature too: building.geojson feature 3", Geometry: orb.Point{117.2527, 31.8402}},
		{Kind: city.KindUnknownFile, Severity: city.SeverityWarning, File: "roads.geojson", Index: -1, Reason: "roads.geojson: not read: no layer has that file name; did you mean road.geojson?", Suggestion: "road.geojson"},
	}
	path := filepath.Join(t.TempDir(), "report.json")
	if err := ps.WriteReport(path, "survey"); err != nil {
		t.Fatal(err)
	}
	return path, city.TwinPath(path)
}

// The data quality panel: the server's one warning counted, listed and
// opened in a popup from the list and from the map; a report's GeoJSON
// twin opened from disk, its problems by kind, a kind hidden; the JSON
// report listed; a file that is no report refused in words; in English.
func TestBrowserQuality(t *testing.T) {
	url := startServer(t, "--city", qualityCity(t))

	// The server serves its one warning.
	resp, err := http.Get(url + "/api/v1/quality")
	if err != nil {
		t.Fatal(err)
	}
	var q struct {
		Errors, Warnings int
		Problems         struct {
			Features []struct {
				Geometry   json.RawMessage
				Properties map[string]any
			}
		}
	}
	json.NewDecoder(resp.Body).Decode(&q)
	resp.Body.Close()
	if resp.StatusCode != 200 || q.Errors != 0 || q.Warnings != 1 || len(q.Problems.Features) != 1 ||
		q.Problems.Features[0].Properties["kind"] != "outside_bounds" || !strings.Contains(string(q.Problems.Features[0].Geometry), "Point") {
		t.Fatalf("GET /api/v1/quality: %d %+v", resp.StatusCode, q)
	}

	ctx := browser(t, 1440, 900)
	ctx, cancel := context.WithTimeout(ctx, 120*time.Second)
	defer cancel()
	watchExceptions(t, ctx)
	failed := watchRequests(t, ctx)
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	t.Run("Server", func(t *testing.T) {
		clickID(t, ctx, "quality-button")
		counts := waitJS[string](t, ctx, `!document.getElementById("quality-counts").hidden && document.getElementById("quality-counts").textContent`, 10*time.Second, "the server's problems")
		if counts != "0 个错误，1 个警告" {
			t.Errorf("the counts read %q", counts)
		}
		kinds := eval[[]string](t, ctx, `[...document.querySelectorAll("#quality-kinds .quality-kind")].map(b => b.dataset.kind + ":" + b.dataset.count + ":" + b.textContent)`)
		if len(kinds) != 1 || kinds[0] != "outside_bounds:1:超出城市范围1" {
			t.Errorf("the legend of kinds %q", kinds)
		}
		row := eval[string](t, ctx, `document.querySelector("#quality-list .quality-row").textContent`)
		if !strings.Contains(row, "超出城市范围") || !strings.Contains(row, "警告") || !strings.Contains(row, "protective_target.geojson") || !strings.Contains(row, "outside the city's bounds") {
			t.Errorf("the problem's row %q", row)
		}
		waitJS[bool](t, ctx, `window.onemap.quality.drawn === 1 && window.onemap.map.getLayoutProperty("quality-point", "visibility") === "visible"`, 5*time.Second, "the problem drawn")

		// A click in the list flies there and opens the popup.
		eval[bool](t, ctx, `(document.querySelector("#quality-list .quality-row").click(), true)`)
		popup := waitJS[string](t, ctx, `document.querySelector(".quality-popup") && document.querySelector(".quality-popup").textContent`, 5*time.Second, "the popup")
		for _, want := range []string{"超出城市范围", "级别警告", "文件protective_target.geojson", "图层防护目标", fmt.Sprintf("要素第 1 个要素（编号 %d）", layers.MakeID(22, 2)), "原因"} {
			if !strings.Contains(popup, want) {
				t.Errorf("the popup lacks %q: %q", want, popup)
			}
		}
		eval[bool](t, ctx, stopped)
		eval[bool](t, ctx, drawn)
		centre := eval[[]float64](t, ctx, `window.onemap.map.getCenter().toArray()`)
		if centre[0] < 117.27 || centre[0] > 117.30 {
			t.Errorf("the map is centred at %v, not near the school at 117.2845", centre)
		}
		screenshot(t, ctx, "quality-server.png")

		// A click on the map opens it too.
		eval[bool](t, ctx, `(document.querySelector(".quality-popup .maplibregl-popup-close-button").click(), true)`)
		pt := eval[[]float64](t, ctx, `(() => { const p = window.onemap.map.project([117.2845, 31.84]); return [p.x, p.y]; })()`)
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(pt[0], pt[1])); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `!!document.querySelector(".quality-popup") && document.querySelector(".quality-popup").textContent.includes("超出城市范围") && window.onemap.quality.selected === 0`, 5*time.Second, "the popup of a click on the map")
	})

	report, twin := qualityReport(t)
	bad := filepath.Join(t.TempDir(), "notes.json")
	os.WriteFile(bad, []byte("{not json"), 0o644)
	other := filepath.Join(t.TempDir(), "roads.geojson")
	os.WriteFile(other, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[117.25,31.84]},"properties":{"class":"branch"}}]}`), 0o644)

	upload := func(t *testing.T, path string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("quality-file"), []string{path})); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("File", func(t *testing.T) {
		upload(t, twin)
		waitJS[bool](t, ctx, `window.onemap.quality.source === "file" && window.onemap.quality.problems.length === 3`, 10*time.Second, "the report's problems")
		if c := eval[string](t, ctx, `document.getElementById("quality-counts").textContent`); c != "3 个错误，0 个警告" {
			t.Errorf("the report's counts read %q", c)
		}
		kinds := eval[[]string](t, ctx, `[...document.querySelectorAll("#quality-kinds .quality-kind")].map(b => b.dataset.kind + ":" + b.dataset.count)`)
		if strings.Join(kinds, ",") != "duplicate_id:1,unknown_value:2" {
			t.Errorf("the report's kinds %q", kinds)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#quality-list .quality-row").length`); n != 3 {
			t.Errorf("%d problems listed, want 3", n)
		}
		waitJS[bool](t, ctx, `window.onemap.quality.drawn === 3`, 5*time.Second, "the report's 3 problems drawn")
		if note := eval[string](t, ctx, `document.getElementById("quality-notes").textContent`); note != "" {
			t.Errorf("a note %q, though every problem has its place", note)
		}
		eval[bool](t, ctx, drawn)
		// The errors drawn, a line and two points with their marks.
		rendered := eval[int](t, ctx, `window.onemap.map.queryRenderedFeatures({layers: ["quality-point", "quality-line-error"]}).length`)
		if rendered < 3 {
			t.Errorf("%d problems rendered, want 3", rendered)
		}
		// A problem of the report opens from the list.
		eval[bool](t, ctx, `(document.querySelector('#quality-list .quality-row[data-kind="unknown_value"]').click(), true)`)
		popup := waitJS[string](t, ctx, `document.querySelector(".quality-popup") && document.querySelector(".quality-popup").textContent`, 5*time.Second, "the report's popup")
		for _, want := range []string{"取值不在枚举中", "级别错误", "属性pressure_class", "建议medium_a", "图层燃气管线"} {
			if !strings.Contains(popup, want) {
				t.Errorf("the popup lacks %q: %q", want, popup)
			}
		}
		eval[bool](t, ctx, stopped)
		eval[bool](t, ctx, drawn)
		screenshot(t, ctx, "quality.png")

		// A kind hidden leaves the map and the list.
		eval[bool](t, ctx, `(document.querySelector('#quality-kinds .quality-kind[data-kind="unknown_value"]').click(), true)`)
		waitJS[bool](t, ctx, `window.onemap.quality.drawn === 1 && document.querySelectorAll("#quality-list .quality-row").length === 1 && !document.querySelector(".quality-popup")`, 5*time.Second, "the kind hidden")
		if p := eval[string](t, ctx, `document.querySelector('#quality-kinds .quality-kind[data-kind="unknown_value"]').getAttribute("aria-pressed")`); p != "false" {
			t.Errorf("the hidden kind's button is aria-pressed=%q", p)
		}
		eval[bool](t, ctx, `(document.querySelector('#quality-kinds .quality-kind[data-kind="unknown_value"]').click(), true)`)
		waitJS[bool](t, ctx, `window.onemap.quality.drawn === 3`, 5*time.Second, "the kind shown again")

		// The JSON report lists its problems, the whole file's too; it has
		// no geometry to draw.
		upload(t, report)
		waitJS[bool](t, ctx, `window.onemap.quality.source === "file" && document.getElementById("quality-source").textContent.includes("report.json") && window.onemap.quality.problems.length === 4`, 10*time.Second, "the JSON report")
		if note := eval[string](t, ctx, `document.getElementById("quality-notes").textContent`); !strings.Contains(note, ".geojson") || eval[int](t, ctx, `window.onemap.quality.drawn`) != 0 {
			t.Errorf("the JSON report's note %q", note)
		}
	})

	t.Run("BadFile", func(t *testing.T) {
		for _, c := range []struct{ path, want string }{
			{bad, "无法读取此文件：它不是有效的 JSON。"},
			{other, "此文件不是 onemap 的数据质量报告"},
		} {
			upload(t, c.path)
			msg := waitJS[string](t, ctx, `window.onemap.quality.error`, 10*time.Second, "the message of "+filepath.Base(c.path))
			if !strings.HasPrefix(msg, c.want) || strings.Contains(msg, "Unexpected") || strings.Contains(msg, "SyntaxError") {
				t.Errorf("%s: the message %q, want %q", filepath.Base(c.path), msg, c.want)
			}
			if s := eval[string](t, ctx, `document.getElementById("quality-status").textContent`); s != msg {
				t.Errorf("the panel says %q, want %q", s, msg)
			}
			// What was shown stays.
			if n := eval[int](t, ctx, `window.onemap.quality.problems.length`); n != 4 {
				t.Errorf("after a bad file %d problems, want the report's 4", n)
			}
		}
		screenshot(t, ctx, "quality-bad-file.png")
	})

	t.Run("Bounded", func(t *testing.T) {
		// A report of 50,010 problems: 50,000 drawn, 500 listed.
		var b strings.Builder
		b.WriteString(`{"type":"FeatureCollection","features":[`)
		for i := range 50010 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"type":"Feature","geometry":{"type":"Point","coordinates":[%.5f,%.5f]},"properties":{"kind":"outside_bounds","severity":"warning","file":"hydrant.geojson","index":%d,"reason":"far"}}`,
				117.2+float64(i%250)*0.0004, 31.8+float64(i/250)*0.0004, i)
		}
		b.WriteString(`]}`)
		big := filepath.Join(t.TempDir(), "big.geojson")
		if err := os.WriteFile(big, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		upload(t, big)
		waitJS[bool](t, ctx, `window.onemap.quality.problems.length === 50010 && window.onemap.quality.drawn === 50000`, 30*time.Second, "the large report")
		if n := eval[int](t, ctx, `document.querySelectorAll("#quality-list .quality-row").length`); n != 500 {
			t.Errorf("%d rows listed, want 500", n)
		}
		more := eval[string](t, ctx, `document.querySelector("#quality-list .quality-more").textContent`)
		note := eval[string](t, ctx, `document.getElementById("quality-notes").textContent`)
		if !strings.Contains(more, "50,010") || !strings.Contains(note, "只在地图上绘制了前 50,000 个（共 50,010 个）") {
			t.Errorf("the list says %q, the note %q", more, note)
		}
	})

	t.Run("English", func(t *testing.T) {
		clickID(t, ctx, "quality-server")
		waitJS[bool](t, ctx, `window.onemap.quality.source === "server" && window.onemap.quality.problems.length === 1`, 5*time.Second, "back to the server's problems")
		clickID(t, ctx, "lang-switch")
		waitJS[bool](t, ctx, `document.documentElement.lang === "en" && document.getElementById("quality-counts").textContent === "0 errors, 1 warning"`, 5*time.Second, "the English panel")
		if k := eval[string](t, ctx, `document.querySelector("#quality-kinds .quality-kind").textContent`); k != "Outside the city’s bounds1" {
			t.Errorf("the kind in English %q", k)
		}
		// The layers come back with the English style.
		waitJS[bool](t, ctx, `!!window.onemap.map.getLayer("quality-point") && window.onemap.quality.drawn === 1`, 10*time.Second, "the problems after the style changed")
		eval[bool](t, ctx, `(document.querySelector("#quality-list .quality-row").click(), true)`)
		popup := waitJS[string](t, ctx, `document.querySelector(".quality-popup") && document.querySelector(".quality-popup").textContent`, 5*time.Second, "the English popup")
		if !strings.Contains(popup, "SeverityWarning") || !strings.Contains(popup, "Outside the city’s bounds") {
			t.Errorf("the English popup %q", popup)
		}
		// Closing the panel takes the problems off the map.
		clickID(t, ctx, "quality-close")
		waitJS[bool](t, ctx, `window.onemap.map.getLayoutProperty("quality-point", "visibility") === "none" && !document.querySelector(".quality-popup")`, 5*time.Second, "the problems hidden")
	})

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}
