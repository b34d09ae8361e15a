package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/mapstyle"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/tiles"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
)

// centre is a point in the middle of tile 14/13530/6660.
var centre = tiles.Tile{Z: 14, X: 13530, Y: 6660}.Bound(0).Center()

func near(dx, dy float64) orb.Point { return orb.Point{centre[0] + dx, centre[1] + dy} }

// testServer serves a small city: a gas pipe, a valve, a water pipe and a school.
func testServer(t *testing.T) *httptest.Server {
	t.Helper()
	c := &city.City{
		Meta: city.Meta{Name: "测试区", NameEn: "Test District", Bounds: [4]float64{117.2, 31.8, 117.3, 31.9}, Center: [2]float64(centre), Zoom: 13},
		Features: map[string][]*layers.Feature{
			layers.GasPipe: {{ID: layers.MakeID(10, 1), Layer: layers.GasPipe, MinZoom: 10, Geometry: orb.LineString{near(-0.001, 0), near(0.001, 0)},
				Props: map[string]any{"pressure_class": "medium_a", "diameter_mm": 200.0}}},
			layers.GasNode: {{ID: layers.MakeID(11, 1), Layer: layers.GasNode, MinZoom: 14, Geometry: near(-0.001, 0), Props: map[string]any{"kind": "valve"}}},
			layers.WaterPipe: {{ID: layers.MakeID(12, 1), Layer: layers.WaterPipe, MinZoom: 10, Geometry: orb.LineString{near(0, -0.001), near(0, 0.001)},
				Props: map[string]any{"class": "main", "diameter_mm": 600.0}}},
			layers.ProtectiveTarget: {{ID: layers.MakeID(22, 1), Layer: layers.ProtectiveTarget, MinZoom: 11, Geometry: near(0.0005, 0.0005),
				Props: map[string]any{"name": "第一小学", "kind": "school"}}},
		},
	}
	s := newTestServer(Options{
		Catalog:    layers.Default(),
		Store:      memory.New(c),
		Frontend:   fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>onemap</title>")}},
		CacheBytes: 1 << 20,
	})
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// Ask for no compression unless the test does, so bodies read plainly.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTile(t *testing.T) {
	ts := testServer(t)
	resp := get(t, ts.URL+"/tiles/gas_pipe,gas_node,protective_target/14/13530/6660.mvt")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body(t, resp))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.mapbox-vector-tile" {
		t.Errorf("Content-Type = %q", ct)
	}
	if resp.Header.Get("ETag") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age") {
		t.Errorf("caching headers: %v", resp.Header)
	}
	ls, err := mvt.Unmarshal(body(t, resp))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]uint64{}
	for _, l := range ls {
		for _, f := range l.Features {
			got[l.Name] = uint64(f.ID.(float64))
		}
	}
	want := map[string]uint64{layers.GasPipe: layers.MakeID(10, 1), layers.GasNode: layers.MakeID(11, 1), layers.ProtectiveTarget: layers.MakeID(22, 1)}
	for l, id := range want {
		if got[l] != id {
			t.Errorf("layer %s: feature %d, want %d", l, got[l], id)
		}
	}
	if _, ok := got[layers.WaterPipe]; ok {
		t.Error("water_pipe was not asked for but is in the tile")
	}
}

func TestTileGzipAndETag(t *testing.T) {
	ts := testServer(t)
	url := ts.URL + "/tiles/gas_pipe,water_pipe/14/13530/6660.mvt"
	plain := body(t, get(t, url))
	resp := get(t, url, "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", resp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain) {
		t.Error("gzipped tile differs from the plain one")
	}
	etag := resp.Header.Get("ETag")
	if r := get(t, url, "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", r.StatusCode)
	}
}

func TestTileEmpty(t *testing.T) {
	ts := testServer(t)
	// A tile far from the city, and one of the city at a zoom below the layer's.
	for _, p := range []string{"/tiles/gas_pipe/14/0/0.mvt", "/tiles/gas_node/12/3382/1665.mvt"} {
		if r := get(t, ts.URL+p); r.StatusCode != http.StatusNoContent {
			t.Errorf("%s: status %d, want 204", p, r.StatusCode)
		}
	}
}

func TestBadRequests(t *testing.T) {
	ts := testServer(t)
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"ZoomTooHigh", "/tiles/gas_pipe/25/0/0.mvt", 400, CodeBadZoom},
		{"ZoomNegative", "/tiles/gas_pipe/-1/0/0.mvt", 400, CodeBadZoom},
		{"ZoomNotNumber", "/tiles/gas_pipe/abc/0/0.mvt", 400, CodeBadPath},
		{"XOutOfRange", "/tiles/gas_pipe/3/8/0.mvt", 400, CodeBadTile},
		{"YOutOfRange", "/tiles/gas_pipe/3/0/8.mvt", 400, CodeBadTile},
		{"NegativeX", "/tiles/gas_pipe/3/-1/0.mvt", 400, CodeBadTile},
		{"UnknownLayer", "/tiles/sewer_pipe/14/0/0.mvt", 404, CodeUnknownLayer},
		{"UnknownInComposite", "/tiles/gas_pipe,nope/14/0/0.mvt", 404, CodeUnknownLayer},
		{"EmptyLayerName", "/tiles/gas_pipe,/14/0/0.mvt", 404, CodeUnknownLayer},
		{"NoSuffix", "/tiles/gas_pipe/14/0/0.png", 400, CodeBadPath},
		{"TooManyLayers", "/tiles/" + strings.Repeat("building,", 3000) + "building/14/0/0.mvt", 400, CodeTooManyLayers},
		{"TileJSONLongName", "/tiles/" + strings.Repeat("x", 5000) + ".json", 404, CodeUnknownLayer},
		{"TooShort", "/tiles/gas_pipe/14/0", 400, CodeBadPath},
		{"TooLong", "/tiles/gas_pipe/14/0/0/0.mvt", 400, CodeBadPath},
		{"TileJSONUnknown", "/tiles/nope.json", 404, CodeUnknownLayer},
		{"TileJSONNoSuffix", "/tiles/gas_pipe", 400, CodeBadPath},
		{"NoRoute", "/api/v0/nothing", 404, CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, ts.URL+tt.path)
			var e struct {
				Error struct{ Code, Message string }
			}
			b := body(t, resp)
			if err := json.Unmarshal(b, &e); err != nil {
				t.Fatalf("body %q is not a JSON error: %v", b, err)
			}
			if resp.StatusCode != tt.status || e.Error.Code != tt.code || e.Error.Message == "" {
				t.Errorf("status %d code %q message %q; want %d %q", resp.StatusCode, e.Error.Code, e.Error.Message, tt.status, tt.code)
			}
			if n := len([]rune(e.Error.Message)); n > maxMessage+1 {
				t.Errorf("a message of %d characters", n)
			}
		})
	}
	t.Run("MethodNotAllowed", func(t *testing.T) {
		resp, err := http.Post(ts.URL+"/tiles/gas_pipe/14/0/0.mvt", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("status %d, want 405", resp.StatusCode)
		}
	})
}

// A layer named twice in a composite tile is in it once.
func TestCompositeTileLayersOnce(t *testing.T) {
	ts := testServer(t)
	path := "/14/13530/6660.mvt"
	once := body(t, get(t, ts.URL+"/tiles/gas_pipe,protective_target"+path))
	twice := body(t, get(t, ts.URL+"/tiles/gas_pipe,protective_target,gas_pipe,gas_pipe"+path))
	if len(once) == 0 || !bytes.Equal(once, twice) {
		t.Errorf("tile of two layers: %d bytes; naming one again: %d bytes, want the same tile", len(once), len(twice))
	}
}

func TestTileJSON(t *testing.T) {
	ts := testServer(t)
	resp := get(t, ts.URL+"/tiles/gas_pipe.json")
	var tj tiles.TileJSON
	if err := json.Unmarshal(body(t, resp), &tj); err != nil {
		t.Fatal(err)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != ts.URL+"/tiles/gas_pipe/{z}/{x}/{y}.mvt" {
		t.Errorf("tilejson %q tiles %v", tj.TileJSON, tj.Tiles)
	}
	if tj.MinZoom != 10 || tj.MaxZoom < tj.MinZoom || tj.Bounds != [4]float64{117.2, 31.8, 117.3, 31.9} || tj.Center[2] < 10 {
		t.Errorf("zooms %d–%d bounds %v center %v", tj.MinZoom, tj.MaxZoom, tj.Bounds, tj.Center)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != layers.GasPipe || tj.VectorLayers[0].Fields["diameter_mm"] != "Number" || tj.VectorLayers[0].Fields["pressure_class"] != "String" {
		t.Errorf("vector_layers = %+v", tj.VectorLayers)
	}
}

func TestCatalog(t *testing.T) {
	ts := testServer(t)
	type field struct {
		Name, Type, Unit, Mask string
		Required, Personal     bool
		Values                 []string
		ValueTitles            map[string]struct{ Zh, En string } `json:"value_titles"`
	}
	var cat struct {
		Groups []struct{ ID string }
		Layers []struct {
			ID, Group, Geometry, TileJSON, CRS string
			MinZoom, Count                     int
			Bounds                             *[4]float64
			Title                              struct{ Zh, En string }
			Fields                             []field
		}
	}
	if err := json.Unmarshal(body(t, get(t, ts.URL+"/catalog")), &cat); err != nil {
		t.Fatal(err)
	}
	if len(cat.Layers) != len(layers.Default().Layers()) || len(cat.Groups) == 0 {
		t.Fatalf("catalog has %d layers and %d groups", len(cat.Layers), len(cat.Groups))
	}
	fields := map[string]field{}
	for _, l := range cat.Layers {
		if l.Title.Zh == "" || l.Title.En == "" || l.Geometry == "" || l.TileJSON != ts.URL+"/tiles/"+l.ID+".json" || len(l.Fields) == 0 || l.CRS != "EPSG:4326" {
			t.Errorf("layer %+v is incomplete", l)
		}
		if l.ID == layers.GasPipe && l.Count != 1 {
			t.Errorf("gas_pipe count = %d, want 1", l.Count)
		}
		for _, f := range l.Fields {
			fields[l.ID+"."+f.Name] = f
		}
		// The test city's gas pipe runs from 0.001° west of the centre to
		// 0.001° east; a layer without features has no bounds.
		switch l.ID {
		case layers.GasPipe:
			want := [4]float64{near(-0.001, 0)[0], centre[1], near(0.001, 0)[0], centre[1]}
			if l.Bounds == nil || *l.Bounds != want {
				t.Errorf("gas_pipe bounds = %v, want %v", l.Bounds, want)
			}
		case layers.Bridge:
			if l.Bounds != nil {
				t.Errorf("bridge, without features, has bounds %v", *l.Bounds)
			}
		}
	}
	if f := fields["gas_pipe.diameter_mm"]; !f.Required || f.Type != "Number" || f.Unit != "mm" {
		t.Errorf("gas_pipe.diameter_mm = %+v, want a required Number in mm", f)
	}
	if f := fields["gas_pipe.owner"]; f.Required {
		t.Errorf("gas_pipe.owner is marked required")
	}
	f := fields["gas_pipe.pressure_class"]
	if !f.Required || len(f.Values) != 7 || f.Values[4] != "medium_a" || f.ValueTitles["medium_a"].Zh != "中压A" || f.ValueTitles["medium_a"].En != "Medium pressure A" {
		t.Errorf("gas_pipe.pressure_class = %+v, want the pressure classes with their titles", f)
	}
	if f := fields["bridge.contact_phone"]; !f.Personal || f.Mask != "phone" {
		t.Errorf("bridge.contact_phone = %+v, want personal, masked as a phone", f)
	}
}

func TestHealthAndFrontend(t *testing.T) {
	ts := testServer(t)
	if r := get(t, ts.URL+"/healthz"); r.StatusCode != 200 {
		t.Errorf("healthz status %d", r.StatusCode)
	}
	r := get(t, ts.URL+"/")
	if b := body(t, r); r.StatusCode != 200 || !strings.Contains(string(b), "<title>onemap</title>") {
		t.Errorf("/ = %d %q", r.StatusCode, b)
	}
	// HEAD answers as GET does, without the body.
	for _, path := range []string{"/", "/healthz", "/catalog", "/tiles/gas_pipe/14/13700/6700"} {
		req, _ := http.NewRequest(http.MethodHead, ts.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != get(t, ts.URL+path).StatusCode || len(b) != 0 {
			t.Errorf("HEAD %s = %d with %d bytes, want GET's status and no body", path, resp.StatusCode, len(b))
		}
	}
}

func TestStyleGlyphsSprite(t *testing.T) {
	ts := testServer(t)
	for _, lang := range []string{"", "?lang=en", "?theme=dark", "?lang=en&theme=dark"} {
		resp := get(t, ts.URL+"/style.json"+lang)
		var st struct {
			Version  int
			Glyphs   string
			Sprite   string
			Metadata map[string]string
			Layers   []struct{ ID string }
		}
		if err := json.Unmarshal(body(t, resp), &st); err != nil || resp.StatusCode != 200 {
			t.Fatalf("style%s: %d %v", lang, resp.StatusCode, err)
		}
		if st.Version != 8 || st.Glyphs != ts.URL+"/fonts/{fontstack}/{range}.pbf" || st.Sprite != ts.URL+"/sprite" || len(st.Layers) < 20 {
			t.Errorf("style%s: version %d glyphs %q sprite %q, %d layers", lang, st.Version, st.Glyphs, st.Sprite, len(st.Layers))
		}
		if theme := st.Metadata["onemap:theme"]; (theme == "dark") != strings.Contains(lang, "dark") {
			t.Errorf("style%s: theme %q", lang, theme)
		}
	}
	for path, ct := range map[string]string{
		"/fonts/" + strings.ReplaceAll(mapstyle.FontRegular, " ", "%20") + "/0-255.pbf":       "application/x-protobuf",
		"/fonts/" + strings.ReplaceAll(mapstyle.FontRegular, " ", "%20") + "/19968-20223.pbf": "application/x-protobuf", // CJK: drawn by the browser, answered empty
		"/sprite.json":    "application/json",
		"/sprite@2x.json": "application/json",
		"/sprite.png":     "image/png",
		"/sprite@2x.png":  "image/png",
	} {
		resp := get(t, ts.URL+path)
		if b := body(t, resp); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) || (len(b) == 0 && !strings.Contains(path, "19968")) {
			t.Errorf("%s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
	}
	for path, want := range map[string]int{
		"/style.json?lang=fr":                 400,
		"/style.json?theme=night":             400,
		"/fonts/Comic%20Sans/0-255.pbf":       404,
		"/fonts/Go%20Regular/0-99.pbf":        400,
		"/fonts/Go%20Regular/5-260.pbf":       400,
		"/fonts/Go%20Regular/65536-65791.pbf": 400,
		"/fonts/Go%20Regular/a-b.pbf":         400,
	} {
		resp := get(t, ts.URL+path)
		var e struct{ Error struct{ Code string } }
		json.Unmarshal(body(t, resp), &e)
		if resp.StatusCode != want || e.Error.Code == "" {
			t.Errorf("%s: %d %q, want %d with a code", path, resp.StatusCode, e.Error.Code, want)
		}
	}
}
