package server

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/spatial"
)

// checkRefusal fails unless err is a listed code with a short message.
func checkRefusal(t *testing.T, err error, code string) {
	t.Helper()
	ae, ok := err.(*apiError)
	if !ok || ae.Code != code || ae.Status != 400 && ae.Status != 404 {
		t.Fatalf("error %#v, want %s", err, code)
	}
	if n := utf8.RuneCountInString(ae.Message); n > maxMessage {
		t.Fatalf("a message of %d characters", n)
	}
}

func finiteAll(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func FuzzParsePoint(f *testing.F) {
	for _, s := range [][2]string{{"117.26", "31.84"}, {"NaN", "0"}, {"0", "Inf"}, {"-180", "-85.06"}, {"1e400", "0"}, {"0x1p-2", "1_0"}, {" 1", "2 "}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, lon, lat string) {
		p, err := parsePoint(lon, lat)
		if err != nil {
			checkRefusal(t, err, CodeBadPoint)
			return
		}
		if !finiteAll(p[0], p[1]) || math.Abs(p[0]) > 180 || math.Abs(p[1]) > maxLat {
			t.Fatalf("accepted %v", p)
		}
	})
}

func FuzzParseRadius(f *testing.F) {
	for _, s := range []string{"100", "0", "-1", "NaN", "+Inf", "5000", "5000.0001", "1e-300", "  7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r, err := parseRadius(q)
		if err != nil {
			checkRefusal(t, err, CodeBadRadius)
		} else if !finiteAll(r) || r <= 0 || r > spatial.MaxRadius {
			t.Fatalf("accepted radius %v", r)
		}
		d, err := parseMetres(q, "distance", 12.5, true, 500)
		if err != nil {
			checkRefusal(t, err, CodeBadRadius)
		} else if !finiteAll(d) || d < 0 || d > 500 {
			t.Fatalf("accepted distance %v", d)
		}
		n, err := parseLimit(q, 10, 5000)
		if err != nil {
			checkRefusal(t, err, CodeBadRequest)
		} else if n < 1 || n > 5000 {
			t.Fatalf("accepted limit %d", n)
		}
	})
}

func FuzzParseBBox(f *testing.F) {
	for _, s := range []string{"117,31,118,32", "NaN,31,118,32", "117,31,Inf,32", "118,31,117,32", "1,2,3", "1,2,3,4,5", "-180,-90,180,90", ",,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		b, err := parseBBox(q)
		if err != nil {
			checkRefusal(t, err, CodeBadBBox)
			return
		}
		if !finiteAll(b.Min[0], b.Min[1], b.Max[0], b.Max[1]) || b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 ||
			b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			t.Fatalf("accepted %v", b)
		}
	})
}

func FuzzParseLayers(f *testing.F) {
	cat := layers.Default()
	for _, s := range []string{"hazard", "hazard,building,hazard", "", ",", "school", strings.Repeat("building,", 40) + "building", "gas_pipe,protective_target"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		names, err := parseLayers(cat, q)
		if err != nil {
			ae, _ := err.(*apiError)
			if ae == nil || ae.Code != CodeTooManyLayers && ae.Code != CodeUnknownLayer {
				t.Fatalf("error %#v", err)
			}
			checkRefusal(t, err, ae.Code)
			return
		}
		if len(names) == 0 || len(names) > len(cat.Layers()) {
			t.Fatalf("%d layers", len(names))
		}
		seen := map[string]bool{}
		for _, n := range names {
			if _, err := cat.Layer(n); err != nil || seen[n] {
				t.Fatalf("layer %q unknown or twice in %v", n, names)
			}
			seen[n] = true
		}
	})
}
