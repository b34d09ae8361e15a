package main

import (
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/onemap/onemap/cluster"
)

// BenchmarkCluster measures three instances on a three-server NATS cluster
// on the loopback, the sample city in memory: ingest through one instance
// (4 senders of 5,000-reading batches for 10 s, under a token's 50
// batches a second: readings/s and the acknowledgement's p50 and p99), reading-to-screen (a sensor's level
// changed every 100 ms through the instances in turn, to 30 live channel
// clients spread over them: p50 and p99 from the request sent to the
// client's delta), and failover (one instance killed: from its last
// acknowledged reading to the first alarm its sensors raise on another).
// Run it with -benchtime 1x (scripts/bench cluster).
func BenchmarkCluster(b *testing.B) {
	_, _, natsURL := natsCluster(b)
	ins := []*instance{startInstance(b, "a", natsURL, ""), startInstance(b, "b", natsURL, ""), startInstance(b, "c", natsURL, "")}
	var gas []uint64
	for _, g := range gasDetectors(b, ins[0], 2000) {
		gas = append(gas, g.ID)
	}
	if len(gas) < 100 {
		b.Fatalf("%d gas detectors", len(gas))
	}
	base := time.Now().Add(-30 * time.Minute).Truncate(time.Second)
	b.ResetTimer()

	// Ingest through a alone.
	var mu sync.Mutex
	var acks []float64
	sent, ofFirst := 0, 0 // readings acknowledged, of them gas[0]'s
	stop := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for k := 0; time.Now().Before(stop); k++ {
				var lines []string
				for i := range 5000 {
					// Ten milliseconds per batch and sender, one for each time
					// round the detectors: every reading is new, and normal.
					ts := base.Add(time.Duration((k*4+w)*10+i/len(gas)) * time.Millisecond).UnixMilli()
					lines = append(lines, fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":1,"ts":%d}`, gas[(k*5000+i)%len(gas)], ts))
				}
				t0 := time.Now()
				code, body, err := postJSON(ins[0].url+"/api/v1/readings", "["+strings.Join(lines, ",")+"]")
				if err != nil || code != http.StatusOK {
					b.Errorf("ingest: %d %s %v", code, body, err)
					return
				}
				mu.Lock()
				acks = append(acks, float64(time.Since(t0).Microseconds())/1000)
				sent += 5000
				for i := range 5000 {
					if (k*5000+i)%len(gas) == 0 {
						ofFirst++
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Until every instance has applied them all.
	ended := time.Now()
	for _, in := range ins {
		waitUntil(b, 5*time.Minute, in.name+" applied the readings", func() bool {
			n := 0
			for _, bk := range curveOn(b, in, gas[0], base.Add(-time.Hour), base.Add(time.Hour), "1h") {
				n += bk.N
			}
			return n >= ofFirst
		})
	}
	applied := time.Since(ended)
	b.ReportMetric(float64(sent)/10, "readings/s")
	b.ReportMetric(float64(sent)/(10+applied.Seconds()), "applied-readings/s")
	b.ReportMetric(quantile(acks, 0.5), "ack-p50-ms")
	b.ReportMetric(quantile(acks, 0.99), "ack-p99-ms")

	// Reading to screen: 10 clients on each instance.
	sensor := gas[0]
	var sentAt sync.Map // value → time sent
	var lat []float64
	seen := map[[2]float64]bool{} // client and value
	dups := 0
	var clients []*websocket.Conn
	for i := range 30 {
		in := ins[i%3]
		conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(in.url, "http")+"/ws", nil)
		if err != nil {
			b.Fatalf("dial: %v (%v)", err, resp)
		}
		clients = append(clients, conn)
		conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"subscribe","topics":["sensors"],"bbox":[116,31,118.5,33],"zoom":16}`))
		go func(client float64) {
			for {
				var m struct {
					Type    string
					Sensors []struct {
						ID    uint64
						Value float64
					}
				}
				if err := conn.ReadJSON(&m); err != nil {
					return
				}
				now := time.Now()
				for _, s := range m.Sensors {
					if t0, ok := sentAt.Load(s.Value); ok && s.ID == sensor && m.Type == "delta" {
						mu.Lock()
						if k := [2]float64{client, s.Value}; seen[k] {
							dups++
						} else {
							seen[k] = true
							lat = append(lat, float64(now.Sub(t0.(time.Time)).Microseconds())/1000)
						}
						mu.Unlock()
					}
				}
			}
		}(float64(i))
	}
	time.Sleep(2 * time.Second) // the snapshots
	// Recent readings: an old one would have the sensor go offline, and
	// tell it, while it is measured.
	const changes = 100
	start := time.Now().Add(-changes * time.Second)
	for k := range changes {
		v := 1 + float64(k)/1000
		if k%2 == 0 {
			v = 30 + float64(k)/1000 // level 2, then normal again: each change urgent
		}
		sentAt.Store(v, time.Now())
		line := fmt.Sprintf(`[{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%d}]`, sensor, v, start.Add(time.Duration(k)*time.Second).UnixMilli())
		if code, body, err := postJSON(ins[k%3].url+"/api/v1/readings", line); err != nil || code != http.StatusOK {
			b.Fatalf("change %d: %d %s %v", k, code, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	for _, c := range clients {
		c.Close()
	}
	mu.Lock()
	b.ReportMetric(float64(len(lat))/float64(changes*30), "delivered")
	b.ReportMetric(float64(dups), "duplicates")
	b.ReportMetric(quantile(lat, 0.5), "screen-p50-ms")
	b.ReportMetric(quantile(lat, 0.99), "screen-p99-ms")
	mu.Unlock()

	// Failover: a's gas detectors breach; a is killed right after its
	// last acknowledged reading, and the breach is sent on to the others.
	owner := spread(b, ins)
	var ofA []uint64
	for _, id := range gas[1:] {
		if owner[cluster.Partition(id)] == ins[0] && len(ofA) < 10 {
			ofA = append(ofA, id)
		}
	}
	batch := func(k int) string {
		var lines []string
		for _, id := range ofA {
			lines = append(lines, fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":1,"ts":%d}`, id, start.Add(time.Duration(changes+k)*time.Second).UnixMilli()))
		}
		return "[" + strings.Join(lines, ",") + "]"
	}
	if code, body, err := postJSON(ins[0].url+"/api/v1/readings", batch(0)); err != nil || code != http.StatusOK {
		b.Fatalf("a's last batch: %d %s %v", code, body, err)
	}
	lastAck := time.Now()
	ins[0].cmd.Process.Signal(syscall.SIGKILL)
	ins[0].cmd.Wait()
	for k := 1; ; k++ {
		breach := strings.ReplaceAll(batch(k), `"value":1,`, `"value":30,`)
		if code, body, err := postJSON(ins[1+k%2].url+"/api/v1/readings", breach); err != nil || code != http.StatusOK {
			b.Fatalf("breach %d: %d %s %v", k, code, body, err)
		}
		var out struct{ Alarms []struct{ Sensor uint64 } }
		getJSON(b, ins[1].url+"/api/v1/alarms?state=active&limit=1000", &out)
		if slices.ContainsFunc(out.Alarms, func(a struct{ Sensor uint64 }) bool { return slices.Contains(ofA, a.Sensor) }) {
			break
		}
		if time.Since(lastAck) > time.Minute {
			b.Fatal("no alarm of the killed instance's sensors within a minute")
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportMetric(time.Since(lastAck).Seconds(), "failover-s")
}

// quantile returns the q-quantile of xs, NaN for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
