package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/onemap/onemap/layers"
)

// browser starts Debian's Chromium headless with a fresh profile and returns
// a context to drive it. Without Chromium the test skips, except where
// ONEMAP_REQUIRE_ALL is set (CI), where it fails.
func browser(t testing.TB, width, height int) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("ONEMAP_REQUIRE_ALL") != "" {
			t.Fatal("chromium is not installed; scripts/test installs it")
		}
		t.Skip("chromium is not installed; run scripts/test to install it")
	}
	// Chromium on a loaded machine now and then dies as it starts (its
	// crash handler's errors, no page): a fresh profile is tried again.
	var last error
	for try := 1; try <= 3; try++ {
		ctx, err := startBrowser(t, path, width, height)
		if err == nil {
			return ctx
		}
		last = err
		t.Logf("start chromium, try %d: %v", try, err)
	}
	t.Fatalf("start chromium: %v", last)
	return nil
}

// startBrowser starts one headless Chromium with a profile of its own; it
// stops when the test ends.
func startBrowser(t testing.TB, path string, width, height int) (context.Context, error) {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		// WebGL without a GPU: SwiftShader, which Chromium asks to be named.
		chromedp.Flag("use-angle", "swiftshader"),
		chromedp.Flag("enable-unsafe-swiftshader", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelB(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		cancelB()
		cancelA()
		return nil, err
	}
	return ctx, nil
}

// failedRequests records every request to the server that failed or
// answered with an error status.
type failedRequests struct {
	mu   sync.Mutex
	urls map[network.RequestID]string
	bad  []string
}

func watchRequests(t *testing.T, ctx context.Context) *failedRequests {
	fr := &failedRequests{urls: map[network.RequestID]string{}}
	err := chromedp.Listen(ctx, func(ev any) {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			fr.urls[ev.RequestID] = ev.Request.URL
		case *network.EventResponseReceived:
			if ev.Response.Status >= 400 {
				fr.bad = append(fr.bad, fmt.Sprintf("%d %s", int(ev.Response.Status), ev.Response.URL))
			}
		case *network.EventLoadingFailed:
			if !ev.Canceled {
				fr.bad = append(fr.bad, fmt.Sprintf("%s %s", ev.ErrorText, fr.urls[ev.RequestID]))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the page's requests: %v", err)
	}
	return fr
}

func (fr *failedRequests) list() []string {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	return append([]string(nil), fr.bad...)
}

// eval evaluates a JavaScript expression, waiting for it if it is a
// promise, and fails the test if it throws.
func eval[T any](t testing.TB, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// idle resolves once the map has drawn everything after the change the
// expression makes.
func idle(change string) string {
	return `new Promise(r => { const m = window.onemap.map; m.once("idle", () => r(true)); ` + change + `; m.triggerRepaint(); })`
}

// screenshot saves a PNG of the page under the test's artifacts, and into
// docs/ when ONEMAP_UPDATE_SCREENSHOTS is set and the docs show it.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(t.ArtifactDir(), name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
	updateDocsShot(t, name, png)
}

// renderedCount counts the features the map draws for a catalog layer.
func renderedCount(layer string) string {
	return fmt.Sprintf(`(() => {
		const m = window.onemap.map;
		const ids = m.getStyle().layers.filter(l => l.metadata && l.metadata["onemap:layer"] === %q).map(l => l.id);
		return m.queryRenderedFeatures({layers: ids}).length;
	})()`, layer)
}

func TestBrowserMap(t *testing.T) {
	url := startServer(t)
	ctx := browser(t, 1280, 800)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	failed := watchRequests(t, ctx)

	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/"), chromedp.WaitReady(chromedp.CSS("#map"))); err != nil {
		t.Fatalf("load the map: %v", err)
	}
	eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
	for _, layer := range []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.District} {
		if n := eval[int](t, ctx, renderedCount(layer)); n == 0 {
			t.Errorf("whole city: no %s features rendered", layer)
		}
	}
	screenshot(t, ctx, "city.png")
	// Zoom to the city centre, where the networks are dense, and wait for it.
	eval[bool](t, ctx, idle(`m.jumpTo({zoom: 15})`))
	for _, layer := range []string{layers.GasPipe, layers.WaterPipe, layers.DrainPipe, layers.Road, layers.Building} {
		if n := eval[int](t, ctx, renderedCount(layer)); n == 0 {
			t.Errorf("no %s features rendered", layer)
		}
	}
	screenshot(t, ctx, "map.png")

	t.Run("ToggleLayer", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("toggle-gas_pipe"))); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, ctx, idle(""))
		n := eval[int](t, ctx, renderedCount(layers.GasPipe))
		vis := eval[string](t, ctx, `(() => { const m = window.onemap.map; return m.getLayoutProperty(m.getStyle().layers.find(l => l.metadata && l.metadata["onemap:layer"] === "gas_pipe").id, "visibility"); })()`)
		if n != 0 || vis != "none" {
			t.Errorf("after the toggle: %d gas pipes drawn, visibility %q", n, vis)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("toggle-gas_pipe"))); err != nil {
			t.Fatal(err)
		}
		eval[bool](t, ctx, idle(""))
		if n := eval[int](t, ctx, renderedCount(layers.GasPipe)); n == 0 {
			t.Error("gas pipes did not come back")
		}
	})

	t.Run("Popup", func(t *testing.T) {
		// Click a point near the middle of the map where a water pipe is the
		// topmost feature drawn.
		pt := eval[[]float64](t, ctx, `(() => {
			const m = window.onemap.map;
			const c = m.getCanvas();
			const w = c.clientWidth, h = c.clientHeight;
			for (let x = w * 0.3; x < w * 0.7; x += 3) for (let y = h * 0.3; y < h * 0.7; y += 3) {
				const f = m.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]]).find(f => f.layer.type !== "fill");
				if (f && f.layer.metadata && f.layer.metadata["onemap:layer"] === "water_pipe") return [x, y];
			}
			return [];
		})()`)
		if len(pt) != 2 {
			t.Fatal("no water pipe under any point of the map's middle")
		}
		if err := chromedp.Do(ctx, chromedp.MouseClickXY(pt[0], pt[1]), chromedp.WaitVisible(chromedp.CSS(".onemap-popup"))); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".onemap-popup")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "供水管线") && !strings.Contains(text, "Water pipes") {
			t.Errorf("popup does not name the layer: %q", text)
		}
		if !strings.Contains(text, "管径") && !strings.Contains(text, "Diameter") {
			t.Errorf("popup does not show the diameter: %q", text)
		}
		screenshot(t, ctx, "popup.png")
	})

	t.Run("English", func(t *testing.T) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang-switch"))); err != nil {
			t.Fatal(err)
		}
		// The legend speaks English and the map draws its labels from name_en.
		eval[bool](t, ctx, `new Promise(r => { const m = window.onemap.map; const done = () => m.isStyleLoaded() && m.areTilesLoaded() ? r(true) : m.once("idle", done); m.once("styledata", () => m.once("idle", () => r(true))); })`)
		title, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("legend-title")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(title, "City") {
			t.Errorf("legend title %q, want English", title)
		}
		labels := eval[[]string](t, ctx, `(() => {
			const m = window.onemap.map;
			return m.queryRenderedFeatures().filter(f => f.layer.type === "symbol" && f.properties.name_en)
				.slice(0, 50).map(f => JSON.stringify(m.getLayoutProperty(f.layer.id, "text-field")));
		})()`)
		english := false
		for _, l := range labels {
			english = english || strings.Contains(l, "name_en")
		}
		if len(labels) == 0 || !english {
			t.Errorf("no label drawn from name_en: %v", labels)
		}
		screenshot(t, ctx, "english.png")
	})

	if bad := failed.list(); len(bad) > 0 {
		t.Errorf("failed requests: %v", bad)
	}
}
