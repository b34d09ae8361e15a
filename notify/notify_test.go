package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/directory"
)

// memJournal keeps events in memory, each through its JSON and back as a
// journal that writes and reads them would.
type memJournal struct {
	mu  sync.Mutex
	evs []Event
	err error
}

func (j *memJournal) Record(ctx context.Context, incident string, ev Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return j.err
	}
	if incident != ev.Incident {
		return fmt.Errorf("incident %s for an event of %s", incident, ev.Incident)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	back, err := DecodeEvent(data)
	if err != nil {
		return err
	}
	j.evs = append(j.evs, back)
	return nil
}

func (j *memJournal) events() []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.evs)
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

var t0 = time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)

// sleeps records the waits between attempts and returns at once.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

type rig struct {
	t     *testing.T
	j     *memJournal
	clk   *clock
	inapp *InApp
	sms   *FakeSMS
	sl    *sleeps
	d     *Dispatcher
	dir   *directory.Directory
}

func newRig(t *testing.T, o Options, extra ...Channel) *rig {
	t.Helper()
	r := &rig{t: t, j: &memJournal{}, clk: &clock{t: t0}, inapp: &InApp{}, sms: &FakeSMS{}, sl: &sleeps{}, dir: directory.Default()}
	if o.Journal == nil {
		o.Journal = r.j
	}
	o.Now, o.Sleep, o.Jitter = r.clk.Now, r.sl.Sleep, func() float64 { return 0.5 }
	o.Logger = slog.New(slog.DiscardHandler)
	o.Channels = append([]Channel{r.inapp, &SMS{Gateway: r.sms}}, extra...)
	d, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	ctx, cancel := context.WithCancel(context.Background())
	d.Start(ctx)
	t.Cleanup(func() { cancel(); d.Close() })
	return r
}

func (r *rig) flush() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.d.Flush(ctx); err != nil {
		r.t.Fatalf("flush: %v", err)
	}
}

func person(t *testing.T, dir *directory.Directory, id string) directory.Recipient {
	t.Helper()
	p, ok := dir.Person(id)
	if !ok {
		t.Fatalf("no person %s", id)
	}
	u, _ := dir.Unit(p.Unit)
	return directory.Recipient{Person: p, UnitName: u.Name, Reasons: []directory.Reason{directory.ReasonOwner}, Channels: p.Channels, Webhook: u.Webhook}
}

func notice(rs ...directory.Recipient) Notice {
	return Notice{Incident: "inc-1", Version: 1, Level: 1, Kind: KindWarning,
		TextZh: "滨湖燃气公司：方兴街道燃气管网甲烷浓度超限，I级预警。", TextEn: "Binhu Gas: methane above limit in Fangxing, level I warning.", Recipients: rs}
}

// receiver is a unit's webhook endpoint: it checks every request's
// signature and answers the status fail gives for the attempt.
type receiver struct {
	t      *testing.T
	secret []byte
	clk    *clock
	fail   func(n int) int // status for the n-th request (from 1); 0 is 200
	mu     sync.Mutex
	ids    []string
	bodies [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := Verify(rc.secret, r.Header, body, rc.clk.Now(), 5*time.Minute); err != nil {
		rc.t.Errorf("receiver: %v", err)
		http.Error(w, "signature", http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.ids = append(rc.ids, r.Header.Get(HeaderDelivery))
	rc.bodies = append(rc.bodies, body)
	n := len(rc.ids)
	rc.mu.Unlock()
	if s := rc.fail; s != nil && s(n) != 0 {
		w.WriteHeader(s(n))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) got() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.ids)
}

// webhookRig is a rig whose gas company webhook points at a receiver.
func webhookRig(t *testing.T, o Options, fail func(int) int) (*rig, *receiver, directory.Recipient) {
	rc := &receiver{t: t, secret: []byte("gas-secret")}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	var r *rig
	wh := &Webhook{Client: srv.Client(), Secret: func(name string) ([]byte, error) {
		if name != "gas_co_webhook" {
			return nil, errors.New("unknown secret")
		}
		return rc.secret, nil
	}}
	r = newRig(t, o, wh)
	rc.clk, wh.Now = r.clk, r.clk.Now
	rc.fail = fail
	rcp := person(t, r.dir, "gas_co.2")
	rcp.Channels = []directory.Channel{directory.ChannelWebhook}
	rcp.Webhook.URL = srv.URL + "/onemap/warnings"
	return r, rc, rcp
}

func TestWebhookRetriesThenDelivers(t *testing.T) {
	r, rc, rcp := webhookRig(t, Options{MaxAttempts: 5, Backoff: time.Second, MaxBackoff: time.Minute}, func(n int) int {
		if n <= 2 {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	dels, err := r.d.Dispatch(context.Background(), notice(rcp))
	if err != nil || len(dels) != 1 {
		t.Fatalf("dispatch: %v %v", dels, err)
	}
	r.flush()
	got, _ := r.d.Get(dels[0].ID)
	if got.State != Delivered || got.Attempts != 3 {
		t.Fatalf("state %s after %d attempts (%s), want delivered after 3", got.State, got.Attempts, got.Error)
	}
	ids := rc.got()
	if len(ids) != 3 || ids[0] != dels[0].ID || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Errorf("delivery ids %v, want %s three times", ids, dels[0].ID)
	}
	if !slices.Equal(rc.bodies[0], rc.bodies[2]) {
		t.Error("a retry sent another body")
	}
	var m map[string]any
	if err := json.Unmarshal(rc.bodies[0], &m); err != nil || m["incident"] != "inc-1" || m["text_zh"] == "" || m["phone"] != nil {
		t.Errorf("body %s: %v", rc.bodies[0], err)
	}
	// 1 s then 2 s, each drawn at 3/4 with the jitter at 0.5
	if want := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond}; !slices.Equal(r.sl.d, want) {
		t.Errorf("waits %v, want %v", r.sl.d, want)
	}
	var types []EventType
	for _, ev := range r.j.events() {
		types = append(types, ev.Type)
	}
	if want := []EventType{EvQueued, EvRetry, EvRetry, EvDelivered}; !slices.Equal(types, want) {
		t.Errorf("events %v, want %v", types, want)
	}
}

func TestWebhookFailsForGood(t *testing.T) {
	for _, tc := range []struct {
		status, requests int
	}{
		{http.StatusServiceUnavailable, 4}, // retried to the last attempt
		{http.StatusTooManyRequests, 4},
		{http.StatusRequestTimeout, 4},
		{http.StatusBadRequest, 1}, // refused: not retried
		{http.StatusGone, 1},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			r, rc, rcp := webhookRig(t, Options{MaxAttempts: 4}, func(int) int { return tc.status })
			dels, err := r.d.Dispatch(context.Background(), notice(rcp))
			if err != nil {
				t.Fatal(err)
			}
			r.flush()
			got, _ := r.d.Get(dels[0].ID)
			if got.State != Failed || got.Attempts != tc.requests || !strings.Contains(got.Error, fmt.Sprint(tc.status)) {
				t.Errorf("state %s, %d attempts, error %q; want failed after %d naming %d", got.State, got.Attempts, got.Error, tc.requests, tc.status)
			}
			if n := len(rc.got()); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if strings.Contains(got.Error, "/onemap/warnings") {
				t.Errorf("the error shows the url's path: %q", got.Error)
			}
			if s := r.d.Summary("inc-1"); s[Failed] != 1 || s[Delivered] != 0 {
				t.Errorf("summary %v", s)
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	secret, body := []byte("s"), []byte(`{"a":1}`)
	ts := fmt.Sprint(t0.Unix())
	h := http.Header{}
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, Sign(secret, ts, body))
	if err := Verify(secret, h, body, t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]func() error{
		"other secret": func() error { return Verify([]byte("t"), h, body, t0, time.Minute) },
		"other body":   func() error { return Verify(secret, h, []byte(`{"a":2}`), t0, time.Minute) },
		"replayed":     func() error { return Verify(secret, h, body, t0.Add(2*time.Minute), time.Minute) },
	} {
		if err := check(); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v, want bad_signature", name, err)
		}
	}
}

func TestInAppReceipts(t *testing.T) {
	var pushed []string
	var mu sync.Mutex
	r := newRig(t, Options{})
	r.inapp.Hook = func(login string, m Message) {
		mu.Lock()
		pushed = append(pushed, login+" "+m.Delivery)
		mu.Unlock()
	}
	ctx := context.Background()
	rcp := person(t, r.dir, "gas_co.3") // unit2: in_app and sms
	dels, err := r.d.Dispatch(ctx, notice(rcp))
	if err != nil || len(dels) != 2 {
		t.Fatalf("dispatch: %d deliveries, %v", len(dels), err)
	}
	r.flush()
	id := dels[0].ID
	if d, _ := r.d.Get(id); d.Channel != directory.ChannelInApp || d.State != Sent {
		t.Fatalf("in-app delivery %s is %s", d.Channel, d.State)
	}
	if len(pushed) != 1 || pushed[0] != "unit2 "+id {
		t.Errorf("pushed %v", pushed)
	}
	if s := r.sms.Sent(); len(s) != 1 || s[0].Phone != rcp.Person.Phone || !strings.HasPrefix(s[0].Text, "滨湖燃气公司") {
		t.Errorf("sms %v", s)
	}
	in, err := r.d.Fetch(ctx, "unit2")
	if err != nil || len(in) != 1 || in[0].State != Delivered {
		t.Fatalf("fetch: %v %v", in, err)
	}
	for _, by := range []string{"unit1", "", "admin"} {
		_, err := r.d.Read(ctx, id, by)
		var e *Error
		if !errors.Is(err, ErrNotRecipient) || !errors.As(err, &e) || e.Code != "not_recipient" {
			t.Errorf("read by %q: %v, want not_recipient", by, err)
		}
		if _, err := r.d.Reply(ctx, id, by, "收到"); !errors.Is(err, ErrNotRecipient) {
			t.Errorf("reply by %q: %v, want not_recipient", by, err)
		}
	}
	if _, err := r.d.Read(ctx, dels[1].ID, "unit2"); !errors.Is(err, ErrNotRecipient) {
		t.Errorf("read of the sms delivery in-app: %v", err)
	}
	r.clk.Add(time.Minute)
	d, err := r.d.Read(ctx, id, "unit2")
	if err != nil || d.State != Read || !d.ReadAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("read: %+v %v", d, err)
	}
	if _, err := r.d.Reply(ctx, id, "unit2", strings.Repeat("长", MaxReply)); !errors.Is(err, ErrBadReply) {
		t.Errorf("a long reply: %v", err)
	}
	if _, err := r.d.Reply(ctx, id, "unit2", "  "); !errors.Is(err, ErrBadReply) {
		t.Errorf("an empty reply: %v", err)
	}
	d, err = r.d.Reply(ctx, id, "unit2", "已派抢修队赶赴现场")
	if err != nil || d.State != Replied || d.Reply != "已派抢修队赶赴现场" {
		t.Fatalf("reply: %+v %v", d, err)
	}
	if _, err := r.d.Reply(ctx, id, "unit2", "again"); !errors.Is(err, ErrReplied) {
		t.Errorf("a second reply: %v", err)
	}
	if _, err := r.d.Read(ctx, "dnope", "unit2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}
}

func TestInboxUnreadFirst(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	rcp := person(t, r.dir, "gas_co.3")
	rcp.Channels = []directory.Channel{directory.ChannelInApp}
	var ids []string
	for v := 1; v <= 3; v++ {
		n := notice(rcp)
		n.Version = v
		dels, err := r.d.Dispatch(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, dels[0].ID)
		r.clk.Add(time.Minute)
	}
	r.flush()
	if _, err := r.d.Read(ctx, ids[2], "unit2"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.d.Inbox("unit2") {
		got = append(got, d.ID)
	}
	if want := []string{ids[1], ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Errorf("inbox %v, want %v (unread newest first, then read)", got, want)
	}
	if n := len(r.d.Inbox("unit1")); n != 0 {
		t.Errorf("another login's inbox has %d", n)
	}
}

func TestEscalation(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	rcp := person(t, r.dir, "gas_co.2") // unit1; superior gas_co.1, whose superior is dept_urban.1
	rcp.Channels = []directory.Channel{directory.ChannelInApp}
	dels, err := r.d.Dispatch(ctx, notice(rcp))
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	src := dels[0].ID
	escalations := func() []Delivery {
		var out []Delivery
		for _, d := range r.d.Deliveries("inc-1") {
			if d.EscalationOf != "" {
				out = append(out, d)
			}
		}
		return out
	}
	if err := r.d.Tick(ctx, t0.Add(5*time.Minute-time.Second)); err != nil || len(escalations()) != 0 {
		t.Fatalf("before the deadline: %d escalations, %v", len(escalations()), err)
	}
	at := t0.Add(5 * time.Minute)
	if err := r.d.Tick(ctx, at); err != nil {
		t.Fatal(err)
	}
	es := escalations()
	// gas_co.1 takes sms and voice; no voice channel is configured here
	if len(es) != 2 || es[0].Recipient != "gas_co.1" || es[0].EscalationOf != src || es[0].Step != StepUnread || es[0].Depth != 1 {
		t.Fatalf("escalations %+v", es)
	}
	r.flush()
	states := map[directory.Channel]State{}
	for _, e := range escalations() {
		states[e.Channel] = e.State
	}
	if states[directory.ChannelSMS] != Sent || states[directory.ChannelVoice] != Failed {
		t.Errorf("escalation states %v", states)
	}
	if s := r.sms.Sent(); len(s) != 1 || !strings.HasPrefix(s[0].Text, "【督办】") {
		t.Errorf("escalation sms %v", s)
	}
	if d, _ := r.d.Get(src); d.Escalated[StepUnread] != "gas_co.1" {
		t.Errorf("source escalated %v", d.Escalated)
	}
	if err := r.d.Tick(ctx, at.Add(time.Second)); err != nil || len(escalations()) != 2 {
		t.Fatalf("a second tick escalated again: %d", len(escalations()))
	}
	// read but not replied: escalated again at 2× the deadline
	if _, err := r.d.Read(ctx, src, "unit1"); err != nil {
		t.Fatal(err)
	}
	if err := r.d.Tick(ctx, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	es = escalations()
	var unreplied, up int
	for _, e := range es {
		switch {
		case e.EscalationOf == src && e.Step == StepUnreplied:
			unreplied++
		case e.Depth == 2:
			up++ // gas_co.1 did not read their escalation within 5 min either
		}
	}
	if unreplied != 2 || up != 2 {
		t.Errorf("after 10 min: %d unreplied escalations (want 2), %d one level up (want 2)", unreplied, up)
	}
	for _, e := range es {
		if e.Depth == 2 && e.Recipient != "dept_urban.1" {
			t.Errorf("second step to %s, want dept_urban.1", e.Recipient)
		}
	}
	// a release is not escalated
	rel := notice(rcp)
	rel.Kind, rel.Incident = KindRelease, "inc-2"
	if _, err := r.d.Dispatch(ctx, rel); err != nil {
		t.Fatal(err)
	}
	r.flush()
	if err := r.d.Tick(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(r.d.Deliveries("inc-2")); n != 1 {
		t.Errorf("a release was escalated: %d deliveries", n)
	}
}

func TestEscalationWithoutSuperior(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	rcp := person(t, r.dir, "ema.1") // the top
	dels, err := r.d.Dispatch(ctx, notice(rcp))
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	if err := r.d.Tick(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	first := dels[0]
	for _, d := range dels[1:] {
		if d.ID < first.ID {
			first = d
		}
	}
	got, _ := r.d.Get(first.ID)
	if to, ok := got.Escalated[StepUnread]; !ok || to != "" {
		t.Errorf("escalated %v, want unread with nobody", got.Escalated)
	}
	if n := len(r.d.Deliveries("inc-1")); n != len(dels) {
		t.Errorf("%d deliveries, want %d", n, len(dels))
	}
	var noSup int
	for _, ev := range r.j.events() {
		if ev.Type == EvEscalated && ev.Error == "no_superior" {
			noSup++
		}
	}
	if noSup != 2 {
		t.Errorf("%d no_superior events, want 2 (unread, unreplied)", noSup)
	}
}

func TestLoadResumesWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	r, rc, rcp := webhookRig(t, Options{}, nil)
	inApp := person(t, r.dir, "gas_co.3")
	inApp.Channels = []directory.Channel{directory.ChannelInApp}
	first := notice(rcp, inApp)
	dels, err := r.d.Dispatch(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	r.d.Close() // stopped: what is dispatched now stays queued
	second := first
	second.Version = 2
	dels2, err := r.d.Dispatch(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if len(rc.got()) != 1 {
		t.Fatalf("%d webhook requests before the restart, want 1", len(rc.got()))
	}

	// a restart: a new dispatcher on the same journal, receiver and clock
	evs := r.j.events()
	wh := r.d.chans[directory.ChannelWebhook]
	inapp2 := &InApp{}
	d2, err := New(Options{Journal: r.j, Logger: slog.New(slog.DiscardHandler), Channels: []Channel{inapp2, wh}, Now: r.clk.Now, Sleep: r.sl.Sleep,
		Directory: webhookDir{url: rcp.Webhook.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d2.Load(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	c2, cancel := context.WithCancel(ctx)
	defer cancel()
	d2.Start(c2)
	defer d2.Close()
	if _, err := d2.Dispatch(ctx, first); err != nil { // a repeat of the first
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(ctx, time.Minute)
	defer fcancel()
	if err := d2.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	ids := rc.got()
	want := []string{dels[0].ID, dels2[0].ID}
	if !slices.Equal(ids, want) {
		t.Errorf("webhook requests %v, want %v: the first delivered once, the queued one once after the restart", ids, want)
	}
	for _, del := range append(dels, dels2...) {
		got, _ := d2.Get(del.ID)
		want := Delivered
		if del.Channel == directory.ChannelInApp {
			want = Sent
		}
		if got.State != want {
			t.Errorf("%s %s: %s, want %s", del.Channel, del.ID, got.State, want)
		}
	}
	// the in-app one sent before the restart is pushed once more, the new one once
	if got := inapp2.Messages("unit2"); len(got) != 2 || got[0].Delivery == got[1].Delivery {
		t.Errorf("in-app after the restart: %v", got)
	}
	// the state is what the events make
	d3, _ := New(Options{Journal: &memJournal{}, Channels: []Channel{&InApp{}, wh}, Directory: webhookDir{url: rcp.Webhook.URL}})
	if err := d3.Load(ctx, r.j.events()...); err != nil {
		t.Fatal(err)
	}
	a, b := d2.Deliveries("inc-1"), d3.Deliveries("inc-1")
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("rebuilt state differs:\n%s\n%s", ja, jb)
	}
}

// webhookDir is the sample directory with the gas company's webhook at url.
type webhookDir struct{ url string }

func (w webhookDir) Directory(ctx context.Context) (*directory.Directory, error) {
	f := directory.Default().File()
	for i := range f.Units {
		if f.Units[i].ID == "gas_co" {
			f.Units[i].Webhook.URL = w.url
		}
	}
	return directory.New(f)
}

func TestDispatchRefuses(t *testing.T) {
	r := newRig(t, Options{})
	rcp := person(t, r.dir, "gas_co.3")
	for name, mod := range map[string]func(*Notice){
		"no incident": func(n *Notice) { n.Incident = "" },
		"level 5":     func(n *Notice) { n.Level = 5 },
		"no text":     func(n *Notice) { n.TextZh = " " },
		"kind":        func(n *Notice) { n.Kind = "memo" },
		"long text":   func(n *Notice) { n.TextEn = strings.Repeat("a", MaxText+1) },
	} {
		n := notice(rcp)
		mod(&n)
		if _, err := r.d.Dispatch(context.Background(), n); !errors.Is(err, &Error{Code: "bad_notice"}) {
			t.Errorf("%s: %v, want bad_notice", name, err)
		}
	}
	if len(r.j.events()) != 0 {
		t.Error("a refused notice was journalled")
	}
	r.j.err = errors.New("disk full")
	if _, err := r.d.Dispatch(context.Background(), notice(rcp)); err == nil || len(r.d.Deliveries("inc-1")) != 0 {
		t.Errorf("a journal failure: %v, %d deliveries", err, len(r.d.Deliveries("inc-1")))
	}
}

func TestDecodeEventRefuses(t *testing.T) {
	good := `{"type":"read","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z","by":"unit1"}`
	if _, err := DecodeEvent([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		`{"type":"read","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z","colour":"red"}`,
		`{"type":"shout","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z"}`,
		`{"type":"read","delivery":"d 1","incident":"inc-1","at":"2026-07-01T08:00:00Z"}`,
		`{"type":"read","delivery":"d1","incident":"inc-1"}`,
		`{"type":"queued","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z","version":1,"level":1,"kind":"warning","recipient":"p","channel":"fax","text_zh":"x"}`,
		good + good,
	} {
		if _, err := DecodeEvent([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"type":"read","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z","by":"unit1"}`))
	f.Add([]byte(`{"type":"queued","delivery":"d1","incident":"inc-1","at":"2026-07-01T08:00:00Z","version":1,"level":1,"kind":"warning","recipient":"p","channel":"sms","text_zh":"x","reasons":["owner"]}`))
	f.Add([]byte(`{"type":"escalated","delivery":"d1","incident":"i","at":"2026-07-01T08:00:00Z","step":"unread","to":"p"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeEvent(again); err != nil {
			t.Fatalf("an accepted event does not decode again: %v\n%s", err, again)
		}
		_, _ = next(nil, ev)
	})
}

func BenchmarkDispatchInApp1000(b *testing.B) {
	dir := directory.Default()
	p, _ := dir.Person("gas_co.3")
	rs := make([]directory.Recipient, 1000)
	for i := range rs {
		q := p
		q.ID, q.Login = fmt.Sprintf("p%04d", i), fmt.Sprintf("user%04d", i)
		rs[i] = directory.Recipient{Person: q, Channels: []directory.Channel{directory.ChannelInApp}}
	}
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		d, err := New(Options{Journal: &memJournal{}, Channels: []Channel{&InApp{}}, Workers: 4})
		if err != nil {
			b.Fatal(err)
		}
		c, cancel := context.WithCancel(ctx)
		d.Start(c)
		n := notice(rs...)
		if _, err := d.Dispatch(ctx, n); err != nil {
			b.Fatal(err)
		}
		if err := d.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if s := d.Summary("inc-1"); s[Sent] != 1000 {
			b.Fatalf("summary %v", s)
		}
		cancel()
		d.Close()
	}
}

func TestWebhookUnreachable(t *testing.T) {
	r, _, rcp := webhookRig(t, Options{MaxAttempts: 2}, nil)
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	rcp.Webhook.URL = srv.URL + "/onemap/warnings?token=abc"
	dels, err := r.d.Dispatch(context.Background(), notice(rcp))
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	got, _ := r.d.Get(dels[0].ID)
	if got.State != Failed || got.Attempts != 2 || !strings.Contains(got.Error, "127.0.0.1") || strings.Contains(got.Error, "token") {
		t.Errorf("state %s after %d attempts, error %q; want failed after 2, naming the host only", got.State, got.Attempts, got.Error)
	}
}

func TestDispatchConcurrentRepeats(t *testing.T) {
	r := newRig(t, Options{})
	rcp := person(t, r.dir, "gas_co.3")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := r.d.Dispatch(context.Background(), notice(rcp))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	r.flush()
	if got := r.sms.Sent(); len(got) != 1 {
		t.Errorf("%d texts for one notice dispatched 8 times at once, want 1", len(got))
	}
	if got := r.inapp.Messages("unit2"); len(got) != 1 {
		t.Errorf("%d in-app messages, want 1", len(got))
	}
}

func TestEscalationFollowsTheLatestVersion(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	rcp := person(t, r.dir, "gas_co.3")
	rcp.Channels = []directory.Channel{directory.ChannelInApp}
	v1, err := r.d.Dispatch(ctx, notice(rcp))
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	n2 := notice(rcp)
	n2.Version = 2
	v2, err := r.d.Dispatch(ctx, n2)
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	if err := r.d.Tick(ctx, t0.Add(6*time.Minute)); err != nil {
		t.Fatal(err)
	}
	var of []string
	for _, d := range r.d.Deliveries("inc-1") {
		if d.EscalationOf != "" && !slices.Contains(of, d.EscalationOf) {
			of = append(of, d.EscalationOf)
		}
	}
	if !slices.Equal(of, []string{v2[0].ID}) {
		t.Errorf("escalated %v, want only version 2's %s (not %s)", of, v2[0].ID, v1[0].ID)
	}
	rel := notice(rcp)
	rel.Kind = KindRelease
	if _, err := r.d.Dispatch(ctx, rel); err != nil {
		t.Fatal(err)
	}
	r.flush()
	before := len(r.d.Deliveries("inc-1"))
	if err := r.d.Tick(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if after := len(r.d.Deliveries("inc-1")); after != before {
		t.Errorf("%d deliveries escalated after the release", after-before)
	}
}

func TestReadPolicy(t *testing.T) {
	p, err := ReadPolicy(strings.NewReader(`{"levels": [{"level": 1, "unread": "3m", "unreplied": "6m"}]}`))
	if err != nil || p[1] != (Deadline{Unread: 3 * time.Minute, Unreplied: 6 * time.Minute}) || len(p) != 1 {
		t.Fatalf("%v %v", p, err)
	}
	for _, bad := range []string{
		`{"levels": [{"level": 5, "unread": "3m", "unreplied": "6m"}]}`,
		`{"levels": [{"level": 1, "unread": "6m", "unreplied": "3m"}]}`,
		`{"levels": [{"level": 1, "unread": "soon", "unreplied": "6m"}]}`,
		`{"levels": [{"level": 1, "unread": "3m", "unreplied": "6m"}, {"level": 1, "unread": "3m", "unreplied": "6m"}]}`,
		`{"levels": [], "extra": 1}`,
	} {
		if _, err := ReadPolicy(strings.NewReader(bad)); !errors.Is(err, &Error{Code: "bad_policy"}) {
			t.Errorf("%s: %v, want bad_policy", bad, err)
		}
	}
}

// A person reached by voice gets a call that reads the warning out, sent
// when the gateway takes it; one without a phone fails for good, and
// without a voice channel the delivery fails naming it.
func TestVoiceCall(t *testing.T) {
	voice := &FakeSMS{}
	r := newRig(t, Options{}, &Voice{Gateway: voice})
	p := person(t, r.dir, "gas_co.1")
	p.Channels = []directory.Channel{directory.ChannelVoice}
	silent := p
	silent.Person.ID, silent.Person.Phone = "gas_co.2", ""
	dels, err := r.d.Dispatch(context.Background(), notice(p, silent))
	if err != nil {
		t.Fatal(err)
	}
	r.flush()
	calls := voice.Sent()
	if len(calls) != 1 || !calls[0].Call || calls[0].Phone != p.Person.Phone || !strings.HasPrefix(calls[0].Text, "滨湖燃气公司") {
		t.Fatalf("calls %+v", calls)
	}
	for _, d := range dels {
		got, _ := r.d.Get(d.ID)
		want := Sent
		if d.Recipient == "gas_co.2" {
			want = Failed
		}
		if got.State != want {
			t.Errorf("%s by voice: %s, want %s (%s)", d.Recipient, got.State, want, got.Error)
		}
	}

	r2 := newRig(t, Options{})
	dels, err = r2.d.Dispatch(context.Background(), notice(p))
	if err != nil {
		t.Fatal(err)
	}
	r2.flush()
	if got, _ := r2.d.Get(dels[0].ID); got.State != Failed || !strings.Contains(got.Error, "no_channel") {
		t.Errorf("without a voice gateway: %s %q", got.State, got.Error)
	}
}
