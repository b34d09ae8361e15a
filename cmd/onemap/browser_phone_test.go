package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserPhoneSmall is a responder's small phone (360×640) that may not
// use its position: the sheet says why in Chinese and offers a district or
// a tap on the map instead; the place chosen brings the alarms near it,
// stays over a reload, and every control is a finger's size.
func TestBrowserPhoneSmall(t *testing.T) {
	url := startServer(t)
	s := sensorAt(t, url, "GAS-000001")
	// An alarm before the page opens: the ticker shows it all the same.
	postReading(t, url, "GAS-000001", "ch4_lel", 60)

	ctx := browser(t, 360, 640)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)
	watchExceptions(t, ctx)
	if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingDenied, Origin: url,
	}); err != nil {
		t.Fatalf("deny geolocation: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 640, chromedp.EmulateMobile),
		chromedp.Navigate(url+"/?view=phone"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)

	msg := waitJS[string](t, ctx, `document.getElementById("near-status").classList.contains("error") && document.getElementById("near-status").textContent`, 15*time.Second, "the position's refusal")
	if !strings.Contains(msg, "定位权限") || !strings.Contains(msg, "选择位置") || latin.MatchString(msg) {
		t.Errorf("a denied position reads %q, want why and the offer of a place, in Chinese", msg)
	}
	districts := waitJS[[]string](t, ctx, `(() => { const o = [...document.querySelectorAll("#near-district option")].filter(o => o.value !== "").map(o => o.textContent); return o.length > 0 && o; })()`, 10*time.Second, "the districts to choose from")
	if len(districts) != 4 || !strings.HasSuffix(districts[0], "街道") {
		t.Errorf("districts offered %q, want the sample city's 4 subdistricts", districts)
	}
	fits(t, ctx)
	screenshot(t, ctx, "phone-no-position.png")

	// A district stands for the position: the circle around its centre.
	eval[bool](t, ctx, `(() => { const d = document.getElementById("near-district"); d.value = "0"; d.dispatchEvent(new Event("change")); return true; })()`)
	waitJS[bool](t, ctx, liveIsUp+` && !!window.onemap.phone.position`, 15*time.Second, "the live channel around the district")
	if st := eval[string](t, ctx, `document.getElementById("near-status").textContent`); !strings.Contains(st, "已选位置："+districts[0]) {
		t.Errorf("status %q, want the district chosen named", st)
	}
	if located := eval[bool](t, ctx, `window.onemap.phone.located === null`); !located {
		t.Error("a district chosen counts as where the responder was located")
	}

	// A tap on the map at the detector: its alarm is the nearest.
	eval[bool](t, ctx, `(document.getElementById("near-change").click(), document.getElementById("near-pick-map").click(), true)`)
	if hint := eval[string](t, ctx, `document.getElementById("near-status").textContent`); hint != "点击地图上您所在的位置" {
		t.Errorf("while choosing, status %q, want the hint to tap the map", hint)
	}
	eval[bool](t, ctx, idle(fmt.Sprintf(`m.jumpTo({center: [%f, %f], zoom: 15})`, s.Location[0], s.Location[1])))
	px := eval[[2]float64](t, ctx, fmt.Sprintf(`(() => { const p = window.onemap.map.project([%f, %f]); const r = window.onemap.map.getCanvas().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; })()`, s.Location[0], s.Location[1]))
	if err := chromedp.Do(ctx, chromedp.MouseClickXY(px[0], px[1])); err != nil {
		t.Fatal(err)
	}
	at := waitJS[[2]float64](t, ctx, `!window.onemap.phone.picking && window.onemap.phone.position`, 5*time.Second, "the place tapped")
	if d := math.Hypot((at[0]-s.Location[0])*94500, (at[1]-s.Location[1])*111195); d > 30 {
		t.Errorf("the place tapped is %.0f m from the detector, want it where the tap was", d)
	}
	row := waitJS[int](t, ctx, `(() => { const r = document.querySelector("#near-list .near-row"); return r && Number(r.dataset.distance) + 1; })()`, 10*time.Second, "the alarm near the place") - 1
	if row > 30 {
		t.Errorf("the detector's alarm is %d m away, want beside the place tapped", row)
	}
	// The sheet's count, the header's badge and the ticker tell the same.
	type counts struct{ Near, Rows, Badge, Ticker int }
	c := eval[counts](t, ctx, `({near: Number(document.getElementById("near-count").textContent), rows: document.querySelectorAll("#near-list .near-row").length,
		badge: Number(document.getElementById("alarm-count").textContent), ticker: document.querySelectorAll("#ticker-list .ticker-item").length})`)
	if c.Near != c.Rows || c.Badge < 1 || c.Ticker < 1 {
		t.Errorf("counts %+v: want the sheet's count its rows, and the badge and the ticker showing the alarm", c)
	}
	waitJS[string](t, ctx, tickerHas("GAS-000001"), 5*time.Second, "the ticker shows the alarm raised before the page")
	fits(t, ctx)
	eval[bool](t, ctx, drawn)
	screenshot(t, ctx, "phone-place.png")

	// A reload keeps the place chosen.
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
		t.Fatal(err)
	}
	again := waitJS[[2]float64](t, ctx, `window.onemap && window.onemap.phone && window.onemap.phone.place && window.onemap.phone.position`, 15*time.Second, "the place after a reload")
	if again != at {
		t.Errorf("after a reload the place is %v, want %v", again, at)
	}

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}

// fits fails the test when the phone's page is wider than its screen or a
// control a finger uses is smaller than 44 px.
func fits(t *testing.T, ctx context.Context) {
	t.Helper()
	if w := eval[[2]float64](t, ctx, `[document.documentElement.scrollWidth, window.innerWidth]`); w[0] > w[1] {
		t.Errorf("the page is %v px wide on a %v px screen", w[0], w[1])
	}
	small := eval[[]string](t, ctx, `[...document.querySelectorAll("#near-panel button, #near-panel select, #near-panel input, .legend-head button, #ticker-mute")]
		.filter(e => e.offsetParent !== null)
		.map(e => [e, e.getBoundingClientRect()])
		.filter(([, r]) => r.height < 44 || r.width < 44)
		.map(([e, r]) => (e.id || e.className) + " " + Math.round(r.width) + "×" + Math.round(r.height))`)
	if len(small) > 0 {
		t.Errorf("controls smaller than a finger: %v", small)
	}
}
