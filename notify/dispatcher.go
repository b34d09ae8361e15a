package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onemap/onemap/directory"
)

// Options configure a Dispatcher; zero values take the defaults.
type Options struct {
	Journal Journal // required
	// Directory gives the superiors to escalate to and the contacts of
	// resumed deliveries; nil is the sample city's (directory.FileStore{}).
	Directory directory.Store
	Channels  []Channel
	// Workers is how many deliveries are sent at once (4).
	Workers int
	// MaxAttempts bounds the attempts of a delivery (5, at most
	// MaxAttempts of the package).
	MaxAttempts int
	// Backoff is the wait after the first failed attempt (2 s), doubled
	// after each next one up to MaxBackoff (5 min); each wait is drawn
	// between half of it and all of it (jitter).
	Backoff    time.Duration
	MaxBackoff time.Duration
	Policy     Policy // DefaultPolicy
	// Now is the clock (time.Now); Sleep waits between attempts (a timer
	// that ctx ends); Jitter returns a number in [0, 1) (math/rand).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func() float64
	Logger *slog.Logger
}

// Notice is a published warning, a re-issue or a release to deliver.
type Notice struct {
	Incident   string
	Version    int
	Level      int
	Kind       Kind
	TextZh     string
	TextEn     string
	Recipients []directory.Recipient
}

type job struct {
	msg Message
	// once: one attempt only (a sent delivery resumed after a restart).
	once bool
}

// Dispatcher creates deliveries, sends them through a bounded pool of
// workers with retries, takes receipts and escalates what is overdue.
// Every change is journalled before it is applied, so that Load of the
// journalled events rebuilds the same state. It is safe for concurrent use.
type Dispatcher struct {
	o     Options
	chans map[directory.Channel]Channel

	wmu sync.Mutex // serialises journal writes with their application
	tmu sync.Mutex // one Tick at a time

	mu      sync.RWMutex
	dels    map[string]*Delivery
	byInc   map[string][]string
	byLogin map[string][]string

	qmu      sync.Mutex
	qcond    *sync.Cond
	queue    []job
	inflight int
	closed   bool
	started  bool
	wg       sync.WaitGroup
}

// New returns a Dispatcher; call Start to send.
func New(o Options) (*Dispatcher, error) {
	if o.Journal == nil {
		return nil, errors.New("notify: a dispatcher needs a journal")
	}
	if o.Directory == nil {
		o.Directory = directory.FileStore{}
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 5
	}
	o.MaxAttempts = min(o.MaxAttempts, MaxAttempts)
	if o.Backoff <= 0 {
		o.Backoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 5 * time.Minute
	}
	if o.Policy == nil {
		o.Policy = DefaultPolicy
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d := &Dispatcher{o: o, chans: map[directory.Channel]Channel{},
		dels: map[string]*Delivery{}, byInc: map[string][]string{}, byLogin: map[string][]string{}}
	for _, c := range o.Channels {
		name := directory.Channel(c.Name())
		if !slices.Contains(directory.Channels, name) {
			return nil, fmt.Errorf("notify: unknown channel %q", name)
		}
		d.chans[name] = c
	}
	d.qcond = sync.NewCond(&d.qmu)
	return d, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start starts the workers; they stop when ctx ends or Close is called.
// A second Start does nothing.
func (d *Dispatcher) Start(ctx context.Context) {
	d.qmu.Lock()
	defer d.qmu.Unlock()
	if d.started || d.closed {
		return
	}
	d.started = true
	for range d.o.Workers {
		d.wg.Add(1)
		go d.work(ctx)
	}
	go func() {
		<-ctx.Done()
		d.qmu.Lock()
		d.closed = true
		d.qcond.Broadcast()
		d.qmu.Unlock()
	}()
}

// Close stops the workers after their current attempts and waits for
// them. Deliveries still queued stay queued in the journal and are resumed
// by the next Load.
func (d *Dispatcher) Close() {
	d.qmu.Lock()
	d.closed = true
	d.qcond.Broadcast()
	d.qmu.Unlock()
	d.wg.Wait()
}

// Flush waits until nothing is queued or being sent, or ctx ends.
func (d *Dispatcher) Flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		d.qmu.Lock()
		d.qcond.Broadcast()
		d.qmu.Unlock()
	})
	defer stop()
	d.qmu.Lock()
	defer d.qmu.Unlock()
	for len(d.queue) > 0 || d.inflight > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.qcond.Wait()
	}
	return nil
}

func (d *Dispatcher) enqueue(j job) {
	d.qmu.Lock()
	d.queue = append(d.queue, j)
	d.qcond.Broadcast()
	d.qmu.Unlock()
}

func (d *Dispatcher) work(ctx context.Context) {
	defer d.wg.Done()
	for {
		d.qmu.Lock()
		for len(d.queue) == 0 && !d.closed {
			d.qcond.Wait()
		}
		if d.closed {
			d.qmu.Unlock()
			return
		}
		j := d.queue[0]
		d.queue[0] = job{}
		d.queue = d.queue[1:]
		d.inflight++
		d.qmu.Unlock()

		d.deliver(ctx, j)

		d.qmu.Lock()
		d.inflight--
		d.qcond.Broadcast()
		d.qmu.Unlock()
	}
}

// backoff is the wait after the n-th failed attempt.
func (d *Dispatcher) backoff(n int) time.Duration {
	w := d.o.Backoff
	for i := 1; i < n && w < d.o.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.o.MaxBackoff)
	return w/2 + time.Duration(d.o.Jitter()*float64(w/2))
}

func clipError(err error) string {
	s := strings.ToValidUTF8(err.Error(), "?")
	if len(s) > MaxError {
		s = s[:MaxError]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// deliver sends one delivery, retrying until it is sent, fails for good or
// runs out of attempts.
func (d *Dispatcher) deliver(ctx context.Context, j job) {
	m := j.msg
	ch := d.chans[m.Channel]
	cur, ok := d.Get(m.Delivery)
	if !ok || (cur.State != Queued && cur.State != Sent) {
		return
	}
	_, confirms := ch.(Confirmer)
	for attempt := cur.Attempts + 1; ; attempt++ {
		if ctx.Err() != nil {
			return
		}
		m.Attempt = attempt
		err := ch.Send(ctx, m)
		ev := Event{Delivery: m.Delivery, Incident: m.Incident, Attempt: attempt}
		switch {
		case err == nil && confirms:
			ev.Type = EvDelivered
		case err == nil && cur.State == Sent:
			return // sent again after a restart; still sent
		case err == nil:
			ev.Type = EvSent
		case ctx.Err() != nil:
			return // stopped: stays as it is, resumed by the next Load
		case IsPermanent(err) || attempt >= d.o.MaxAttempts:
			ev.Type, ev.Error = EvFailed, clipError(err)
		default:
			ev.Type, ev.Error = EvRetry, clipError(err)
		}
		if err != nil {
			d.o.Logger.Warn("notify: delivery attempt failed", "delivery", m.Delivery, "incident", m.Incident,
				"channel", m.Channel, "attempt", attempt, "err", err)
		}
		if _, rerr := d.record(ctx, ev); rerr != nil {
			d.o.Logger.Error("notify: journal", "delivery", m.Delivery, "err", rerr)
			return
		}
		if ev.Type != EvRetry || j.once {
			return
		}
		if err := d.o.Sleep(ctx, d.backoff(attempt)); err != nil {
			return
		}
	}
}

// record stamps ev with the clock (unless it has a time), checks it
// against the state, journals it and applies it.
func (d *Dispatcher) record(ctx context.Context, ev Event) (Delivery, error) {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if ev.At.IsZero() {
		ev.At = d.o.Now().UTC()
	}
	d.mu.RLock()
	nd, err := next(d.dels[ev.Delivery], ev)
	d.mu.RUnlock()
	if err != nil {
		return Delivery{}, err
	}
	if err := d.o.Journal.Record(ctx, ev.Incident, ev); err != nil {
		return Delivery{}, fmt.Errorf("notify: journal %s of %s: %w", ev.Type, ev.Delivery, err)
	}
	d.mu.Lock()
	d.put(nd)
	d.mu.Unlock()
	return nd.clone(), nil
}

func (d *Dispatcher) put(nd Delivery) {
	if _, ok := d.dels[nd.ID]; !ok {
		d.byInc[nd.Incident] = append(d.byInc[nd.Incident], nd.ID)
		if nd.Channel == directory.ChannelInApp && nd.Login != "" {
			d.byLogin[nd.Login] = append(d.byLogin[nd.Login], nd.ID)
		}
	}
	d.dels[nd.ID] = &nd
}

func checkNotice(n *Notice) error {
	switch {
	case !okID(n.Incident):
		return refuse("bad_notice", "an incident id is 1 to %d bytes of a-z A-Z 0-9 _ - . : @", MaxID)
	case n.Version < 1 || n.Version > MaxVersion:
		return refuse("bad_notice", "version %d is not 1 to %d", n.Version, MaxVersion)
	case n.Level < 1 || n.Level > 4:
		return refuse("bad_notice", "level %d is not 1 to 4", n.Level)
	case !slices.Contains(Kinds, n.Kind):
		return refuse("bad_notice", "kind %q is not warning, release or reminder", n.Kind)
	case strings.TrimSpace(n.TextZh) == "" || len(n.TextZh) > MaxText || len(n.TextEn) > MaxText:
		return refuse("bad_notice", "a Chinese text of 1 to %d bytes, an English one of at most %d", MaxText, MaxText)
	case len(n.Recipients) > MaxRecipients:
		return refuse("bad_notice", "at most %d recipients", MaxRecipients)
	}
	return nil
}

func messageFor(ev Event, p directory.Person, w *directory.Webhook) Message {
	return Message{
		Delivery: ev.Delivery, Incident: ev.Incident, Version: ev.Version, Level: ev.Level, Kind: ev.Kind,
		Channel: ev.Channel, Recipient: ev.Recipient, Unit: ev.Unit, Login: ev.Login,
		Phone: p.Phone, Webhook: w, TextZh: ev.TextZh, TextEn: ev.TextEn,
		EscalationOf: ev.EscalationOf, Step: ev.Step, Created: ev.At,
	}
}

// queueDelivery creates the delivery of ev unless it exists, and queues it for
// its channel, or fails it at once when no channel serves it.
func (d *Dispatcher) queueDelivery(ctx context.Context, ev Event, p directory.Person, w *directory.Webhook) (Delivery, error) {
	if cur, ok := d.Get(ev.Delivery); ok {
		return cur, nil
	}
	nd, err := d.record(ctx, ev)
	if err != nil {
		if cur, ok := d.Get(ev.Delivery); ok {
			return cur, nil // queued at the same time by another call
		}
		return Delivery{}, err
	}
	if _, ok := d.chans[ev.Channel]; !ok {
		return d.record(ctx, Event{Type: EvFailed, Delivery: nd.ID, Incident: nd.Incident, Error: "no_channel: no " + string(ev.Channel) + " channel is configured"})
	}
	m := messageFor(ev, p, w)
	m.Created = nd.Created
	d.enqueue(job{msg: m})
	return nd, nil
}

// Dispatch creates one delivery per recipient per channel and queues them.
// A delivery that exists (the same notice dispatched again, after a
// restart too) is returned as it is and not sent again. The deliveries
// come in the order of the recipients and their channels.
func (d *Dispatcher) Dispatch(ctx context.Context, n Notice) ([]Delivery, error) {
	if err := checkNotice(&n); err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(n.Recipients))
	for _, r := range n.Recipients {
		for _, c := range r.Channels {
			ev := Event{
				Type: EvQueued, Incident: n.Incident, Version: n.Version, Level: n.Level, Kind: n.Kind,
				Recipient: r.Person.ID, Login: r.Person.Login, Unit: r.Person.Unit, Channel: c,
				Reasons: r.Reasons, TextZh: n.TextZh, TextEn: n.TextEn,
			}
			if c != directory.ChannelInApp {
				ev.Login = "" // receipts come in-app only
			}
			ev.Delivery = DeliveryID(n.Incident, n.Version, n.Kind, r.Person.ID, c, "", "")
			del, err := d.queueDelivery(ctx, ev, r.Person, r.Webhook)
			if err != nil {
				return out, fmt.Errorf("notify: dispatch %s to %s by %s: %w", n.Incident, r.Person.ID, c, err)
			}
			out = append(out, del)
		}
	}
	return out, nil
}

// Mirror applies events another instance sharing the journal recorded:
// its deliveries, as it sends them. Nothing is sent from here.
func (d *Dispatcher) Mirror(evs ...Event) error {
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, ev := range evs {
		nd, err := next(d.dels[ev.Delivery], ev)
		if err != nil {
			return fmt.Errorf("notify: mirror event %d of %d: %w", i+1, len(evs), err)
		}
		d.put(nd)
	}
	return nil
}

// Load rebuilds the state from events read back from the journal, in
// order, without journalling them again. Then every delivery left queued
// is queued again (its attempts go on from the journalled count), and
// every one left sent but not confirmed is sent once more; delivered,
// read, replied and failed ones are not touched. Contacts are taken from
// the directory.
func (d *Dispatcher) Load(ctx context.Context, evs ...Event) error {
	d.wmu.Lock()
	d.mu.Lock()
	for i, ev := range evs {
		nd, err := next(d.dels[ev.Delivery], ev)
		if err != nil {
			d.mu.Unlock()
			d.wmu.Unlock()
			return fmt.Errorf("notify: load event %d of %d: %w", i+1, len(evs), err)
		}
		d.put(nd)
	}
	var resume []Delivery
	for _, id := range d.sortedIDs() {
		if del := d.dels[id]; del.State == Queued || del.State == Sent {
			resume = append(resume, del.clone())
		}
	}
	d.mu.Unlock()
	d.wmu.Unlock()
	if len(resume) == 0 {
		return nil
	}
	dir, err := d.o.Directory.Directory(ctx)
	if err != nil {
		return fmt.Errorf("notify: resume: %w", err)
	}
	for _, del := range resume {
		if _, ok := d.chans[del.Channel]; !ok {
			if _, err := d.record(ctx, Event{Type: EvFailed, Delivery: del.ID, Incident: del.Incident, Error: "no_channel: no " + string(del.Channel) + " channel is configured"}); err != nil {
				return err
			}
			continue
		}
		p, _ := dir.Person(del.Recipient)
		var w *directory.Webhook
		if u, ok := dir.Unit(p.Unit); ok {
			w = u.Webhook
		}
		m := messageFor(Event{Delivery: del.ID, Incident: del.Incident, Version: del.Version, Level: del.Level, Kind: del.Kind,
			Channel: del.Channel, Recipient: del.Recipient, Unit: del.Unit, Login: del.Login, TextZh: del.TextZh, TextEn: del.TextEn,
			EscalationOf: del.EscalationOf, Step: del.Step, At: del.Created}, p, w)
		d.enqueue(job{msg: m, once: del.State == Sent})
	}
	return nil
}

// sortedIDs is every delivery id, by creation time then id; d.mu held.
func (d *Dispatcher) sortedIDs() []string {
	ids := make([]string, 0, len(d.dels))
	for id := range d.dels {
		ids = append(ids, id)
	}
	d.sortByCreated(ids)
	return ids
}

func (d *Dispatcher) sortByCreated(ids []string) {
	sort.Slice(ids, func(a, b int) bool {
		x, y := d.dels[ids[a]], d.dels[ids[b]]
		if !x.Created.Equal(y.Created) {
			return x.Created.Before(y.Created)
		}
		return x.ID < y.ID
	})
}

// Get returns the delivery with id.
func (d *Dispatcher) Get(id string) (Delivery, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	del, ok := d.dels[id]
	if !ok {
		return Delivery{}, false
	}
	return del.clone(), true
}

// Confirm records a channel's receipt (an SMS gateway's delivery report):
// the delivery, sent, is delivered.
func (d *Dispatcher) Confirm(ctx context.Context, id string) (Delivery, error) {
	del, ok := d.Get(id)
	if !ok {
		return Delivery{}, fmt.Errorf("notify: confirm %s: %w", id, ErrNotFound)
	}
	return d.record(ctx, Event{Type: EvDelivered, Delivery: id, Incident: del.Incident})
}

// receipt checks who gives a receipt for delivery id.
func (d *Dispatcher) receipt(id, by string) (Delivery, error) {
	del, ok := d.Get(id)
	if !ok {
		return Delivery{}, fmt.Errorf("notify: %s: %w", id, ErrNotFound)
	}
	if by == "" || del.Login == "" || by != del.Login {
		return Delivery{}, fmt.Errorf("notify: %s by %q: %w", id, by, ErrNotRecipient)
	}
	return del, nil
}

// Read records that login by read delivery id. Only the recipient's login
// may (ErrNotRecipient); reading again changes nothing.
func (d *Dispatcher) Read(ctx context.Context, id, by string) (Delivery, error) {
	del, err := d.receipt(id, by)
	if err != nil {
		return Delivery{}, err
	}
	if del.State == Read || del.State == Replied {
		return del, nil
	}
	return d.record(ctx, Event{Type: EvRead, Delivery: id, Incident: del.Incident, By: by})
}

// Reply records login by's reply to delivery id, 1 to MaxReply bytes of
// text (ErrBadReply); only the recipient's login may (ErrNotRecipient),
// once (ErrReplied).
func (d *Dispatcher) Reply(ctx context.Context, id, by, text string) (Delivery, error) {
	del, err := d.receipt(id, by)
	if err != nil {
		return Delivery{}, err
	}
	text = strings.TrimSpace(text)
	if text == "" || len(text) > MaxReply || !utf8.ValidString(text) {
		return Delivery{}, fmt.Errorf("notify: reply to %s: %w", id, ErrBadReply)
	}
	if del.State == Replied {
		return Delivery{}, fmt.Errorf("notify: reply to %s: %w", id, ErrReplied)
	}
	return d.record(ctx, Event{Type: EvReplied, Delivery: id, Incident: del.Incident, By: by, Text: text})
}

// Deliveries returns the deliveries of an incident, oldest first.
func (d *Dispatcher) Deliveries(incident string) []Delivery {
	d.mu.RLock()
	defer d.mu.RUnlock()
	ids := slices.Clone(d.byInc[incident])
	d.sortByCreated(ids)
	out := make([]Delivery, len(ids))
	for i, id := range ids {
		out[i] = d.dels[id].clone()
	}
	return out
}

// Summary counts the deliveries of an incident in each state.
func (d *Dispatcher) Summary(incident string) map[State]int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make(map[State]int, len(States))
	for _, s := range States {
		out[s] = 0
	}
	for _, id := range d.byInc[incident] {
		out[d.dels[id].State]++
	}
	return out
}

// Inbox returns the in-app deliveries of login that reached its inbox
// (sent or later, not failed): unread first, then the newest first.
func (d *Dispatcher) Inbox(login string) []Delivery {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Delivery
	for _, id := range d.byLogin[login] {
		if del := d.dels[id]; del.State != Queued && del.State != Failed {
			out = append(out, del.clone())
		}
	}
	sort.Slice(out, func(a, b int) bool {
		ua, ub := out[a].State.unread(), out[b].State.unread()
		if ua != ub {
			return ua
		}
		if !out[a].Created.Equal(out[b].Created) {
			return out[a].Created.After(out[b].Created)
		}
		return out[a].ID < out[b].ID
	})
	return out
}

// Fetch is the recipient's client fetching its inbox: every in-app
// delivery of login still sent is recorded delivered, and the inbox is
// returned.
func (d *Dispatcher) Fetch(ctx context.Context, login string) ([]Delivery, error) {
	for _, del := range d.Inbox(login) {
		if del.State != Sent {
			continue
		}
		if _, err := d.record(ctx, Event{Type: EvDelivered, Delivery: del.ID, Incident: del.Incident, By: login}); err != nil && !errors.Is(err, ErrBadState) {
			return nil, err
		}
	}
	return d.Inbox(login), nil
}
