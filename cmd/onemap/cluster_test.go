package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/onemap/onemap/cluster"
	"github.com/onemap/onemap/store/postgis/pgtest"
)

// natsCluster starts three NATS servers in the test's process, routed into
// one JetStream cluster on the loopback, and returns them, their options
// (to start one again) and their client URLs.
func natsCluster(t testing.TB) ([]*natsserver.Server, []*natsserver.Options, string) {
	t.Helper()
	free := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	var routes, urls []string
	ports := []int{free(), free(), free()}
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	var servers []*natsserver.Server
	var opts []*natsserver.Options
	for i, p := range ports {
		o := &natsserver.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), JetStreamMaxStore: 8 << 30, JetStreamMaxMemory: 256 << 20,
			Cluster: natsserver.ClusterOpts{Name: "onemap", Host: "127.0.0.1", Port: p},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ",")),
			NoLog:   true, NoSigs: true,
		}
		opts = append(opts, o)
		servers = append(servers, startNATS(t, o))
	}
	for _, s := range servers {
		if !s.ReadyForConnections(20 * time.Second) {
			t.Fatalf("NATS server %s did not start", s.Name())
		}
		urls = append(urls, s.ClientURL())
		opts[len(urls)-1].Port = s.Addr().(*net.TCPAddr).Port // the same again
	}
	return servers, opts, strings.Join(urls, ",")
}

func startNATS(t testing.TB, o *natsserver.Options) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// instance is one onemap serve of a test cluster.
type instance struct {
	name string
	url  string
	cmd  *exec.Cmd
	log  *syncBuffer
}

func startInstance(t testing.TB, name, natsURL, db string) *instance {
	t.Helper()
	return startInstanceIn(t, t.TempDir(), name, natsURL, db)
}

// startInstanceIn starts an instance on the data directory dir.
func startInstanceIn(t testing.TB, dir, name, natsURL, db string) *instance {
	t.Helper()
	in := &instance{name: name, log: &syncBuffer{}}
	in.cmd, in.url = startLogged(t, in.log, "--data-dir", dir, "--nats", natsURL, "--nats-name", name,
		"--nats-replicas", "3", "--ingest-token", testIngestToken, "--db", db)
	return in
}

// clusterStatus is what /healthz tells of the cluster.
type clusterStatus struct {
	Cluster struct {
		Name       string
		Instances  int
		Partitions []int
	}
}

// wsFollower is a live channel client that keeps the latest state of
// every alarm it hears of, and the last sequence number.
type wsFollower struct {
	mu      sync.Mutex
	conn    *websocket.Conn
	last    uint64
	alarms  map[uint64]string // id → state/level
	msgs    []string          // the types of the messages, with resumed marked
	stopped chan struct{}
}

func followWS(t testing.TB, url string, resume uint64) *wsFollower {
	t.Helper()
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { conn.Close() })
	f := &wsFollower{conn: conn, alarms: map[uint64]string{}, stopped: make(chan struct{})}
	sub := fmt.Sprintf(`{"type":"subscribe","topics":["alarms"],"bbox":[116,31,118.5,33],"zoom":12,"resume":%d}`, resume)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(sub)); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(f.stopped)
		for {
			var m struct {
				Type    string
				Seq     uint64
				Resumed bool
				Alarms  []struct {
					ID    uint64
					State string
					Level int
				}
			}
			if err := conn.ReadJSON(&m); err != nil {
				return
			}
			f.mu.Lock()
			kind := m.Type
			if m.Resumed {
				kind += "+resumed"
			}
			f.msgs = append(f.msgs, kind)
			if m.Type == "snapshot" || m.Type == "delta" {
				f.last = max(f.last, m.Seq)
				for _, a := range m.Alarms {
					f.alarms[a.ID] = fmt.Sprintf("%s/%d", a.State, a.Level)
				}
			}
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *wsFollower) state() (uint64, map[uint64]string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[uint64]string{}
	for k, v := range f.alarms {
		out[k] = v
	}
	return f.last, out, slices.Clone(f.msgs)
}

// gasDetector is a sensor that measures ch4_lel.
type gasDetector struct {
	ID   uint64
	Code string
}

// gasDetectors returns the first n gas detectors an instance lists.
func gasDetectors(t testing.TB, in *instance, n int) []gasDetector {
	t.Helper()
	var list struct {
		Sensors []struct {
			ID      uint64
			Code    string
			Metrics []struct{ ID string }
		}
	}
	getJSON(t, in.url+"/api/v1/sensors?limit=2000", &list)
	var out []gasDetector
	for _, s := range list.Sensors {
		if len(out) < n && slices.ContainsFunc(s.Metrics, func(m struct{ ID string }) bool { return m.ID == "ch4_lel" }) {
			out = append(out, gasDetector{s.ID, s.Code})
		}
	}
	return out
}

// clusterAlarm is an alarm as the tests compare them between instances.
type clusterAlarm struct {
	ID, Sensor uint64
	State      string
	Level      int
	Changes    []struct{ Kind string }
}

// alarmsOn returns the alarms an instance lists, by id; with changes, each
// with its changes.
func alarmsOn(t testing.TB, in *instance, changes bool) []clusterAlarm {
	t.Helper()
	var out struct{ Alarms []clusterAlarm }
	getJSON(t, in.url+"/api/v1/alarms?limit=1000", &out)
	for i := range out.Alarms {
		if changes {
			getJSON(t, fmt.Sprintf("%s/api/v1/alarms/%d", in.url, out.Alarms[i].ID), &out.Alarms[i])
		}
	}
	slices.SortFunc(out.Alarms, func(x, y clusterAlarm) int { return int(x.ID) - int(y.ID) })
	return out.Alarms
}

// curveBucket is a step of a sensor's curve.
type curveBucket struct {
	N   int
	Max float64
}

// curveOn returns a gas detector's curve on an instance from from to to,
// in steps of step.
func curveOn(t testing.TB, in *instance, id uint64, from, to time.Time, step string) []curveBucket {
	t.Helper()
	var c struct{ Buckets []curveBucket }
	getJSON(t, fmt.Sprintf("%s/api/v1/sensors/%d/series?metric=ch4_lel&from=%s&to=%s&step=%s", in.url, id,
		from.Format(time.RFC3339), to.Format(time.RFC3339), step), &c)
	return c.Buckets
}

// readingsOn counts a gas detector's readings on an instance from from to
// to.
func readingsOn(t testing.TB, in *instance, id uint64, from, to time.Time) int {
	t.Helper()
	n := 0
	for _, b := range curveOn(t, in, id, from, to, "1s") {
		n += b.N
	}
	return n
}

// spread waits until the partitions are spread over the instances, each
// held by one, and returns who holds which.
func spread(t testing.TB, ins []*instance) map[int]*instance {
	t.Helper()
	owner := map[int]*instance{}
	waitUntil(t, 30*time.Second, "the partitions spread over the instances", func() bool {
		clear(owner)
		for _, in := range ins {
			var st clusterStatus
			getJSON(t, in.url+"/healthz", &st)
			if st.Cluster.Instances != len(ins) || len(st.Cluster.Partitions) < cluster.Partitions/len(ins)-1 {
				return false
			}
			for _, p := range st.Cluster.Partitions {
				if owner[p] != nil {
					return false // being handed over
				}
				owner[p] = in
			}
		}
		return len(owner) == cluster.Partitions
	})
	return owner
}

func waitUntil(t testing.TB, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterFailover runs three instances on a three-server NATS cluster
// and one PostGIS, and streams readings through all three; one instance is
// killed with SIGKILL mid-stream. No acknowledged reading is lost, each
// breach raises one alarm, the dead instance's sensors are decided by
// another within seconds, both survivors show the same alarms, a live
// channel client of the dead instance resumes on another from its last
// number without missing an alarm, and a layer edited in the database
// changes the tiles of both survivors.
func TestClusterFailover(t *testing.T) {
	db := pgtest.URL(t)
	if err := run(context.Background(), []string{"load", "--db", db, "--quiet"}, io.Discard, io.Discard); err != nil {
		t.Fatalf("load: %v", err)
	}
	_, _, natsURL := natsCluster(t)
	ins := []*instance{startInstance(t, "a", natsURL, db), startInstance(t, "b", natsURL, db), startInstance(t, "c", natsURL, db)}
	a, b, c := ins[0], ins[1], ins[2]
	owner := spread(t, ins)

	// Gas detectors: the first half breach from the start, the rest of
	// those the killed instance owns only after it is gone; all others
	// stay normal.
	type sensor struct {
		id         uint64
		code       string
		early      bool // breaches from the first round
		late       bool // breaches once a is dead; owned by a
		acked, all int  // readings acknowledged, and sent
		lastAcked  float64
	}
	var sensors []*sensor
	for i, g := range gasDetectors(t, a, 60) {
		sn := &sensor{id: g.ID, code: g.Code, early: i%3 == 0}
		sn.late = !sn.early && i%3 == 1 && owner[cluster.Partition(g.ID)] == a
		sensors = append(sensors, sn)
	}
	nLate := 0
	for _, s := range sensors {
		if s.late {
			nLate++
		}
	}
	if len(sensors) < 30 || nLate == 0 {
		t.Fatalf("%d gas detectors, %d of the killed instance's to breach late: too few for the test", len(sensors), nLate)
	}

	onA := followWS(t, a.url, 0)
	onC := followWS(t, c.url, 0)
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	var killedAt time.Time
	const rounds, killRound = 40, 15
	for r := range rounds {
		if r == killRound {
			if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killedAt = time.Now()
		}
		// One batch per instance, each of a third of the sensors.
		for k, in := range ins {
			var lines []string
			var batch []*sensor
			for i, s := range sensors {
				if (i+r)%3 != k {
					continue
				}
				v := 1.0
				if s.early || s.late && r > killRound {
					v = 30
				}
				lines = append(lines, fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%d}`, s.id, v, base.Add(time.Duration(r)*time.Second).UnixMilli()))
				batch = append(batch, s)
				s.all++
			}
			code, body, err := postJSON(in.url+"/api/v1/readings", "["+strings.Join(lines, ",")+"]")
			if err != nil || code != http.StatusOK {
				if in == a && r >= killRound {
					continue // dead: not acknowledged
				}
				t.Fatalf("round %d, %s: %d %s %v", r, in.name, code, body, err)
			}
			var res struct{ Accepted int }
			if err := json.Unmarshal([]byte(body), &res); err != nil || res.Accepted != len(batch) {
				t.Fatalf("round %d, %s: %s", r, in.name, body)
			}
			for _, s := range batch {
				s.acked++
				s.lastAcked = 1
				if s.early || s.late && r > killRound {
					s.lastAcked = 30
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	a.cmd.Wait()
	lastOnA, _, _ := onA.state()
	<-onA.stopped
	if lastOnA == 0 {
		t.Fatal("the killed instance's client heard nothing before the kill")
	}

	// The late breaches are decided by a's successors.
	waitUntil(t, 30*time.Second, "every late breach of the killed instance's sensors raised on b", func() bool {
		bySensor := map[uint64]bool{}
		for _, al := range alarmsOn(t, b, false) {
			bySensor[al.Sensor] = true
		}
		for _, s := range sensors {
			if s.late && !bySensor[s.id] {
				return false
			}
		}
		return true
	})
	t.Logf("the killed instance's sensors decided by the others %v after the kill", time.Since(killedAt).Round(100*time.Millisecond))

	// b and c agree, and each breach raised one alarm.
	onB, onCAlarms := alarmsOn(t, b, true), alarmsOn(t, c, true)
	if fmt.Sprint(onB) != fmt.Sprint(onCAlarms) {
		t.Errorf("b and c disagree:\nb %v\nc %v", onB, onCAlarms)
	}
	raised := map[uint64]int{}
	for _, al := range onB {
		raised[al.Sensor]++
		if al.State != "active" || al.Level != 2 || len(al.Changes) != 1 || al.Changes[0].Kind != "raised" {
			t.Errorf("alarm %d of sensor %d: %s level %d, changes %v", al.ID, al.Sensor, al.State, al.Level, al.Changes)
		}
	}
	raisedOf := func(s *sensor) int {
		if s.early || s.late {
			return 1
		}
		return 0
	}
	for _, s := range sensors {
		want := raisedOf(s)
		if raised[s.id] != want {
			t.Errorf("sensor %s: %d alarms, want %d", s.code, raised[s.id], want)
		}
		// Every acknowledged reading is in the curves, none twice.
		for _, in := range []*instance{b, c} {
			n, last := 0, 0.0
			for _, bk := range curveOn(t, in, s.id, base.Add(-time.Second), base.Add(rounds*time.Second), "1s") {
				if bk.N > 1 {
					t.Errorf("%s: sensor %s has %d readings in one second", in.name, s.code, bk.N)
				}
				n += bk.N
				if bk.N > 0 {
					last = bk.Max
				}
			}
			if n < s.acked || n > s.all || last != s.lastAcked {
				t.Errorf("%s: sensor %s has %d readings, the last %v; %d were acknowledged of %d sent, the last %v", in.name, s.code, n, last, s.acked, s.all, s.lastAcked)
			}
		}
	}

	// PostGIS keeps every reading and every decision once: an alarm's
	// raise, and the readings acknowledged.
	pg, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	// What the dead instance had in hand is copied by another after 10 s.
	waitUntil(t, 30*time.Second, "PostGIS holds the readings and the decisions", func() bool {
		for _, s := range sensors {
			var n, raised int
			if err := pg.QueryRow(context.Background(), `SELECT count(*) FROM reading WHERE sensor = $1 AND metric = 'ch4_lel'`, int64(s.id)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := pg.QueryRow(context.Background(), `SELECT count(*) FROM journal_event WHERE kind = 'raised' AND (body->>'sensor')::bigint = $1`, int64(s.id)).Scan(&raised); err != nil {
				t.Fatal(err)
			}
			if n > s.all || raised > 1 {
				t.Fatalf("PostGIS holds %d readings of sensor %s (%d sent) and %d raises", n, s.code, s.all, raised)
			}
			if n < s.acked || raised != raisedOf(s) {
				return false
			}
		}
		return true
	})

	// The dead instance's client resumes on b from its last number: it
	// hears of every alarm raised while it was away, as a client of c
	// that never left did, and with no snapshot.
	var lateIDs []uint64
	for _, al := range onB {
		if i := slices.IndexFunc(sensors, func(s *sensor) bool { return s.id == al.Sensor }); sensors[i].late {
			lateIDs = append(lateIDs, al.ID)
		}
	}
	onB2 := followWS(t, b.url, lastOnA)
	waitUntil(t, 10*time.Second, "the resumed client has every alarm raised while it was away", func() bool {
		_, x, _ := onB2.state()
		for _, id := range lateIDs {
			if x[id] == "" {
				return false
			}
		}
		return true
	})
	_, x, msgs := onB2.state()
	_, y, _ := onC.state()
	for id, st := range x {
		if y[id] != st {
			t.Errorf("alarm %d: %s to the resumed client, %s to c's", id, st, y[id])
		}
	}
	if len(msgs) == 0 || msgs[0] != "hello" || !slices.Contains(msgs, "delta+resumed") || slices.Contains(msgs, "snapshot") || slices.Contains(msgs, "resync") {
		t.Errorf("the client resumed on b got %v, want a hello and a resumed delta, no snapshot", msgs)
	}

	// A pipe edited in the database, as another GIS tool would: both
	// survivors' tiles of it change.
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	id, tile := firstGasPipeTile(t, conn)
	etag := func(in *instance) string { return etagOf(t, in.url+tile) }
	before := map[*instance]string{b: etag(b), c: etag(c)}
	if before[b] != before[c] {
		t.Errorf("b and c tag one tile %s and %s", before[b], before[c])
	}
	if _, err := conn.Exec(context.Background(), `UPDATE gas_pipe SET diameter_mm = diameter_mm + 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for _, in := range []*instance{b, c} {
		waitUntil(t, 10*time.Second, in.name+"'s tile of the edited pipe changed", func() bool { return etag(in) != before[in] })
	}

	// An incident opened on b is verified on c; two opened at once, one on
	// each, get numbers of their own; both instances hold the same.
	onBOp := apiLogIn(t, b.url, "", db, "wang", "operator")
	onCOp := apiLogIn(t, c.url, "", db, "wang", "operator")
	must := func(ws *webSession, method, path, body string) string {
		t.Helper()
		st, res, err := ws.do(method, path, body)
		if err != nil || st/100 != 2 {
			t.Fatalf("%s %s on %s: %d %s %v", method, path, ws.url, st, res, err)
		}
		return res
	}
	var opened struct{ Incident struct{ ID, State string } }
	json.Unmarshal([]byte(must(onBOp, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":[%d]}`, onB[0].ID))), &opened)
	inc := opened.Incident.ID
	waitUntil(t, 5*time.Second, "c holds the incident opened on b", func() bool {
		st, _, err := onCOp.do("GET", "/api/v1/incidents/"+inc, "")
		return err == nil && st == 200
	})
	must(onCOp, "POST", "/api/v1/incidents/"+inc+"/verify", `{"outcome":"confirmed","reason":"现场确认"}`)
	waitUntil(t, 5*time.Second, "b holds the incident confirmed on c", func() bool {
		return strings.Contains(must(onBOp, "GET", "/api/v1/incidents/"+inc, ""), `"state":"confirmed"`)
	})
	var wg sync.WaitGroup
	ids := make([]string, 2)
	for i, ws := range []*webSession{onBOp, onCOp} {
		wg.Go(func() {
			var in struct{ Incident struct{ ID string } }
			json.Unmarshal([]byte(must(ws, "POST", "/api/v1/incidents", fmt.Sprintf(`{"alarms":[%d]}`, onB[1+i].ID))), &in)
			ids[i] = in.Incident.ID
		})
	}
	wg.Wait()
	if ids[0] == ids[1] || ids[0] == "" {
		t.Errorf("incidents opened at once on b and c: %q and %q", ids[0], ids[1])
	}
	incidentsOn := func(ws *webSession) string {
		var out struct{ Incidents []struct{ ID, State string } }
		json.Unmarshal([]byte(must(ws, "GET", "/api/v1/incidents", "")), &out)
		slices.SortFunc(out.Incidents, func(x, y struct{ ID, State string }) int { return strings.Compare(x.ID, y.ID) })
		return fmt.Sprint(out.Incidents)
	}
	waitUntil(t, 5*time.Second, "b and c hold the same three incidents", func() bool {
		x, y := incidentsOn(onBOp), incidentsOn(onCOp)
		return x == y && strings.Count(x, "INC-") == 3
	})
}

// TestClusterNATSRestart streams readings through two instances while one
// of the three NATS servers stops and starts again: a batch refused
// meanwhile is sent again, as a device would, and in the end every
// acknowledged reading is applied once, each breach raised one alarm, and
// both instances agree.
func TestClusterNATSRestart(t *testing.T) {
	servers, opts, natsURL := natsCluster(t)
	a, b := startInstance(t, "a", natsURL, ""), startInstance(t, "b", natsURL, "")
	ins := []*instance{a, b}
	var ids []uint64
	for _, g := range gasDetectors(t, a, 40) {
		ids = append(ids, g.ID)
	}
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	const rounds, stopRound, startRound = 40, 10, 20
	retried := 0
	for r := range rounds {
		switch r {
		case stopRound:
			servers[1].Shutdown()
			servers[1].WaitForShutdown()
		case startRound:
			servers[1] = startNATS(t, opts[1])
		}
		for k, in := range ins {
			var lines []string
			for i, id := range ids {
				if (i+r)%2 != k {
					continue
				}
				v := 1.0
				if i%4 == 0 && r >= 5 {
					v = 30 // a breach from round 5 on
				}
				lines = append(lines, fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%d}`, id, v, base.Add(time.Duration(r)*time.Second).UnixMilli()))
			}
			body := "[" + strings.Join(lines, ",") + "]"
			for attempt := 0; ; attempt++ {
				code, res, err := postJSON(in.url+"/api/v1/readings", body)
				if err == nil && code == http.StatusOK {
					break
				}
				if attempt == 50 {
					t.Fatalf("round %d, %s: still refused after %d attempts: %d %s %v", r, in.name, attempt, code, res, err)
				}
				retried++
				time.Sleep(200 * time.Millisecond)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%d batches sent again while a NATS server was away", retried)
	waitUntil(t, 20*time.Second, "both instances have the ten alarms", func() bool {
		return len(alarmsOn(t, a, false)) == 10 && len(alarmsOn(t, b, false)) == 10
	})
	if x, y := alarmsOn(t, a, true), alarmsOn(t, b, true); fmt.Sprint(x) != fmt.Sprint(y) {
		t.Errorf("a and b disagree:\na %v\nb %v", x, y)
	}
	// Every reading sent is in both instances' curves, once.
	readings := func(in *instance, id uint64) int {
		return readingsOn(t, in, id, base.Add(-time.Second), base.Add(rounds*time.Second))
	}
	waitUntil(t, 20*time.Second, "every reading in both instances' curves", func() bool {
		for _, id := range ids {
			for _, in := range ins {
				if readings(in, id) < rounds {
					return false
				}
			}
		}
		return true
	})
	for _, id := range ids {
		for _, in := range ins {
			if n := readings(in, id); n != rounds {
				t.Errorf("%s: sensor %d has %d readings, want the %d sent", in.name, id, n, rounds)
			}
		}
	}
}

// TestClusterRestartFromCheckpoint: an instance stopped cleanly keeps a
// checkpoint of its live state; started again it reads it and follows the
// streams from there, not from their start, and ends with what the other
// instance has: the same alarms, the same curves.
func TestClusterRestartFromCheckpoint(t *testing.T) {
	_, _, natsURL := natsCluster(t)
	dir := t.TempDir()
	a, b := startInstanceIn(t, dir, "a", natsURL, ""), startInstance(t, "b", natsURL, "")
	var ids []uint64
	for _, g := range gasDetectors(t, b, 20) {
		ids = append(ids, g.ID)
	}
	base := time.Now().Add(-20 * time.Minute).Truncate(time.Second)
	// Round r breaches the detectors i with i%4 == breach%4.
	send := func(in *instance, r, breach int) {
		t.Helper()
		var lines []string
		for i, id := range ids {
			v := 1.0
			if i%4 == breach%4 {
				v = 30
			}
			lines = append(lines, fmt.Sprintf(`{"sensor":%d,"metric":"ch4_lel","value":%v,"ts":%d}`, id, v, base.Add(time.Duration(r)*time.Second).UnixMilli()))
		}
		if code, body, err := postJSON(in.url+"/api/v1/readings", "["+strings.Join(lines, ",")+"]"); err != nil || code != http.StatusOK {
			t.Fatalf("round %d to %s: %d %s %v", r, in.name, code, body, err)
		}
	}
	for r := range 10 {
		send([]*instance{a, b}[r%2], r, r)
	}
	waitUntil(t, 10*time.Second, "a has the alarms", func() bool {
		var out struct{ Alarms []struct{ ID uint64 } }
		getJSON(t, a.url+"/api/v1/alarms?limit=1000", &out)
		return len(out.Alarms) >= 5
	})
	time.Sleep(500 * time.Millisecond)
	stopChild(t, a.cmd)
	if a.log.count("INFO", "cluster: checkpoint") == 0 {
		t.Fatalf("a kept no checkpoint at its stop:\n%s", a.log)
	}
	// Readings while a is away, deciding nothing new.
	for r := 10; r < 15; r++ {
		send(b, r, 9)
	}
	a = startInstanceIn(t, dir, "a", natsURL, "")
	if a.log.count("INFO", "live state read from the checkpoint") != 1 || a.log.count("INFO", "caught up", "readings=100 ") != 1 {
		t.Errorf("a did not start from its checkpoint, reading only the 100 readings since:\n%s", a.log)
	}
	waitUntil(t, 20*time.Second, "a takes its share of the partitions back", func() bool {
		return a.log.count("INFO", "partitions taken over") > 0
	})
	for r := 15; r < 20; r++ {
		send(a, r, r)
	}
	curve := func(in *instance, id uint64) int {
		return readingsOn(t, in, id, base.Add(-time.Second), base.Add(20*time.Second))
	}
	waitUntil(t, 10*time.Second, "a and b agree on the alarms and the curves", func() bool {
		if fmt.Sprint(alarmsOn(t, a, true)) != fmt.Sprint(alarmsOn(t, b, true)) {
			return false
		}
		for _, id := range ids {
			if curve(a, id) != 20 || curve(b, id) != 20 {
				return false
			}
		}
		return true
	})
}
