package main

import (
	"context"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
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
