package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/performance"
	"github.com/chromedp/chromedp"
)

// drawnTimes resolves, in a page being loaded, to the milliseconds from
// the navigation to the map's first complete frame (window.onemap.ready)
// and to the live channel's first snapshot, whichever came later: the map
// fully drawn with the city's state on it.
const drawnTimes = `new Promise((resolve) => {
	const wait = async () => {
		while (!(window.onemap && window.onemap.ready)) await new Promise(r => setTimeout(r, 10));
		await window.onemap.ready;
		const drawn = performance.now();
		while (!(window.onemap.live && window.onemap.live.snapshots > 0)) await new Promise(r => setTimeout(r, 10));
		resolve(Math.max(drawn, performance.now()));
	};
	wait();
})`

// BenchmarkBrowserDrawn measures, in Chromium on the sample city, the time
// from opening each view to its map fully drawn with the live state: first
// in a fresh browser profile (nothing cached), then warm (a reload, tiles,
// style and scripts in the browser's cache). One iteration is one fresh
// browser; first-ms and warm-ms are the means.
//
//	go test -run '^$' -bench BenchmarkBrowserDrawn -benchtime 5x ./cmd/onemap
func BenchmarkBrowserDrawn(b *testing.B) {
	url := startServer(b)
	s := sensorAt(b, url, "GAS-000001")
	for _, v := range []struct {
		name, path string
		w, h       int
	}{
		{"desktop", "/", 1280, 800},
		{"screen", "/?view=screen", 1920, 1080},
		{"phone", "/?view=phone", 390, 844},
	} {
		b.Run(v.name, func(b *testing.B) {
			var first, warm time.Duration
			for b.Loop() {
				b.StopTimer()
				ctx := browser(b, v.w, v.h)
				ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				if v.name == "phone" {
					lat, lon, acc := s.Location[1], s.Location[0], 10.0
					chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
						Permission: &cdpbrowser.PermissionDescriptor{Name: "geolocation"}, Setting: cdpbrowser.PermissionSettingGranted, Origin: url,
					})
					chromedp.Call(ctx, emulation.SetGeolocationOverride, emulation.SetGeolocationOverrideParams{Latitude: &lat, Longitude: &lon, Accuracy: &acc})
				}
				b.StartTimer()
				if err := chromedp.Do(ctx, chromedp.Navigate(url+v.path)); err != nil {
					b.Fatal(err)
				}
				first += time.Duration(eval[float64](b, ctx, drawnTimes) * float64(time.Millisecond))
				if err := chromedp.Do(ctx, chromedp.Reload()); err != nil {
					b.Fatal(err)
				}
				warm += time.Duration(eval[float64](b, ctx, drawnTimes) * float64(time.Millisecond))
				b.StopTimer()
				cancel()
				b.StartTimer()
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-ms")
			b.ReportMetric(float64(warm.Milliseconds())/float64(b.N), "warm-ms")
		})
	}
}

// frameTimes resolves, after %d ms of frames, to the intervals between
// them: {p50, p95, max} in milliseconds and the number of frames.
const frameTimes = `new Promise((resolve) => {
	const gaps = [];
	let last = performance.now();
	const end = last + %d;
	const frame = (now) => {
		gaps.push(now - last);
		last = now;
		if (now < end) return requestAnimationFrame(frame);
		gaps.sort((a, b) => a - b);
		resolve({p50: gaps[Math.floor(gaps.length * 0.5)], p95: gaps[Math.floor(gaps.length * 0.95)], max: gaps[gaps.length - 1], frames: gaps.length});
	};
	requestAnimationFrame(frame);
})`

type frames struct{ P50, P95, Max, Frames float64 }

// BenchmarkBrowserFrames measures, in Chromium (software WebGL) on the
// sample city, the time between frames for 5 s: the big screen during an
// alarm storm (200 level 1 alarms blinking), and the 3D view at the city's
// centre while the camera turns a quarter round. One iteration is one
// fresh browser; the figures are the last iteration's.
//
//	go test -run '^$' -bench BenchmarkBrowserFrames -benchtime 3x ./cmd/onemap
func BenchmarkBrowserFrames(b *testing.B) {
	url := startServer(b)
	// One batch: the ingest's rate limit counts requests.
	var batch []string
	ts := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	for i := 1; i <= 200; i++ {
		batch = append(batch, fmt.Sprintf(`{"sensor":"GAS-%06d","metric":"ch4_lel","value":60,"ts":%q}`, i, ts))
	}
	res, err := postIngest(url+"/api/v1/readings", "application/json", strings.NewReader("["+strings.Join(batch, ",")+"]"))
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("POST readings: %s", res.Status)
	}
	const window = 5000
	for _, v := range []struct {
		name, path, ready, move string
	}{
		{"screen-storm", "/?view=screen", `window.onemap.screen && Number(document.getElementById("screen-total").textContent) === 200`, ""},
		{"scene-3d", "/?mode=3d", `window.onemap.map.getContainer().dataset.scene === "ready"`,
			`window.onemap.map.rotateTo(window.onemap.map.getBearing() + 90, {duration: 5000})`},
	} {
		b.Run(v.name, func(b *testing.B) {
			var f frames
			for b.Loop() {
				b.StopTimer()
				ctx, cancel := context.WithTimeout(browser(b, 1920, 1080), 120*time.Second)
				if err := chromedp.Do(ctx, chromedp.Navigate(url+v.path)); err != nil {
					b.Fatal(err)
				}
				eval[bool](b, ctx, fmt.Sprintf(`new Promise((resolve) => { const check = () => { let ok = false; try { ok = Boolean(%s); } catch (e) {} ok ? resolve(true) : setTimeout(check, 100); }; check(); })`, v.ready))
				eval[bool](b, ctx, drawn)
				if v.move != "" {
					eval[bool](b, ctx, "("+v.move+", true)")
				}
				b.StartTimer()
				f = eval[frames](b, ctx, fmt.Sprintf(frameTimes, window))
				b.StopTimer()
				cancel()
				b.StartTimer()
			}
			b.ReportMetric(f.P50, "p50-frame-ms")
			b.ReportMetric(f.P95, "p95-frame-ms")
			b.ReportMetric(f.Max, "max-frame-ms")
			b.ReportMetric(f.Frames, "frames")
		})
	}
}

// BenchmarkBrowserScreenSoak keeps the big screen open on a server that
// simulates the sample city (--simulate: readings every few seconds and the
// city's scenarios, alarms raised and cleared) for ONEMAP_SOAK (a Go
// duration, 2m unless set; the figures in docs/BENCHMARKS.md are of 1h),
// and samples the page's JavaScript heap after a garbage collection, its
// DOM nodes and its listeners every minute. It reports the first and last
// samples and the largest heap; a page that leaks grows from first to last.
//
//	ONEMAP_SOAK=1h go test -run '^$' -bench BenchmarkBrowserScreenSoak -benchtime 1x -timeout 2h ./cmd/onemap
func BenchmarkBrowserScreenSoak(b *testing.B) {
	soak := 2 * time.Minute
	if v := os.Getenv("ONEMAP_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			b.Fatalf("ONEMAP_SOAK=%q: want a Go duration of a minute or more", v)
		}
		soak = d
	}
	url := startServer(b, "--simulate")
	type sample struct{ Heap, Nodes, Listeners, Connects, Alarms float64 }
	var first, last sample
	var most float64
	for b.Loop() {
		ctx, cancel := context.WithTimeout(browser(b, 1920, 1080), soak+5*time.Minute)
		if _, err := chromedp.Call(ctx, performance.Enable, performance.EnableParams{}); err != nil {
			b.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(url+"/?view=screen")); err != nil {
			b.Fatal(err)
		}
		eval[bool](b, ctx, `window.onemap.ready.then(() => true)`)
		take := func() sample {
			if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
				b.Fatal(err)
			}
			res, err := chromedp.Call(ctx, performance.GetMetrics, cdp.Empty{})
			if err != nil {
				b.Fatal(err)
			}
			metrics := res.Metrics
			var s sample
			for _, m := range metrics {
				switch m.Name {
				case "JSHeapUsedSize":
					s.Heap = m.Value / (1 << 20)
				case "Nodes":
					s.Nodes = m.Value
				case "JSEventListeners":
					s.Listeners = m.Value
				}
			}
			s.Connects = eval[float64](b, ctx, `window.onemap.live ? window.onemap.live.connects : 0`)
			s.Alarms = eval[float64](b, ctx, `Number(document.getElementById("screen-total").textContent) || 0`)
			most = max(most, s.Heap)
			return s
		}
		time.Sleep(30 * time.Second) // the first snapshot, the first scenarios
		first = take()
		b.Logf("0 min: heap %.1f MB, %g nodes, %g listeners, %g alarms", first.Heap, first.Nodes, first.Listeners, first.Alarms)
		for start, i := time.Now(), 1; time.Since(start) < soak; i++ {
			time.Sleep(min(time.Minute, soak-time.Since(start)))
			last = take()
			b.Logf("%d min: heap %.1f MB, %g nodes, %g listeners, %g alarms, %g connects", i, last.Heap, last.Nodes, last.Listeners, last.Alarms, last.Connects)
		}
		cancel()
	}
	b.ReportMetric(first.Heap, "heap-first-MB")
	b.ReportMetric(last.Heap, "heap-last-MB")
	b.ReportMetric(most, "heap-max-MB")
	b.ReportMetric(first.Nodes, "nodes-first")
	b.ReportMetric(last.Nodes, "nodes-last")
	b.ReportMetric(last.Connects, "connects")
}
