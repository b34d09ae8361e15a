package response_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/notify"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

type sites struct{}

func (sites) Site(*incident.Incident) (response.Site, bool) {
	return response.Site{Domain: "gas", Owner: "滨湖燃气公司", District: "方兴街道", Location: orb.Point{117.22, 31.80}}, true
}

func (sites) OwnersIn(orb.Geometry) []string { return []string{"滨湖水务集团"} }

type dirStore struct{ d *directory.Directory }

func (s dirStore) Directory(context.Context) (*directory.Directory, error) { return s.d, nil }

// receiver is a webhook endpoint that checks signatures and counts each
// delivery id; its first answer for every delivery is a failure.
type receiver struct {
	mu     sync.Mutex
	secret []byte
	seen   map[string]int
	bad    int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := notify.Verify(r.secret, req.Header, body, time.Now(), 5*time.Minute); err != nil {
		r.bad++
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	id := req.Header.Get(notify.HeaderDelivery)
	r.seen[id]++
	if r.seen[id] == 1 {
		http.Error(w, "busy", http.StatusServiceUnavailable)
	}
}

func (r *receiver) count() (map[string]int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.seen {
		out[k] = v
	}
	return out, r.bad
}

// desk is a Desk over journal j whose gas company's webhook is url.
func desk(t *testing.T, j incident.Journal, url string, sms *notify.FakeSMS) *response.Desk {
	t.Helper()
	sample := strings.Replace(string(directory.Sample()), "https://gas.binhu.example/onemap/warnings", url, 1)
	dir, err := directory.Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	b := incident.NewBook(j, nil, nil)
	n, err := notify.New(notify.Options{Journal: response.NotifyJournal{Book: b}, Directory: dirStore{dir},
		Channels: []notify.Channel{&notify.InApp{}, &notify.SMS{Gateway: sms},
			&notify.Webhook{Secret: func(name string) ([]byte, error) { return []byte("s3cret-" + name), nil }}},
		Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.Start(ctx)
	t.Cleanup(func() { cancel(); n.Close() })
	return &response.Desk{Book: b, Board: plan.NewBoard(response.PlanJournal{Book: b}, nil, nil), Notify: n, Dir: dirStore{dir}, Sites: sites{}}
}

func TestPublishPushesAndOpensThePlan(t *testing.T) {
	ctx := context.Background()
	rcv := &receiver{secret: []byte("s3cret-gas_co_webhook"), seen: map[string]int{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	j := &incident.MemoryJournal{}
	sms := &notify.FakeSMS{}
	d := desk(t, j, hook.URL, sms)
	in, err := d.Book.Do(ctx, incident.Event{To: incident.Verifying, Who: "wang", Role: "operator", Alarms: []uint64{7}})
	if err != nil {
		t.Fatal(err)
	}
	w := &incident.Warning{Level: incident.LevelII, Type: "gas_explosion_confined", Time: time.Now(), Location: "长江路",
		Headline: "长江路燃气泄漏 II 级（橙色）预警", HeadlineEn: "Level II warning", Instructions: "严禁明火",
		Area: geojson.NewGeometry(orb.Polygon{{{117.21, 31.79}, {117.23, 31.79}, {117.23, 31.81}, {117.21, 31.79}}})}
	for _, ev := range []incident.Event{
		{To: incident.Confirmed, Who: "wang", Role: "operator"},
		{To: incident.WarningDraft, Who: "li", Role: "analyst", Warning: w},
		{To: incident.InReview, Who: "li", Role: "analyst"},
		{To: incident.InReview, Who: "zhao", Role: "commander"},
		{To: incident.Signed, Who: "zhao", Role: "commander"},
		{To: incident.Published, Who: "zhao", Role: "commander"},
	} {
		ev.Incident = in.ID
		if in, err = d.Book.Do(ctx, ev); err != nil {
			t.Fatalf("%s: %v", ev.To, err)
		}
	}
	if err := d.After(ctx, &in); err != nil {
		t.Fatal(err)
	}
	if err := d.Notify.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	dels := d.Notify.Deliveries(in.ID)
	byChan := map[string]int{}
	var hooked string
	for _, x := range dels {
		byChan[string(x.Channel)]++
		if x.Channel == directory.ChannelWebhook && x.Unit == "gas_co" {
			hooked = x.ID
			if x.State != notify.Delivered || x.Attempts != 2 {
				t.Errorf("the gas company's webhook: %s after %d attempts (%s)", x.State, x.Attempts, x.Error)
			}
		}
	}
	if byChan["in_app"] == 0 || byChan["sms"] == 0 || hooked == "" {
		t.Fatalf("deliveries by channel %v", byChan)
	}
	seen, bad := rcv.count()
	if bad != 0 || seen[hooked] != 2 {
		t.Errorf("the receiver saw %v, %d badly signed", seen, bad)
	}
	// The plan of a level II gas leak, its tasks counting from publication.
	resp, ok := d.Board.Response(in.ID)
	if !ok || resp.Plan != "gas-leak-major" || len(resp.Tasks) == 0 || !resp.Tasks[0].Deadline.After(in.Versions[0].Issued) {
		t.Fatalf("response %+v", resp)
	}

	// Read back after a stop: the same deliveries and tasks, and nothing
	// is sent twice when what follows publication is run again.
	d2 := desk(t, j, hook.URL, &notify.FakeSMS{})
	if err := d2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	d2.Notify.Flush(ctx)
	if got := d2.Notify.Deliveries(in.ID); len(got) != len(dels) {
		t.Errorf("%d deliveries after a restart, were %d", len(got), len(dels))
	}
	if again, _ := rcv.count(); again[hooked] != 2 || len(again) != len(seen) {
		t.Errorf("after a restart the receiver saw %v", again)
	}
	if r2, _ := d2.Board.Response(in.ID); len(r2.Tasks) != len(resp.Tasks) {
		t.Errorf("tasks after a restart: %d", len(r2.Tasks))
	}

	// The release is pushed to the same people.
	for _, to := range []incident.State{incident.Responding, incident.Resolved, incident.Released} {
		if in, err = d2.Book.Do(ctx, incident.Event{Incident: in.ID, To: to, Who: "zhao", Role: "commander"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d2.After(ctx, &in); err != nil {
		t.Fatal(err)
	}
	d2.Notify.Flush(ctx)
	releases := 0
	for _, x := range d2.Notify.Deliveries(in.ID) {
		if x.Kind == notify.KindRelease {
			releases++
			if !strings.Contains(x.TextZh, "已解除") {
				t.Errorf("release text %q", x.TextZh)
			}
		}
	}
	if releases != len(dels) {
		t.Errorf("%d release deliveries, want %d", releases, len(dels))
	}
	rec, _ := d2.Record(in.ID)
	if len(rec.Steps) != 10 || rec.Plan == nil || len(rec.Deliveries) != 2*len(dels) {
		t.Errorf("record: %d steps, plan %v, %d deliveries", len(rec.Steps), rec.Plan != nil, len(rec.Deliveries))
	}
}

// A draft left unapproved past its level's deadline is reminded of once
// a deadline, at most three times, and not again after a restart; each
// reminder reaches the approvers in-app, once.
func TestApprovalReminders(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	j := &incident.MemoryJournal{}
	approvers := func(_ context.Context, in *incident.Incident) ([]directory.Recipient, error) {
		var out []directory.Recipient
		for _, login := range []string{"zhao", "li"} {
			if login != in.Draft.Drafter {
				out = append(out, directory.Recipient{Person: directory.Person{ID: "user:" + login, Name: login, Login: login, Channels: []directory.Channel{directory.ChannelInApp}},
					Reasons: []directory.Reason{directory.ReasonApprover}, Channels: []directory.Channel{directory.ChannelInApp}})
			}
		}
		return out, nil
	}
	newDesk := func() *response.Desk {
		d, err := response.New(incident.NewBook(j, clock, nil), response.Options{Sites: sites{}, Now: clock, Approvers: approvers})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := newDesk()
	in, _ := d.Book.Do(ctx, incident.Event{To: incident.Verifying, Who: "wang", Alarms: []uint64{1}})
	for _, ev := range []incident.Event{{To: incident.Confirmed, Who: "wang"},
		{To: incident.WarningDraft, Who: "li", Warning: &incident.Warning{Level: incident.LevelII, Type: "gas_leak", Time: now, Location: "长江路"}},
		{To: incident.InReview, Who: "li"}} {
		ev.Incident = in.ID
		if _, err := d.Book.Do(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	reminders := func(d *response.Desk) int {
		n := 0
		for _, r := range d.Book.Records(in.ID) {
			if r.Kind == response.KindReminder {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		after time.Duration
		want  int
	}{{14 * time.Minute, 0}, {16 * time.Minute, 1}, {20 * time.Minute, 1}, {31 * time.Minute, 2}, {3 * time.Hour, 3}} {
		now = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC).Add(c.after)
		if err := d.RemindApprovals(ctx); err != nil {
			t.Fatal(err)
		}
		if got := reminders(d); got != c.want {
			t.Errorf("after %v: %d reminders, want %d", c.after, got, c.want)
		}
	}
	d2 := newDesk()
	if d2.RemindApprovals(ctx) != nil || reminders(d2) != 3 {
		t.Errorf("after a restart: %d reminders", reminders(d2))
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	d2.Notify.Start(sctx)
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d2.Notify.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, x := range d2.Notify.Deliveries(in.ID) {
		if x.Kind != notify.KindReminder || x.Login != "zhao" || !strings.Contains(x.TextZh, "【审批督办】") || !strings.Contains(x.TextZh, "待审核") {
			t.Errorf("a reminder %s to %s: %q", x.Kind, x.Login, x.TextZh)
		}
		told = append(told, x.ID)
	}
	if len(told) != 3 {
		t.Errorf("%d reminders pushed to the approver, want 3 (the drafter is not told): %v", len(told), told)
	}
	if inbox := d2.Notify.Inbox("zhao"); len(inbox) != 3 {
		t.Errorf("the approver's inbox holds %d reminders", len(inbox))
	}
}
