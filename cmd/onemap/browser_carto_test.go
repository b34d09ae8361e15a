package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"context"
)

// TestBrowserCarto shows the desktop map at city, district and street zoom
// (12, 14 and 16) around three open gas alarms of levels 1, 2 and 3, and
// saves a screenshot of each. With ONEMAP_CARTO_SHOTS set to a name, such as
// "before" or "after", it writes them to docs/carto-z<zoom>-<name>.png, the
// comparison docs/cartography.md shows; with ONEMAP_UPDATE_SCREENSHOTS, the
// "after" ones.
func TestBrowserCarto(t *testing.T) {
	dir := t.TempDir()
	addUser(t, dir, "zhangwei", "Zhang Wei", "operator")
	url := startServer(t, "--data-dir", dir)
	postRisingLeak(t, url)
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)

	logInPage(t, ctx, url, "/", "zhangwei")
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if n := eval[int](t, ctx, `Number(document.getElementById("alarm-count").textContent) || 0`); n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the three alarms did not come within 30 s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	// The views: the city's centre at zoom 12, the middle of the three
	// alarms closer in.
	city := eval[[]float64](t, ctx, `window.onemap.map.getStyle().center`)
	centre := eval[[]float64](t, ctx, `window.onemap.map.getSource("alarms").getData().then(d => {
		const cs = d.features.map(f => f.geometry.coordinates);
		return [cs.reduce((s, c) => s + c[0], 0) / cs.length, cs.reduce((s, c) => s + c[1], 0) / cs.length];
	})`)
	if len(centre) != 2 {
		t.Fatalf("alarm centre %v", centre)
	}
	stage := os.Getenv("ONEMAP_CARTO_SHOTS")
	for _, z := range []int{12, 14, 16} {
		at := centre
		if z == 12 && len(city) == 2 {
			at = city
		}
		// Blinking halos keep the map from going idle: wait for the tiles.
		eval[bool](t, ctx, fmt.Sprintf(`new Promise(r => {
			const m = window.onemap.map;
			m.jumpTo({center: [%f, %f], zoom: %d});
			const check = () => m.loaded() || (m.areTilesLoaded() && !m.isMoving()) ? setTimeout(() => r(true), 800) : setTimeout(check, 100);
			setTimeout(check, 200);
		})`, at[0], at[1], z))
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		name := fmt.Sprintf("carto-z%d.png", z)
		if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		switch {
		case stage != "":
			out := filepath.Join("..", "..", "docs", fmt.Sprintf("carto-z%d-%s.png", z, stage))
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
		default:
			updateDocsShot(t, fmt.Sprintf("carto-z%d-after.png", z), png)
		}
	}
	// The legend explains the derived layers' colours, in both languages.
	keys := `["gas_adjacent_space", "risk_zone"].map(id => (document.querySelector('li[data-layer="' + id + '"] .legend-key') || {}).textContent || "").join(" | ")`
	if k := eval[string](t, ctx, keys); !strings.Contains(k, "未监测") || !strings.Contains(k, "已监测") || !strings.Contains(k, "重大风险") {
		t.Errorf("legend keys %q, want 未监测, 已监测 and 重大风险", k)
	}
	if on := eval[bool](t, ctx, `document.getElementById("toggle-risk_zone").checked`); on {
		t.Error("risk zones are on by default on the desktop")
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch"))); err != nil {
		t.Fatal(err)
	}
	if k := eval[string](t, ctx, keys); !strings.Contains(k, "Unmonitored") || !strings.Contains(k, "Monitored") || !strings.Contains(k, "Major risk") {
		t.Errorf("English legend keys %q", k)
	}
	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}
