package server

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/memory"
)

// BenchmarkScene asks the sample city's memory store for the 3D view's
// scene at the city's centre, a 3 km square as the page asks for it, over
// a kept-alive loopback connection that asks for gzip as a browser does.
// It reports the scene's size on the wire.
func BenchmarkScene(b *testing.B) {
	cat := layers.Default()
	c, err := city.Read(data.SampleCity(), cat)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(newTestServer(Options{Catalog: cat, Store: memory.New(c)}).Handler())
	defer ts.Close()
	// The square the page asks for around the centre (scene-model.js).
	url := fmt.Sprintf("%s/api/v1/scene?bbox=%s", ts.URL, "117.246418,31.8227,117.27814,31.84965")
	client := ts.Client()
	var wire int64
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := client.Transport.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("%s", res.Status)
		}
		wire = n
	}
	b.ReportMetric(float64(wire)/1024, "KB-gzip")
}
