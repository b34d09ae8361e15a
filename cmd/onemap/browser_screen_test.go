package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The big screen on a command centre's wall, at 1920×1080 and at
// 3840×2160: the dark style full-bleed under the panel and the ticker, type
// twice as large on the 4K wall, the title on one line, and the ticker
// showing the alarms that are active, as many as the panel counts, from the
// moment the page opens. The 4K wall is laid out at 3840×2160 CSS pixels
// and drawn at half that resolution: the layout is what is under test, and
// software WebGL takes a minute to fill 8 million pixels.
func TestBrowserScreenWall(t *testing.T) {
	url := startServer(t)
	const raised = 12
	for i := 1; i <= raised; i++ {
		postReading(t, url, fmt.Sprintf("GAS-%06d", i), "ch4_lel", 60)
	}
	sizes := map[int]float64{} // width → the title's font size
	for _, size := range [][2]int{{1920, 1080}, {3840, 2160}} {
		w, h := size[0], size[1]
		t.Run(fmt.Sprintf("%dx%d", w, h), func(t *testing.T) {
			scale := 1920.0 / float64(w)
			ctx, cancel := context.WithTimeout(browser(t, 1920, 1080), 180*time.Second)
			defer cancel()
			watchExceptions(t, ctx)
			failed := watchRequests(t, ctx)
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(int64(w), int64(h), chromedp.EmulateScale(scale)), chromedp.Navigate(url+"/?view=screen"), chromedp.WaitReady(chromedp.ID("map"))); err != nil {
				t.Fatal(err)
			}
			eval[bool](t, ctx, `window.onemap.ready.then(() => true)`)
			waitJS[bool](t, ctx, liveIsUp, 15*time.Second, "the live channel")
			if theme := eval[string](t, ctx, `window.onemap.map.getStyle().metadata["onemap:theme"]`); theme != "dark" {
				t.Errorf("the big screen's style is %q, want dark", theme)
			}
			type box struct{ Left, Top, Right, Bottom, Width, Height float64 }
			type layout struct {
				Vw, Vh         float64
				Map, Panel     box
				Ticker         box
				TitleFont      float64
				TitleLines     float64
				Total, Tickers int
			}
			l := waitJS[layout](t, ctx, fmt.Sprintf(`(() => {
				const r = (el) => { const b = el.getBoundingClientRect(); return {left: b.left, top: b.top, right: b.right, bottom: b.bottom, width: b.width, height: b.height}; };
				const total = Number(document.getElementById("screen-total").textContent);
				const items = document.querySelectorAll("#ticker-list .ticker-item").length;
				if (total !== %d || items !== total) return null;
				const h1 = document.getElementById("screen-title");
				const cs = getComputedStyle(h1);
				return {vw: innerWidth, vh: innerHeight, map: r(window.onemap.map.getCanvas()), panel: r(document.getElementById("screen-panel")),
					ticker: r(document.getElementById("alarm-ticker")), titleFont: parseFloat(cs.fontSize),
					titleLines: h1.getBoundingClientRect().height / parseFloat(cs.lineHeight), total, tickers: items};
			})()`, raised), 15*time.Second, "the panel counting the alarms and the ticker showing each")
			if l.Map.Left != 0 || l.Map.Top != 0 || l.Map.Width != l.Vw || l.Map.Height != l.Vh {
				t.Errorf("the map covers %+v of a %gx%g page, want all of it", l.Map, l.Vw, l.Vh)
			}
			if l.Panel.Right > l.Vw || l.Panel.Bottom > l.Vh || l.Panel.Left < l.Vw/2 {
				t.Errorf("the panel at %+v, want over the map's right side", l.Panel)
			}
			if l.Ticker.Right > l.Panel.Left || l.Ticker.Bottom > l.Vh {
				t.Errorf("the ticker at %+v runs under the panel at %+v or off the page", l.Ticker, l.Panel)
			}
			if l.TitleLines > 1.5 {
				t.Errorf("the title wraps onto %.1f lines", l.TitleLines)
			}
			sizes[w] = l.TitleFont
			// The whole city is in view beside the panel.
			if in := eval[bool](t, ctx, `(() => { const m = window.onemap.map; const b = m.getBounds(); return b.contains([117.22, 31.80]) && b.contains([117.3045, 31.8723]) && m.project([117.3045, 31.8723]).x < document.getElementById("screen-panel").getBoundingClientRect().left; })()`); !in {
				t.Error("the whole city is not in view beside the panel")
			}
			eval[bool](t, ctx, drawn)
			// The map is dark: the strip between the page's left edge and the
			// city is the dark ground.
			img := capture(t, ctx)
			if lum := meanLuminance(img, image.Rect(0, 0, img.Bounds().Dx()*3/5, img.Bounds().Dy()*4/5)); lum > 70 {
				t.Errorf("the map's mean luminance is %.0f of 255, want a dark map", lum)
			}
			screenshot(t, ctx, fmt.Sprintf("screen-%dx%d.png", w, h))
			if bad := failed.list(); len(bad) > 0 {
				t.Errorf("failed requests: %v", bad)
			}
		})
	}
	if a, b := sizes[1920], sizes[3840]; a == 0 || b < 1.8*a {
		t.Errorf("the title is %g px at 1920 and %g px at 3840 wide, want about twice as large on the 4K wall", a, b)
	}
}

// capture is the page as an image, to read its pixels.
func capture(t *testing.T, ctx context.Context) image.Image {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// meanLuminance is the mean luma (0–255) of an image's pixels in r.
func meanLuminance(img image.Image, r image.Rectangle) float64 {
	var sum float64
	var n int
	for y := r.Min.Y; y < r.Max.Y; y += 4 {
		for x := r.Min.X; x < r.Max.X; x += 4 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			sum += (0.299*float64(cr) + 0.587*float64(cg) + 0.114*float64(cb)) / 257
			n++
		}
	}
	return sum / float64(max(n, 1))
}
