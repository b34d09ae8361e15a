package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/paulmach/orb"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/data"
	"github.com/onemap/onemap/hub"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/live"
	"github.com/onemap/onemap/series"
	"github.com/onemap/onemap/sim"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/wal"
)

// benchCity serves the sample city with its 2,748 sensors, readings
// journalled in a write-ahead log with fsync, and the live channel.
func benchCity(b *testing.B) (*httptest.Server, *Server, []*live.Sensor, *city.City) {
	b.Helper()
	c, err := city.Read(data.SampleCity(), layers.Default())
	if err != nil {
		b.Fatal(err)
	}
	sensors := live.NewSensors(c.Features[layers.Sensor])
	j, err := wal.Open(b.TempDir(), wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { j.Close() })
	feed := &Feed{}
	curves := series.New(series.Options{})
	svc, err := live.NewService(live.Options{Sensors: sensors, Journal: live.WALJournal{Log: j}, Series: curves, History: curves, OnEvent: feed.OnEvent})
	if err != nil {
		b.Fatal(err)
	}
	s := newTestServer(Options{Catalog: layers.Default(), Store: memory.New(c), Live: svc, Sensors: sensors, Series: curves, Feed: feed,
		Hub: hub.New(hub.Options{Snapshot: feed.Snapshot, MaxClients: 50_000})})
	ts := httptest.NewServer(s.Handler())
	b.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s, sensors.All(), c
}

// viewport returns a subscribe message for a random map view of the city:
// mostly street level around a sensor, some district views, a few of the
// whole city.
func viewport(rnd *rand.Rand, all []*live.Sensor) string {
	b := sensorBound(all)
	switch r := rnd.Float64(); {
	case r < 0.1: // a big screen: the whole city
		return fmt.Sprintf(`{"type":"subscribe","topics":["sensors","alarms","risk_zones"],"bbox":[%f,%f,%f,%f],"zoom":12}`, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	case r < 0.3: // a district, zoomed out
		p := all[rnd.IntN(len(all))].Location
		return fmt.Sprintf(`{"type":"subscribe","topics":["sensors","alarms","risk_zones"],"bbox":[%f,%f,%f,%f],"zoom":13.5}`, p[0]-0.02, p[1]-0.015, p[0]+0.02, p[1]+0.015)
	case r < 0.5: // a phone: 2 km around the responder
		p := all[rnd.IntN(len(all))].Location
		return fmt.Sprintf(`{"type":"subscribe","topics":["sensors","alarms"],"circle":[%f,%f,2000],"zoom":15}`, p[0], p[1])
	default: // a desktop at street level
		p := all[rnd.IntN(len(all))].Location
		return fmt.Sprintf(`{"type":"subscribe","topics":["sensors","alarms","risk_zones"],"bbox":[%f,%f,%f,%f],"zoom":15}`, p[0]-0.008, p[1]-0.005, p[0]+0.008, p[1]+0.005)
	}
}

// sensorBound is the bound of the sensors: the city.
func sensorBound(all []*live.Sensor) orb.Bound {
	b := orb.Bound{Min: all[0].Location, Max: all[0].Location}
	for _, s := range all {
		b = b.Extend(s.Location)
	}
	return b
}

// connect connects n clients, each subscribing with the message sub
// returns, and reads their frames in a goroutine each: reader makes a
// client's frame handler and what to do when it ends. closeAll closes them
// and waits for their goroutines.
func connect(b *testing.B, ts *httptest.Server, n int, sub func() string, reader func() (frame func([]byte), done func())) (closeAll func()) {
	var wg sync.WaitGroup
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conn, _, err := websocket.DefaultDialer.Dial(wsURL(ts), nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = conn
		conn.WriteMessage(websocket.TextMessage, []byte(sub()))
		frame, done := reader()
		wg.Go(func() {
			defer done()
			for {
				_, p, err := conn.ReadMessage()
				if err != nil {
					return
				}
				frame(p)
			}
		})
	}
	return func() {
		for _, conn := range conns {
			conn.Close()
		}
		wg.Wait()
	}
}

func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" }

// BenchmarkWSLatency measures reading-to-screen latency: 1,000 clients on
// assorted viewports while 10,000 readings/s are posted in batches of 1,000
// (journalled with fsync, rules applied). In each batch ten gas detectors
// report a leak (level 2) or its end, in turn; the rest report normal
// values. The latency of a sensor state in a frame is its arrival less the
// time its batch was posted (the readings' timestamp): "alarm" for the
// leaks, which go at once, "value" for the normal readings, which wait up
// to the hub's one second to travel together. Each op is one batch; run
// with -benchtime 100x for 10 s.
func BenchmarkWSLatency(b *testing.B) {
	const clients, perBatch, rate, leaks = 1000, 1000, 10_000, 10
	ts, _, all, c := benchCity(b)
	rnd := rand.New(rand.NewPCG(1, 2))
	// The normal readings are the simulator's: a value of each metric of
	// each sensor on a normal day.
	type normal struct {
		sensor uint64
		metric string
		value  float64
	}
	var detectors []*live.Sensor
	leaking := map[uint64]bool{}
	for _, s := range all {
		if s.Metrics[0] == "ch4_lel" && len(detectors) < 200 {
			detectors = append(detectors, s)
			leaking[s.ID] = true
		}
	}
	var background []normal
	seen := map[string]bool{}
	day := time.Now().Add(-2 * time.Hour)
	readings, err := sim.Generate(sim.Options{City: c}, day, day.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for r := range readings {
		if k := fmt.Sprint(r.Sensor, r.Metric); !seen[k] && !leaking[r.Sensor] {
			seen[k] = true
			background = append(background, normal{r.Sensor, r.Metric, r.Value})
		}
	}
	var (
		mu             sync.Mutex
		alarms, values []float64
		acks           []float64 // ingest requests' times
		frames         atomic.Int64
	)
	closeAll := connect(b, ts, clients, func() string { return viewport(rnd, all) }, func() (func([]byte), func()) {
		var al, vl []float64
		frame := func(p []byte) {
			at := time.Now()
			if !bytes.HasPrefix(p, []byte(`{"type":"delta"`)) {
				return
			}
			frames.Add(1)
			// Each sensor state: …"level":N,…"time":"…"
			for rest := p; ; {
				i := bytes.Index(rest, []byte(`"level":`))
				j := bytes.Index(rest, []byte(`"time":"`))
				if i < 0 || j < i {
					break
				}
				level := rest[i+8]
				rest = rest[j+8:]
				k := bytes.IndexByte(rest, '"')
				t, err := time.Parse(time.RFC3339Nano, string(rest[:k]))
				if err != nil {
					continue
				}
				ms := float64(at.Sub(t).Microseconds()) / 1000
				if level != '0' {
					al = append(al, ms)
				} else {
					vl = append(vl, ms)
				}
			}
		}
		done := func() { mu.Lock(); alarms, values = append(alarms, al...), append(values, vl...); mu.Unlock() }
		return frame, done
	})
	time.Sleep(time.Second) // the snapshots go out

	post := func(i int) {
		var sb strings.Builder
		now := time.Now().UTC()
		sb.WriteByte('[')
		for k := range perBatch {
			if k > 0 {
				sb.WriteByte(',')
			}
			if k < leaks {
				s, v := detectors[(i/2*leaks+k)%len(detectors)], 30.0
				if i%2 == 1 {
					v = 1
				}
				fmt.Fprintf(&sb, `{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%q}`, s.ID, v, now.Format(time.RFC3339Nano))
				continue
			}
			r := background[(i*perBatch+k)%len(background)]
			fmt.Fprintf(&sb, `{"sensor":%d,"metric":%q,"value":%v,"ts":%q}`, r.sensor, r.metric, r.value, now.Format(time.RFC3339Nano))
		}
		sb.WriteByte(']')
		t0 := time.Now()
		resp, err := http.Post(ts.URL+"/api/v1/readings", "application/json", strings.NewReader(sb.String()))
		if err != nil {
			b.Error(err)
			return
		}
		resp.Body.Close()
		mu.Lock()
		acks = append(acks, float64(time.Since(t0).Microseconds())/1000)
		mu.Unlock()
	}
	every := time.Second * perBatch / rate
	tick := time.NewTicker(every)
	defer tick.Stop()
	b.ResetTimer()
	start := time.Now()
	// Batches go out on the clock, each on its own connection, as from
	// many senders: a slow answer does not lower the offered rate.
	var posting sync.WaitGroup
	for i := range b.N {
		posting.Go(func() { post(i) })
		<-tick.C
	}
	posting.Wait()
	elapsed := time.Since(start)
	time.Sleep(1500 * time.Millisecond) // the last frames arrive
	b.StopTimer()
	closeAll()
	if len(alarms) == 0 || len(values) == 0 {
		b.Fatalf("%d alarm and %d value states reached the clients", len(alarms), len(values))
	}
	q := func(xs []float64, p float64) float64 { return xs[int(p*float64(len(xs)-1))] }
	slices.Sort(alarms)
	slices.Sort(values)
	slices.Sort(acks)
	b.ReportMetric(q(acks, 0.99), "ingest-p99-ms")
	b.ReportMetric(q(alarms, 0.5), "alarm-p50-ms")
	b.ReportMetric(q(alarms, 0.99), "alarm-p99-ms")
	b.ReportMetric(q(values, 0.5), "value-p50-ms")
	b.ReportMetric(q(values, 0.99), "value-p99-ms")
	b.ReportMetric(float64(frames.Load())/elapsed.Seconds(), "frames/s")
	b.ReportMetric(float64(len(alarms)+len(values))/elapsed.Seconds(), "states/s")
	b.ReportMetric(float64(b.N*perBatch)/elapsed.Seconds(), "readings/s")
}

// rawClient is a WebSocket client with no goroutine and no buffers of its
// own, so that the memory of many idle connections is the server's.
type rawClient struct{ net.Conn }

func dialRaw(addr, subscribe string) (*rawClient, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReaderSize(conn, 512)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "101") {
		conn.Close()
		return nil, fmt.Errorf("handshake: %q %v", line, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, err
		}
		if l == "\r\n" {
			break
		}
	}
	// A masked text frame (RFC 6455 §5.2), mask 0: the payload as is.
	p := []byte(subscribe)
	frame := []byte{0x81}
	if len(p) < 126 {
		frame = append(frame, 0x80|byte(len(p)))
	} else {
		frame = append(frame, 0x80|126)
		frame = binary.BigEndian.AppendUint16(frame, uint16(len(p)))
	}
	frame = append(frame, 0, 0, 0, 0)
	frame = append(frame, p...)
	if _, err := conn.Write(frame); err != nil {
		conn.Close()
		return nil, err
	}
	return &rawClient{conn}, nil
}

// TestMain runs the idle clients of BenchmarkWSIdleClients when asked to:
// in a process of their own, so that their file descriptors and memory are
// not the server's.
func TestMain(m *testing.M) {
	if addr := os.Getenv("ONEMAP_WS_IDLE_CLIENTS"); addr != "" {
		os.Exit(holdIdleClients(addr))
	}
	code := m.Run()
	if testAuthDir != "" {
		os.RemoveAll(testAuthDir)
	}
	for _, d := range testDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// holdIdleClients reads the number of clients and their subscribe messages
// from stdin, connects them to addr, says "ready", and holds them until
// stdin closes.
func holdIdleClients(addr string) int {
	sc := bufio.NewScanner(os.Stdin)
	var clients []*rawClient
	for sc.Scan() {
		rc, err := dialRaw(addr, sc.Text())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		clients = append(clients, rc)
		if len(clients)%1000 == 0 {
			fmt.Println(len(clients))
		}
	}
	for _, rc := range clients {
		rc.Close()
	}
	return 0
}

// BenchmarkWSIdleClients holds 10,000 subscribed clients that send and
// read nothing more, from another process, and reports the heap and stacks
// they cost the server.
func BenchmarkWSIdleClients(b *testing.B) {
	const n = 10_000
	ts, s, all, _ := benchCity(b)
	rnd := rand.New(rand.NewPCG(3, 4))
	var before, after runtime.MemStats
	for range b.N {
		runtime.GC()
		runtime.ReadMemStats(&before)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), "ONEMAP_WS_IDLE_CLIENTS="+strings.TrimPrefix(ts.URL, "http://"))
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		go func() {
			for range n {
				fmt.Fprintln(in, viewport(rnd, all))
			}
		}()
		progress := bufio.NewScanner(out)
		for progress.Scan() && progress.Text() != strconv.Itoa(n) {
		}
		for deadline := time.Now().Add(60 * time.Second); s.hub.Len() < n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d clients connected", s.hub.Len(), n)
			}
		}
		time.Sleep(2 * time.Second) // subscriptions and snapshots settle
		// A long-running server collects often; each collection halves the
		// stacks of goroutines that use under a quarter of theirs.
		for range 3 {
			runtime.GC()
		}
		runtime.ReadMemStats(&after)
		used := (after.HeapInuse + after.StackInuse) - (before.HeapInuse + before.StackInuse)
		b.ReportMetric(float64(used)/n, "B/client")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/n, "stack-B/client")
		b.ReportMetric(float64(runtime.NumGoroutine())/n, "goroutines/client")
		in.Close()
		cmd.Wait()
		for deadline := time.Now().Add(30 * time.Second); s.hub.Len() > 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		}
	}
}

// BenchmarkWSFanout measures delivery when an alarm storm hits every
// client: 1,000 clients watching the whole city, and each op 1,000 alarm
// changes published at once. Reports alarm states delivered per second.
func BenchmarkWSFanout(b *testing.B) {
	const clients, storm = 1000, 1000
	ts, s, all, _ := benchCity(b)
	bound := sensorBound(all)
	sub := fmt.Sprintf(`{"type":"subscribe","topics":["alarms"],"bbox":[%f,%f,%f,%f],"zoom":12}`, bound.Min[0], bound.Min[1], bound.Max[0], bound.Max[1])
	var delivered, resyncs atomic.Int64
	closeAll := connect(b, ts, clients, func() string { return sub }, func() (func([]byte), func()) {
		return func(p []byte) {
			switch {
			case bytes.HasPrefix(p, []byte(`{"type":"delta"`)):
				delivered.Add(int64(bytes.Count(p, []byte(`"sensor_code"`))))
			case bytes.HasPrefix(p, []byte(`{"type":"resync"`)):
				resyncs.Add(1)
			}
		}, func() {}
	})
	time.Sleep(time.Second)
	alarms := make([]hub.Event, storm)
	for i := range alarms {
		sn := all[i%len(all)]
		alarms[i] = alarmEvent(&live.Alarm{ID: uint64(i + 1), Sensor: sn.ID, SensorCode: sn.Code, Metric: sn.Metrics[0], Location: [2]float64(sn.Location),
			Domain: sn.Domain, Level: 2, State: live.Active, Started: time.Now(), Updated: time.Now()}, time.Now())
	}
	b.ResetTimer()
	start := time.Now()
	want := int64(0)
	for range b.N {
		for _, ev := range alarms {
			s.hub.Publish(ev)
		}
		want += clients * storm
		// Every client has the storm, or told to resync (it fell 4,096
		// alarms behind), or 10 s have passed.
		for deadline := time.Now().Add(10 * time.Second); delivered.Load()+resyncs.Load()*storm < want && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	closeAll()
	b.ReportMetric(float64(delivered.Load())/elapsed.Seconds(), "alarms-delivered/s")
	b.ReportMetric(float64(delivered.Load())/float64(want), "delivered-fraction")
	b.ReportMetric(float64(resyncs.Load()), "resyncs")
}
