package main

import (
	"context"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The 3D view on the desktop and on the big screen: the underground around
// an alarming gas sensor beside the utility tunnel under a translucent ground, the sensor red from
// its live state, a click on it opening its details, a pipe picked where it
// is drawn, and 2D again at the same place.
func TestBrowserScene3D(t *testing.T) {
	url := startServer(t)
	postReading(t, url, "GAS-000126", "ch4_lel", 60) // level 1
	// GAS-000126 watches a valve of the gas network beside the utility
	// tunnel under Lixin Road.
	here := [2]float64{117.238558, 31.8555633}

	t.Run("Desktop", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(browser(t, 1280, 800), 120*time.Second)
		defer cancel()
		watchExceptions(t, ctx)
		failed := watchRequests(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
		waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel")
		// A blinking alarm keeps the map from ever being idle.
		eval[bool](t, ctx, fmt.Sprintf(`(window.onemap.map.jumpTo({center: [%f, %f], zoom: 16}), true)`, here[0], here[1]))
		eval[bool](t, ctx, drawn)
		waitJS[bool](t, ctx, `(() => { const s = window.onemap.live.sensors; for (const [, m] of s) for (const v of m.values()) if (v.code === "GAS-000126" && v.level === 1) return true; return false; })()`, 10*time.Second, "the sensor's level 1 in the live state")
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("scene-toggle"))); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `window.onemap.map.getContainer().dataset.scene === "ready"`, 30*time.Second, "the 3D scene")
		type view struct {
			Pitch, Zoom, Lon, Lat             float64
			Pipes, Shafts, Buildings, Sensors int
			GasPipe2D, Pressed, Note          string
		}
		v := eval[view](t, ctx, `(() => {
			const m = window.onemap.map, s = window.onemap.scene3d.scene, c = m.getCenter();
			return {pitch: m.getPitch(), zoom: m.getZoom(), lon: c.lng, lat: c.lat,
				pipes: s.pipes.length, shafts: s.shafts.length, buildings: s.boxes.filter(b => b.part === "building").length, sensors: s.sensors.length,
				gasPipe2D: m.getStyle().layers.filter(l => l.metadata && l.metadata["onemap:layer"] === "gas_pipe").map(l => m.getLayoutProperty(l.id, "visibility") || "visible").join(),
				pressed: document.getElementById("scene-toggle").getAttribute("aria-pressed"),
				note: document.getElementById("scene-note").hidden ? "" : document.getElementById("scene-note").textContent};
		})()`)
		if v.Pitch != 60 || v.Zoom != 16 || math.Abs(v.Lon-here[0]) > 1e-6 || math.Abs(v.Lat-here[1]) > 1e-6 {
			t.Errorf("3D view at pitch %g zoom %g centre %g,%g; want pitch 60 at the same place and zoom", v.Pitch, v.Zoom, v.Lon, v.Lat)
		}
		if v.Pipes == 0 || v.Shafts == 0 || v.Buildings == 0 || v.Sensors == 0 {
			t.Errorf("the scene has %d pipes, %d shafts, %d buildings, %d sensors; want some of each", v.Pipes, v.Shafts, v.Buildings, v.Sensors)
		}
		if !allNone(v.GasPipe2D) {
			t.Errorf("the 2D gas pipes are %q in 3D, want hidden", v.GasPipe2D)
		}
		if v.Pressed != "true" || v.Note != "地下深度放大 8 倍" {
			t.Errorf("button pressed %q, note %q", v.Pressed, v.Note)
		}
		eval[bool](t, ctx, drawn)

		// The alarming sensor is drawn red where deck.gl puts it; a quiet
		// one is not.
		type pt struct{ X, Y float64 }
		at := func(code string) pt {
			p := eval[[]float64](t, ctx, fmt.Sprintf(`(() => { const s = window.onemap.scene3d.scene.sensors.find(s => s.code === %q); return s ? window.onemap.scene3d.project(...s.position) : null; })()`, code))
			if len(p) < 2 {
				t.Fatalf("sensor %s is not in the scene", code)
			}
			return pt{p[0], p[1]}
		}
		alarm := at("GAS-000126")
		quiet := eval[string](t, ctx, `(() => { const m = window.onemap.map; const w = m.getCanvas().clientWidth, h = m.getCanvas().clientHeight;
			for (const s of window.onemap.scene3d.scene.sensors) { if (s.code === "GAS-000126") continue; const p = window.onemap.scene3d.project(...s.position); if (p && p[0] > 20 && p[0] < w - 300 && p[1] > 60 && p[1] < h - 60) return s.code; } return ""; })()`)
		img := capture(t, ctx)
		if r, g, b := pixel(img, alarm.X, alarm.Y); !(r > 150 && g < 90 && b < 90) {
			t.Errorf("the level 1 sensor at %.0f,%.0f is rgb(%d,%d,%d), want the red of level 1", alarm.X, alarm.Y, r, g, b)
		}
		if quiet != "" {
			q := at(quiet)
			if r, g, b := pixel(img, q.X, q.Y); r > 150 && g < 90 && b < 90 {
				t.Errorf("the quiet sensor %s is red too: rgb(%d,%d,%d)", quiet, r, g, b)
			}
		}
		screenshot(t, ctx, "scene-3d.png")

		// A pipe is picked where it is drawn.
		picked := eval[int](t, ctx, `(() => { const sc = window.onemap.scene3d; let n = 0;
			for (const p of sc.scene.pipes.slice(0, 200)) { const a = p.path[0], b = p.path[p.path.length - 1];
				const xy = sc.project((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, a[2]); if (!xy) continue;
				const got = sc.pick(xy[0], xy[1]); if (got && got.id === p.id && got.layer === p.layer) n++; }
			return n; })()`)
		if picked == 0 {
			t.Error("no pipe was picked at the middle of where it is drawn")
		}

		// A click on the sensor opens its details, as in 2D.
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(alarm.X, alarm.Y)); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `(() => { const p = document.querySelector(".onemap-popup"); return p && p.textContent.includes("GAS-000126"); })()`, 10*time.Second, "the sensor's details")
		screenshot(t, ctx, "scene-3d-sensor.png")

		// 2D again, at the same place.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("scene-toggle"))); err != nil {
			t.Fatal(err)
		}
		back := waitJS[view](t, ctx, `(() => { const m = window.onemap.map, c = m.getCenter(); if (m.getPitch() !== 0) return null;
			return {pitch: 0, zoom: m.getZoom(), lon: c.lng, lat: c.lat, pressed: document.getElementById("scene-toggle").getAttribute("aria-pressed"),
				gasPipe2D: m.getStyle().layers.filter(l => l.metadata && l.metadata["onemap:layer"] === "gas_pipe").map(l => m.getLayoutProperty(l.id, "visibility") || "visible").join()}; })()`, 5*time.Second, "the 2D map")
		if back.Zoom != 16 || math.Abs(back.Lon-here[0]) > 1e-6 || math.Abs(back.Lat-here[1]) > 1e-6 || back.Pressed != "false" || allNone(back.GasPipe2D) {
			t.Errorf("back in 2D: %+v, want the same place and the gas pipes shown", back)
		}
		if bad := failed.list(); len(bad) > 0 {
			t.Errorf("failed requests: %v", bad)
		}
	})

	t.Run("Screen", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(browser(t, 1920, 1080), 120*time.Second)
		defer cancel()
		watchExceptions(t, ctx)
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?view=screen&mode=3d"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
			t.Fatal(err)
		}
		waitJS[bool](t, ctx, `window.onemap && window.onemap.map.getContainer().dataset.scene === "ready"`, 60*time.Second, "the big screen's 3D scene")
		type screen struct {
			Theme          string
			Pitch          float64
			Sensors, Pipes int
			AtCentre       bool
		}
		s := eval[screen](t, ctx, `(() => { const m = window.onemap.map, sc = window.onemap.scene3d.scene, c = m.getCenter(), b = sc.bbox;
			return {theme: m.getStyle().metadata["onemap:theme"], pitch: m.getPitch(), sensors: sc.sensors.length, pipes: sc.pipes.length,
				atCentre: Math.abs(c.lng - 117.2622788) < 1e-6 && Math.abs(c.lat - 31.8361749) < 1e-6 && b[0] < c.lng && c.lng < b[2] && b[1] < c.lat && c.lat < b[3]}; })()`)
		if s.Theme != "dark" || s.Pitch != 60 || s.Sensors == 0 || s.Pipes == 0 || !s.AtCentre {
			t.Errorf("the big screen in 3D: %+v, want the dark style pitched 60° over the city's centre, with its pipes and sensors", s)
		}
		if n := eval[int](t, ctx, `document.querySelectorAll("#scene-toggle").length`); n != 0 {
			t.Errorf("the big screen shows %d 2D/3D buttons, want none", n)
		}
		eval[bool](t, ctx, drawn)
		screenshot(t, ctx, "screen-3d.png")
	})
}

func allNone(visibility string) bool {
	for _, v := range strings.Split(visibility, ",") {
		if v != "none" {
			return false
		}
	}
	return visibility != ""
}

// pixel is the colour at a point of a screenshot, in CSS pixels of a page
// at device pixel ratio 1.
func pixel(img image.Image, x, y float64) (r, g, b uint8) {
	cr, cg, cb, _ := img.At(int(math.Round(x)), int(math.Round(y))).RGBA()
	return uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8)
}
