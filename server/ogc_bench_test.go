package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/citygen"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
)

// BenchmarkOGCItems walks every page of the gas pipes through OGC API –
// Features, GET /ogc/collections/gas_pipe/items?limit=1000 and the next
// links it answers, from the memory store of the sample city and of a
// generated scale-4 city (16 times its area): the whole layer ("all") and
// the pipes in a box over the middle quarter of the city ("bbox"). One
// client over a kept-alive loopback connection asks for gzip, as GDAL and
// QGIS do. A page's time runs from the request to its last byte; decoding
// it to find the next link is not timed. It reports features a second,
// the median and 99th percentile of a page, and its size on the wire.
func BenchmarkOGCItems(b *testing.B) {
	cat := layers.Default()
	cities := []struct {
		name string
		make func() (*city.City, error)
	}{
		{"sample", func() (*city.City, error) { return city.Read(data.SampleCity(), cat) }},
		{"scale4", func() (*city.City, error) {
			return citygen.Generate(citygen.Options{Seed: citygen.DefaultSeed, Scale: 4})
		}},
	}
	for _, cc := range cities {
		c, err := cc.make()
		if err != nil {
			b.Fatal(err)
		}
		s := newTestServer(Options{Catalog: cat, Store: memory.New(c)})
		ts := httptest.NewServer(s.Handler())
		bd := c.Meta.Bounds
		w, h := bd[2]-bd[0], bd[3]-bd[1]
		box := [4]float64{bd[0] + w/4, bd[1] + h/4, bd[2] - w/4, bd[3] - h/4}
		queries := []struct{ name, query string }{
			{"all", "limit=1000"},
			{"bbox", fmt.Sprintf("limit=1000&bbox=%.6f,%.6f,%.6f,%.6f", box[0], box[1], box[2], box[3])},
		}
		for _, q := range queries {
			b.Run(cc.name+"/"+q.name, func(b *testing.B) {
				client := ts.Client()
				var pages []float64 // milliseconds
				var features, wire, plain int
				for range b.N {
					next, matched, got := ts.URL+"/ogc/collections/gas_pipe/items?"+q.query, -1, 0
					for next != "" {
						req, _ := http.NewRequest(http.MethodGet, next, nil)
						req.Header.Set("Accept-Encoding", "gzip")
						t0 := time.Now()
						resp, err := client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						body, err := io.ReadAll(resp.Body)
						resp.Body.Close()
						took := time.Since(t0)
						b.StopTimer()
						if err != nil || resp.StatusCode != http.StatusOK {
							b.Fatalf("GET %s: %d %v", next, resp.StatusCode, err)
						}
						pages, wire = append(pages, float64(took.Microseconds())/1000), wire+len(body)
						var page ogcPage
						n, err := decodeGzipJSON(resp.Header.Get("Content-Encoding"), body, &page)
						if err != nil {
							b.Fatalf("GET %s: %v", next, err)
						}
						plain += n
						if matched < 0 && page.NumberMatched != nil {
							matched = *page.NumberMatched
						}
						got += len(page.Features)
						next = page.link("next")
						b.StartTimer()
					}
					if got != matched || q.name == "all" && got != len(c.Features[layers.GasPipe]) {
						b.Fatalf("%s: %d features on the pages, %d matched, %d in the city", q.query, got, matched, len(c.Features[layers.GasPipe]))
					}
					features += got
				}
				slices.Sort(pages)
				b.ReportMetric(float64(features)/b.Elapsed().Seconds(), "features/s")
				b.ReportMetric(float64(features)/float64(b.N), "features/op")
				b.ReportMetric(float64(len(pages))/float64(b.N), "pages/op")
				b.ReportMetric(quantile(pages, 0.5), "p50-page-ms")
				b.ReportMetric(quantile(pages, 0.99), "p99-page-ms")
				b.ReportMetric(float64(wire)/float64(len(pages))/1024, "gzip-KB/page")
				b.ReportMetric(float64(plain)/float64(len(pages))/1024, "KB/page")
			})
		}
		ts.Close()
		s.Close()
	}
}

// decodeGzipJSON decodes a body that may be gzipped and returns its
// length unzipped.
func decodeGzipJSON(encoding string, body []byte, v any) (int, error) {
	plain := body
	if encoding == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		if plain, err = io.ReadAll(zr); err != nil {
			return 0, err
		}
	}
	return len(plain), json.Unmarshal(plain, v)
}
