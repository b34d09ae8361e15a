package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

type ogcPage struct {
	Type     string
	Features []struct {
		Type       string
		ID         uint64
		Geometry   map[string]any
		Properties map[string]any
	}
	NumberMatched  *int
	NumberReturned *int
	TimeStamp      string
	Links          []ogcLink
}

func (p *ogcPage) link(rel string) string {
	for _, l := range p.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func (p *ogcPage) ids() []uint64 {
	out := []uint64{}
	for _, f := range p.Features {
		out = append(out, f.ID)
	}
	return out
}

func ogcServer(t *testing.T) (string, *memory.Store) {
	t.Helper()
	st := memory.New(storetest.ItemsCity())
	ts := httptest.NewServer(newTestServer(Options{Catalog: layers.Default(), Store: st}).Handler())
	t.Cleanup(ts.Close)
	return ts.URL, st
}

// ogcGet fetches url as role ("" for the anonymous viewer) and decodes
// the body into v when the status is want.
func ogcGet(t *testing.T, url, role string, want int, v any) string {
	t.Helper()
	token := ""
	if role != "" {
		token = "role:" + role
	}
	resp, b := send(t, "GET", url, token, "", "")
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s; want %d", url, resp.StatusCode, b, want)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp.Header.Get("Content-Type")
}

func ogcError(t *testing.T, url string, status int, code string) {
	t.Helper()
	var e struct{ Error apiError }
	ogcGet(t, url, "", status, &e)
	if e.Error.Code != code {
		t.Errorf("GET %s: code %q, want %q", url, e.Error.Code, code)
	}
}

func TestOGCLandingAndConformance(t *testing.T) {
	base, _ := ogcServer(t)
	var land struct {
		Title string
		Links []ogcLink
	}
	if ct := ogcGet(t, base+"/ogc", "", 200, &land); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("landing page type %q", ct)
	}
	rels := map[string]string{}
	for _, l := range land.Links {
		rels[l.Rel] = l.Href
	}
	for rel, path := range map[string]string{"self": "/ogc", "conformance": "/ogc/conformance", "data": "/ogc/collections"} {
		if rels[rel] != base+path {
			t.Errorf("landing link %s = %q, want %q", rel, rels[rel], base+path)
		}
	}
	if _, ok := rels["service-desc"]; ok {
		t.Error("the landing page links an API description, which is not served")
	}
	var conf struct{ ConformsTo []string }
	ogcGet(t, base+"/ogc/conformance", "", 200, &conf)
	want := []string{"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core", "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"}
	if !slices.Equal(conf.ConformsTo, want) {
		t.Errorf("conformsTo %v, want %v (no oas30 or html: neither is served)", conf.ConformsTo, want)
	}
	ogcError(t, base+"/ogc?f=html", 400, CodeBadRequest)
	ogcGet(t, base+"/ogc?f=json", "", 200, nil)
}

func TestOGCCollections(t *testing.T) {
	base, st := ogcServer(t)
	type coll struct {
		ID, Title, Description, ItemType string
		CRS                              []string
		Extent                           struct {
			Spatial struct {
				BBox [][4]float64
				CRS  string
			}
		}
		Links []ogcLink
	}
	var all struct{ Collections []coll }
	ogcGet(t, base+"/ogc/collections", "", 200, &all)
	cat := layers.Default()
	var want, got []string
	for _, l := range cat.Layers() {
		if !l.Derived {
			want = append(want, l.ID)
		}
	}
	ownExtent := 0
	for _, c := range all.Collections {
		got = append(got, c.ID)
		l, err := cat.Layer(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Title != l.Title.Zh || c.Description != l.Title.En || c.ItemType != "feature" || !slices.Equal(c.CRS, []string{crs84}) {
			t.Errorf("collection %+v", c)
		}
		want := st.Meta().Bounds
		if b, ok, _ := st.Bounds(context.Background(), c.ID); ok {
			want = [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		}
		if want != st.Meta().Bounds {
			ownExtent++
		}
		if len(c.Extent.Spatial.BBox) != 1 || c.Extent.Spatial.BBox[0] != want || c.Extent.Spatial.CRS != crs84 {
			t.Errorf("%s extent %+v, want the bounds of its features %v", c.ID, c.Extent, want)
		}
		items := ""
		for _, lk := range c.Links {
			if lk.Rel == "items" && lk.Type == geoJSONType {
				items = lk.Href
			}
		}
		if items != base+"/ogc/collections/"+c.ID+"/items" {
			t.Errorf("%s items link %q", c.ID, items)
		}
	}
	if ownExtent == 0 {
		t.Error("no collection's extent is its own: each is the city's")
	}
	if !slices.Equal(got, want) {
		t.Errorf("collections %v, want the stored layers %v", got, want)
	}
	var one coll
	ogcGet(t, base+"/ogc/collections/gas_pipe", "", 200, &one)
	if one.ID != "gas_pipe" || one.Title != "燃气管线" || one.Description != "Gas pipes" {
		t.Errorf("gas_pipe: %+v", one)
	}
	ogcError(t, base+"/ogc/collections/nope", 404, CodeUnknownLayer)
	ogcError(t, base+"/ogc/collections/risk_zone", 404, CodeUnknownLayer) // derived: no store's
	ogcError(t, base+"/ogc/collections/nope/items", 404, CodeUnknownLayer)
	ogcError(t, base+"/ogc/collections/nope/items/1", 404, CodeUnknownLayer)
}

// Following next from the first page reads every feature once, in id
// order, each page counting all that match; prev goes back.
func TestOGCItemsPaging(t *testing.T) {
	base, st := ogcServer(t)
	var all []uint64
	for n := uint64(1); n <= 25; n++ {
		all = append(all, layers.MakeID(11, n))
	}
	u := base + "/ogc/collections/gas_node/items?limit=10"
	var got []uint64
	var pages []ogcPage
	for u != "" && len(pages) < 10 {
		var p ogcPage
		if ct := ogcGet(t, u, "", 200, &p); ct != geoJSONType {
			t.Errorf("items type %q, want %s", ct, geoJSONType)
		}
		if p.Type != "FeatureCollection" || p.NumberMatched == nil || *p.NumberMatched != 25 || p.NumberReturned == nil || *p.NumberReturned != len(p.Features) || p.TimeStamp == "" {
			t.Errorf("page %d: %+v", len(pages), p)
		}
		if p.link("self") != u {
			t.Errorf("self %q, want %q", p.link("self"), u)
		}
		got = append(got, p.ids()...)
		pages = append(pages, p)
		u = p.link("next")
	}
	if !slices.Equal(got, all) || len(pages) != 3 {
		t.Fatalf("%d pages of %v, want 3 of %v", len(pages), got, all)
	}
	if pages[0].link("prev") != "" || pages[1].link("prev") == "" || pages[2].link("next") != "" {
		t.Errorf("prev and next links: %+v", [][]ogcLink{pages[0].Links, pages[1].Links, pages[2].Links})
	}
	var back ogcPage
	ogcGet(t, pages[2].link("prev"), "", 200, &back)
	if !slices.Equal(back.ids(), all[10:20]) {
		t.Errorf("prev of the last page: %v, want %v", back.ids(), all[10:20])
	}
	// By offset alone, as a client may ask.
	var p ogcPage
	ogcGet(t, base+"/ogc/collections/gas_node/items?limit=10&offset=20", "", 200, &p)
	if !slices.Equal(p.ids(), all[20:]) || p.link("next") != "" || !strings.Contains(p.link("prev"), "offset=10") {
		t.Errorf("offset 20: %v, links %+v", p.ids(), p.Links)
	}
	ogcGet(t, base+"/ogc/collections/gas_node/items?offset=1000", "", 200, &p)
	if len(p.Features) != 0 || *p.NumberMatched != 25 || p.link("next") != "" {
		t.Errorf("past the end: %+v", p)
	}
	// Without a limit: 100 at most, every feature here; counts are the store's.
	for _, l := range layers.Default().Layers() {
		if l.Derived {
			continue
		}
		var p ogcPage
		ogcGet(t, base+"/ogc/collections/"+l.ID+"/items", "", 200, &p)
		n, _ := st.Count(context.Background(), l.ID)
		if *p.NumberMatched != n || len(p.Features) != min(n, OGCDefaultLimit) {
			t.Errorf("%s: matched %d, returned %d; the store has %d", l.ID, *p.NumberMatched, len(p.Features), n)
		}
	}
	// A limit above the most is taken as the most, as the standard asks.
	ogcGet(t, base+"/ogc/collections/gas_node/items?limit=100001", "", 200, &p)
	if len(p.Features) != 25 {
		t.Errorf("limit 100001: %d features", len(p.Features))
	}
	if n, err := parseOGCLimit("100001"); err != nil || n != OGCMaxLimit {
		t.Errorf("limit 100001 = %d, %v; want %d", n, err, OGCMaxLimit)
	}
	if n, err := parseOGCLimit("99999999999999999999999"); err != nil || n != OGCMaxLimit {
		t.Errorf("a limit past int64 = %d, %v; want %d", n, err, OGCMaxLimit)
	}
}

func TestOGCItemsFilters(t *testing.T) {
	base, _ := ogcServer(t)
	items := base + "/ogc/collections/"
	pipe := func(n uint64) uint64 { return layers.MakeID(10, n) }
	sensor := func(n uint64) uint64 { return layers.MakeID(24, n) }
	for _, tt := range []struct {
		query string
		want  []uint64
	}{
		{"gas_pipe/items?pressure_class=low&material=pe", []uint64{pipe(2)}},
		{"gas_pipe/items?material=steel", []uint64{pipe(1), pipe(3)}},
		{"gas_pipe/items?diameter_mm=300", []uint64{pipe(1)}},
		{"gas_pipe/items?in_tunnel=true", []uint64{pipe(2)}},
		{"gas_pipe/items?material=concrete", nil},
		{"gas_pipe/items?datetime=2006-01-01T00:00:00Z/..", []uint64{pipe(2), pipe(3)}},
		{"gas_pipe/items?datetime=2005-06-01", []uint64{pipe(1)}},
		{"gas_pipe/items?bbox=" + url.QueryEscape(bboxAround(t, 45, 140, 55, 160)), []uint64{pipe(3)}},
		{"sensor/items?datetime=2021-03-05/2021-03-06", []uint64{sensor(1), sensor(3)}},
		{"sensor/items?datetime=../2021-03-05", []uint64{sensor(3)}},
		{"sensor/items?datetime=2021-03-06T12:00:00%2B08:00/", []uint64{sensor(1), sensor(2)}},
		{"sensor/items?datetime=2021-03-05T10:00:00Z", []uint64{sensor(3)}},
		{"protective_target/items?datetime=2021-01-01", []uint64{layers.MakeID(22, 1)}}, // no time: every feature
		{"gas_node/items?kind=valve&bbox=" + url.QueryEscape(bboxAround(t, 30, -5, 70, 5)), []uint64{layers.MakeID(11, 3)}},
	} {
		var p ogcPage
		ogcGet(t, items+tt.query, "", 200, &p)
		if !slices.Equal(p.ids(), tt.want) || *p.NumberMatched != len(tt.want) {
			t.Errorf("%s: %v (matched %d), want %v", tt.query, p.ids(), *p.NumberMatched, tt.want)
		}
	}
	var p ogcPage
	ogcGet(t, items+"gas_node/items?kind=valve&limit=5", "", 200, &p)
	if *p.NumberMatched != 13 || len(p.Features) != 5 || !strings.Contains(p.link("next"), "kind=valve") {
		t.Errorf("valves: %d of %d, next %q", len(p.Features), *p.NumberMatched, p.link("next"))
	}
}

// bboxAround is the bbox of the points x0, y0 and x1, y1 metres east and
// north of the suite's origin.
func bboxAround(t *testing.T, x0, y0, x1, y1 float64) string {
	t.Helper()
	a, b := storetest.At(x0, y0), storetest.At(x1, y1)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 9, 64) }
	return f(a[0]) + "," + f(a[1]) + "," + f(b[0]) + "," + f(b[1])
}

func TestOGCItemsBadInput(t *testing.T) {
	base, _ := ogcServer(t)
	items := base + "/ogc/collections/gas_pipe/items?"
	for _, tt := range []struct{ query, code string }{
		{"bbox=1,2,3", CodeBadBBox},
		{"bbox=1,2,3,4,5,6", CodeBadBBox},
		{"bbox=a,b,c,d", CodeBadBBox},
		{"bbox=NaN,0,1,1", CodeBadBBox},
		{"bbox=0,0,Inf,1", CodeBadBBox},
		{"bbox=0,0,181,1", CodeBadBBox},
		{"bbox=0,-91,1,1", CodeBadBBox},
		{"bbox=2,0,1,1", CodeBadBBox},
		{"bbox=", CodeBadBBox},
		{"limit=0", CodeBadRequest},
		{"limit=-1", CodeBadRequest},
		{"limit=NaN", CodeBadRequest},
		{"limit=1.5", CodeBadRequest},
		{"limit=", CodeBadRequest},
		{"offset=-1", CodeBadRequest},
		{"offset=x", CodeBadRequest},
		{"after=x", CodeBadRequest},
		{"limit=1&limit=2", CodeBadRequest},
		{"f=html", CodeBadRequest},
		{"nope=1", CodeUnknownParameter},
		{"bbox-crs=EPSG:4326", CodeUnknownParameter},
		{"diameter_mm=abc", CodeBadFilter},
		{"diameter_mm=NaN", CodeBadFilter},
		{"in_tunnel=yes", CodeBadFilter},
		{"datetime=yesterday", CodeBadDatetime},
		{"datetime=2021-03-07/2021-03-05", CodeBadDatetime},
		{"datetime=2021-03-05/2021-03-06/2021-03-07", CodeBadDatetime},
		{"datetime=2021-13-01", CodeBadDatetime},
	} {
		ogcError(t, items+tt.query, 400, tt.code)
	}
	// A personal attribute is no filter: it would tell what it holds.
	ogcError(t, base+"/ogc/collections/protective_target/items?contact_phone=13812345678", 400, CodeUnknownParameter)
}

func TestOGCItem(t *testing.T) {
	base, st := ogcServer(t)
	id := layers.MakeID(10, 1)
	var f struct {
		Type       string
		ID         uint64
		Geometry   struct{ Type string }
		Properties map[string]any
		Links      []ogcLink
	}
	u := base + "/ogc/collections/gas_pipe/items/" + strconv.FormatUint(id, 10)
	if ct := ogcGet(t, u, "", 200, &f); ct != geoJSONType {
		t.Errorf("item type %q", ct)
	}
	want, _ := st.Feature(context.Background(), id)
	if f.Type != "Feature" || f.ID != id || f.Geometry.Type != "LineString" {
		t.Errorf("item %+v, want %+v", f, want)
	}
	// Every catalog attribute, null where the feature has none: a client
	// reading a page sees the layer's whole schema.
	l, _ := layers.Default().Layer(layers.GasPipe)
	for _, fd := range l.Fields {
		v, ok := f.Properties[fd.Name]
		if !ok || v != want.Props[fd.Name] {
			t.Errorf("item %s = %v (%v), want %v", fd.Name, v, ok, want.Props[fd.Name])
		}
	}
	if len(f.Properties) != len(l.Fields) {
		t.Errorf("item properties %v, want the catalog's %d", f.Properties, len(l.Fields))
	}
	if len(f.Links) == 0 || f.Links[0].Rel != "self" || f.Links[0].Href != u {
		t.Errorf("item links %+v", f.Links)
	}
	for _, p := range []string{
		"gas_pipe/items/" + strconv.FormatUint(layers.MakeID(11, 1), 10), // a node, not a pipe
		"gas_pipe/items/" + strconv.FormatUint(layers.MakeID(10, 99), 10),
		"gas_pipe/items/0", "gas_pipe/items/abc", "gas_pipe/items/-1",
	} {
		ogcError(t, base+"/ogc/collections/"+p, 404, CodeNotFound)
	}
}

// Items carry what the tiles carry: never a contact, whoever asks.
func TestOGCNoPersonalData(t *testing.T) {
	base, _ := ogcServer(t)
	school := strconv.FormatUint(layers.MakeID(22, 1), 10)
	for _, role := range []string{"", "viewer", "operator", "admin"} {
		var p ogcPage
		ogcGet(t, base+"/ogc/collections/protective_target/items", role, 200, &p)
		var one struct{ Properties map[string]any }
		ogcGet(t, base+"/ogc/collections/protective_target/items/"+school, role, 200, &one)
		if len(p.Features) != 1 || p.Features[0].Properties["name"] != "滨河小学" || one.Properties["name"] != "滨河小学" {
			t.Fatalf("as %q: %+v %+v", role, p, one)
		}
		for _, k := range []string{"contact", "contact_phone"} {
			if v, ok := p.Features[0].Properties[k]; ok {
				t.Errorf("as %q: items carry %s %v", role, k, v)
			}
			if v, ok := one.Properties[k]; ok {
				t.Errorf("as %q: the item carries %s %v", role, k, v)
			}
		}
	}
}

// slowItems is a store whose Items waits until its context ends.
type slowItems struct{ *memory.Store }

func (slowItems) Items(ctx context.Context, _ string, _ layers.Query) ([]*layers.Feature, int, error) {
	<-ctx.Done()
	return nil, 0, ctx.Err()
}

// A query that outlasts the request timeout is cut: 503 timeout.
func TestOGCItemsTimeout(t *testing.T) {
	st := slowItems{memory.New(storetest.ItemsCity())}
	ts := httptest.NewServer(newTestServer(Options{Catalog: layers.Default(), Store: st, RequestTimeout: 50 * time.Millisecond}).Handler())
	t.Cleanup(ts.Close)
	start := time.Now()
	ogcError(t, ts.URL+"/ogc/collections/gas_pipe/items", 503, CodeTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("answered after %v", d)
	}
}
