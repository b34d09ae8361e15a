package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store"
	"github.com/paulmach/orb/geojson"
)

// OGC API – Features, Part 1 (Core) with GeoJSON, under /ogc: every stored
// layer is a collection, its features the items. The items are what the
// tiles carry: personal attributes never leave.

const (
	geoJSONType = "application/geo+json"
	crs84       = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
	// OGCDefaultLimit and OGCMaxLimit are the items of a page when the
	// request names no limit, and the most it may have: a larger limit is
	// taken as the most, as the standard asks.
	OGCDefaultLimit = 100
	OGCMaxLimit     = 10000
)

// ogcConformance are the conformance classes served: no OpenAPI document
// and no HTML, so neither oas30 nor html.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

// ogcItemsParams are the parameters of /items besides attribute filters;
// after is the keyset of next links.
var ogcItemsParams = map[string]bool{"bbox": true, "limit": true, "offset": true, "datetime": true, "after": true, "f": true}

type ogcLink struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

type ogcFeature struct {
	Type       string            `json:"type"`
	ID         uint64            `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties map[string]any    `json:"properties"`
	Links      []ogcLink         `json:"links,omitempty"`
}

func (s *Server) routeOGC(e *echo.Echo, mw ...echo.MiddlewareFunc) {
	g := e.Group("/ogc", mw...)
	g.GET("", s.handleOGCLanding)
	g.GET("/conformance", s.handleOGCConformance)
	g.GET("/collections", s.handleOGCCollections)
	g.GET("/collections/:layer", s.handleOGCCollection)
	g.GET("/collections/:layer/items", s.handleOGCItems)
	g.GET("/collections/:layer/items/:id", s.handleOGCItem)
}

// ogcFormat refuses an f other than JSON's: nothing else is served.
func ogcFormat(c echo.Context) error {
	switch f := c.QueryParam("f"); strings.ToLower(f) {
	case "", "json", "geojson", "application/json", geoJSONType:
		return nil
	default:
		return errorf(CodeBadRequest, "f: only json (GeoJSON) is served (got "+quote(f)+")")
	}
}

// ogcJSON writes v as JSON of the given type.
func ogcJSON(c echo.Context, typ string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, typ, b)
}

func (s *Server) handleOGCLanding(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	base, m := s.baseURL(c)+"/ogc", s.store.Meta()
	return ogcJSON(c, echo.MIMEApplicationJSON, map[string]any{
		"title":       m.Name + " · onemap",
		"description": "The layers of " + m.NameEn + " as OGC API – Features collections",
		"links": []ogcLink{
			{Href: base, Rel: "self", Type: echo.MIMEApplicationJSON, Title: "this document"},
			{Href: base + "/conformance", Rel: "conformance", Type: echo.MIMEApplicationJSON, Title: "conformance classes"},
			{Href: base + "/collections", Rel: "data", Type: echo.MIMEApplicationJSON, Title: "the layers"},
		},
	})
}

func (s *Server) handleOGCConformance(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	return ogcJSON(c, echo.MIMEApplicationJSON, map[string]any{"conformsTo": ogcConformance})
}

// ogcLayers are the layers served as collections: the stored ones, since
// a derived layer is no store's.
func (s *Server) ogcLayers() []*layers.Layer {
	var out []*layers.Layer
	for _, l := range s.cat.Layers() {
		if !l.Derived {
			out = append(out, l)
		}
	}
	return out
}

// ogcLayer is the collection the path names.
func (s *Server) ogcLayer(c echo.Context) (*layers.Layer, error) {
	l, err := s.cat.Layer(c.Param("layer"))
	if err != nil || l.Derived {
		return nil, errorf(CodeUnknownLayer, "no collection "+quote(c.Param("layer")))
	}
	return l, nil
}

// ogcCollection describes one layer as a collection, its extent the
// bounds of its features (the city's while it has none).
func (s *Server) ogcCollection(c echo.Context, base string, l *layers.Layer) map[string]any {
	b := s.store.Meta().Bounds
	if lb, ok, err := s.store.Bounds(c.Request().Context(), l.ID); err == nil && ok {
		b = [4]float64{lb.Min[0], lb.Min[1], lb.Max[0], lb.Max[1]}
	}
	href := base + "/collections/" + l.ID
	return map[string]any{
		"id": l.ID, "title": l.Title.Zh, "description": l.Title.En,
		"extent":   map[string]any{"spatial": map[string]any{"bbox": [][4]float64{b}, "crs": crs84}},
		"itemType": "feature", "crs": []string{crs84},
		"links": []ogcLink{
			{Href: href, Rel: "self", Type: echo.MIMEApplicationJSON, Title: l.Title.En},
			{Href: href + "/items", Rel: "items", Type: geoJSONType, Title: l.Title.En},
		},
	}
}

func (s *Server) handleOGCCollections(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	base := s.baseURL(c) + "/ogc"
	cs := []map[string]any{}
	for _, l := range s.ogcLayers() {
		cs = append(cs, s.ogcCollection(c, base, l))
	}
	return ogcJSON(c, echo.MIMEApplicationJSON, map[string]any{
		"links":       []ogcLink{{Href: base + "/collections", Rel: "self", Type: echo.MIMEApplicationJSON}},
		"collections": cs,
	})
}

func (s *Server) handleOGCCollection(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	l, err := s.ogcLayer(c)
	if err != nil {
		return err
	}
	return ogcJSON(c, echo.MIMEApplicationJSON, s.ogcCollection(c, s.baseURL(c)+"/ogc", l))
}

// ogcFeatureOf is f as an item: its attributes without the personal ones,
// and every other catalog attribute of the layer, null where f has none,
// so that a client reading the first page (as GDAL and QGIS do) sees the
// layer's whole schema.
func ogcFeatureOf(l *layers.Layer, f *layers.Feature) ogcFeature {
	props := layers.DropPersonal(l, f.Props)
	if props == nil {
		props = map[string]any{}
	}
	for _, fd := range l.Fields {
		if _, ok := props[fd.Name]; !ok && !fd.Personal {
			props[fd.Name] = nil
		}
	}
	return ogcFeature{Type: "Feature", ID: f.ID, Geometry: geometryJSON(f.Geometry), Properties: props}
}

func (s *Server) handleOGCItems(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	l, err := s.ogcLayer(c)
	if err != nil {
		return err
	}
	params := c.QueryParams()
	q, pos, err := parseItemsQuery(l, params)
	if err != nil {
		return err
	}
	page, matched, err := s.store.Items(c.Request().Context(), l.ID, q)
	if err != nil {
		return err
	}
	features := make([]ogcFeature, len(page))
	for i, f := range page {
		features[i] = ogcFeatureOf(l, f)
	}
	href := s.baseURL(c) + "/ogc/collections/" + l.ID + "/items"
	self := href
	if len(params) > 0 {
		self += "?" + params.Encode()
	}
	links := []ogcLink{
		{Href: self, Rel: "self", Type: geoJSONType, Title: "this page"},
		{Href: s.baseURL(c) + "/ogc/collections/" + l.ID, Rel: "collection", Type: echo.MIMEApplicationJSON, Title: l.Title.En},
	}
	if n := len(page); n > 0 && pos+n < matched {
		next := cloneValues(params)
		next.Set("offset", strconv.Itoa(pos+n))
		next.Set("after", strconv.FormatUint(page[n-1].ID, 10))
		links = append(links, ogcLink{Href: href + "?" + next.Encode(), Rel: "next", Type: geoJSONType, Title: "the next page"})
	}
	if pos > 0 {
		prev := cloneValues(params)
		prev.Del("after")
		if p := pos - q.Limit; p > 0 {
			prev.Set("offset", strconv.Itoa(p))
		} else {
			prev.Del("offset")
		}
		u := href
		if len(prev) > 0 {
			u += "?" + prev.Encode()
		}
		links = append(links, ogcLink{Href: u, Rel: "prev", Type: geoJSONType, Title: "the page before"})
	}
	return ogcJSON(c, geoJSONType, map[string]any{
		"type": "FeatureCollection", "features": features,
		"numberMatched": matched, "numberReturned": len(features),
		"timeStamp": s.now().UTC().Format(time.RFC3339), "links": links,
	})
}

func (s *Server) handleOGCItem(c echo.Context) error {
	if err := ogcFormat(c); err != nil {
		return err
	}
	l, err := s.ogcLayer(c)
	if err != nil {
		return err
	}
	notFound := errorf(CodeNotFound, "no item "+quote(c.Param("id"))+" in "+l.ID)
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil || id == 0 {
		return notFound
	}
	f, err := s.store.Feature(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && f.Layer != l.ID {
		return notFound
	}
	if err != nil {
		return err
	}
	it := ogcFeatureOf(l, f)
	href := s.baseURL(c) + "/ogc/collections/" + l.ID
	it.Links = []ogcLink{
		{Href: href + "/items/" + c.Param("id"), Rel: "self", Type: geoJSONType},
		{Href: href, Rel: "collection", Type: echo.MIMEApplicationJSON, Title: l.Title.En},
	}
	return ogcJSON(c, geoJSONType, it)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// parseItemsQuery reads the parameters of /items: the store's query and
// the position of the page's first feature among all that match.
func parseItemsQuery(l *layers.Layer, params url.Values) (layers.Query, int, error) {
	q := layers.Query{Limit: OGCDefaultLimit}
	for name, vs := range params {
		if len(vs) > 1 {
			return q, 0, errorf(CodeBadRequest, quote(name)+" is given "+strconv.Itoa(len(vs))+" times; give it once")
		}
		if ogcItemsParams[name] {
			continue
		}
		f, ok := l.Filterable(name)
		if !ok {
			return q, 0, errorf(CodeUnknownParameter, "no parameter "+quote(name)+": "+l.ID+" takes bbox, limit, offset, datetime and its attributes")
		}
		v, ok := f.ParseValue(vs[0])
		if !ok {
			return q, 0, errorf(CodeBadFilter, name+" is a "+strings.ToLower(string(f.Type))+" (got "+quote(vs[0])+")")
		}
		if q.Equal == nil {
			q.Equal = map[string]any{}
		}
		q.Equal[name] = v
	}
	if params.Has("bbox") {
		b, err := parseBBox(params.Get("bbox"))
		if err != nil {
			return q, 0, err
		}
		q.Bound = &b
	}
	if params.Has("limit") {
		n, err := parseOGCLimit(params.Get("limit"))
		if err != nil {
			return q, 0, err
		}
		q.Limit = n
	}
	pos := 0
	if v := params.Get("offset"); params.Has("offset") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return q, 0, errorf(CodeBadRequest, "offset must be a whole number from 0 (got "+quote(v)+")")
		}
		pos = n
	}
	q.Offset = pos
	if v := params.Get("after"); params.Has("after") {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return q, 0, errorf(CodeBadRequest, "after must be a feature id (got "+quote(v)+")")
		}
		// The keyset of a next link: the page starts after that feature,
		// and offset is only where it stands.
		q.After, q.Offset = id, 0
	}
	if v := params.Get("datetime"); params.Has("datetime") {
		start, end, err := parseDatetime(v)
		if err != nil {
			return q, 0, err
		}
		q.Time = l.NewTimeFilter(start, end) // nil on a layer without time: every feature
	}
	return q, pos, nil
}

// parseOGCLimit reads limit: a whole number from 1, a larger one than
// OGCMaxLimit taken as OGCMaxLimit.
func parseOGCLimit(v string) (int, error) {
	n, err := strconv.Atoi(v)
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange && !strings.HasPrefix(v, "-") {
		return OGCMaxLimit, nil
	}
	if err != nil || n < 1 {
		return 0, errorf(CodeBadRequest, "limit must be a whole number from 1; more than "+strconv.Itoa(OGCMaxLimit)+" is taken as "+
			strconv.Itoa(OGCMaxLimit)+" (got "+quote(v)+")")
	}
	return min(n, OGCMaxLimit), nil
}

// parseDatetime reads datetime as the standard has it: an instant, or an
// interval start/end whose open end is ".." or empty; an instant is a
// date-time of RFC 3339 or a date, which stands for the whole day (UTC).
// Zero times are open ends.
func parseDatetime(v string) (start, end time.Time, err error) {
	bad := errorf(CodeBadDatetime, "datetime is an RFC 3339 date-time or date, or an interval start/end with .. for an open end (got "+quote(v)+")")
	parts := strings.Split(v, "/")
	switch len(parts) {
	case 1:
		s, e, ok := parseInstant(parts[0])
		if !ok {
			return start, end, bad
		}
		return s, e, nil
	case 2:
		var ok bool
		if p := parts[0]; p != "" && p != ".." {
			if start, _, ok = parseInstant(p); !ok {
				return start, end, bad
			}
		}
		if p := parts[1]; p != "" && p != ".." {
			if _, end, ok = parseInstant(p); !ok {
				return start, end, bad
			}
		}
		if !start.IsZero() && !end.IsZero() && start.After(end) {
			return start, end, errorf(CodeBadDatetime, "datetime's start is after its end (got "+quote(v)+")")
		}
		return start, end, nil
	}
	return start, end, bad
}

// parseInstant reads a date-time (itself twice) or a date (its first and
// last instant).
func parseInstant(s string) (first, last time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s)); err == nil {
		return t, t, true
	}
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, d.Add(24*time.Hour - time.Nanosecond), true
	}
	return first, last, false
}
