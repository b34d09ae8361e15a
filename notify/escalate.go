package notify

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/onemap/onemap/directory"
)

// recipientGroup is the deliveries of one message to one recipient, on all their
// channels.
type recipientGroup struct {
	first *Delivery // the one with the smallest id: where escalations are recorded
	read  bool
	reply bool
}

type escalation struct {
	src  Delivery
	step Step
}

// Tick escalates (督办) what is overdue at now: a warning's delivery to a
// recipient not read on any of its channels within the policy's Unread
// deadline for its level, and not replied to within Unreplied, is
// escalated once per step to the recipient's superior (directory
// Superior): the superior gets new deliveries on their channels, marked as
// escalations of the first delivery, and the first records the step and
// whom it went to (or no_superior). Escalations escalate in turn, at most
// MaxDepth deep. Only the latest version of an incident's warning is
// escalated, and nothing of an incident whose release was dispatched. The caller drives Tick from
// its clock.
func (d *Dispatcher) Tick(ctx context.Context, now time.Time) error {
	d.tmu.Lock()
	defer d.tmu.Unlock()
	var due []escalation
	d.mu.RLock()
	groups := map[string]*recipientGroup{}
	latest, released := map[string]int{}, map[string]bool{}
	for _, del := range d.dels {
		if del.Kind == KindRelease {
			released[del.Incident] = true
		} else {
			latest[del.Incident] = max(latest[del.Incident], del.Version)
		}
	}
	for _, del := range d.dels {
		if del.Kind != KindWarning || released[del.Incident] || del.Version < latest[del.Incident] {
			continue
		}
		key := fmt.Sprint(del.Incident, "\x00", del.Version, "\x00", del.Recipient, "\x00", del.EscalationOf, "\x00", del.Step)
		g := groups[key]
		if g == nil {
			g = &recipientGroup{first: del}
			groups[key] = g
		}
		if del.ID < g.first.ID {
			g.first = del
		}
		g.read = g.read || !del.State.unread()
		g.reply = g.reply || del.State == Replied
	}
	for _, g := range groups {
		f := g.first
		dl, ok := d.o.Policy[f.Level]
		if !ok || f.Depth >= MaxDepth {
			continue
		}
		age := now.Sub(f.Created)
		if _, done := f.Escalated[StepUnread]; !done && !g.read && age >= dl.Unread {
			due = append(due, escalation{f.clone(), StepUnread})
		}
		if _, done := f.Escalated[StepUnreplied]; !done && !g.reply && age >= dl.Unreplied {
			due = append(due, escalation{f.clone(), StepUnreplied})
		}
	}
	d.mu.RUnlock()
	if len(due) == 0 {
		return nil
	}
	sort.Slice(due, func(a, b int) bool {
		if due[a].src.ID != due[b].src.ID {
			return due[a].src.ID < due[b].src.ID
		}
		return due[a].step == StepUnread && due[b].step != StepUnread
	})
	dir, err := d.o.Directory.Directory(ctx)
	if err != nil {
		return fmt.Errorf("notify: escalate: %w", err)
	}
	for _, e := range due {
		if err := d.escalate(ctx, dir, e, now); err != nil {
			return err
		}
	}
	return nil
}

func (d *Dispatcher) escalate(ctx context.Context, dir *directory.Directory, e escalation, now time.Time) error {
	src := e.src
	at := now.UTC()
	sup, ok := dir.Superior(src.Recipient)
	if !ok {
		_, err := d.record(ctx, Event{Type: EvEscalated, Delivery: src.ID, Incident: src.Incident, At: at, Step: e.step, Error: "no_superior"})
		return err
	}
	var w *directory.Webhook
	if u, ok := dir.Unit(sup.Unit); ok {
		w = u.Webhook
	}
	// The new deliveries first: were the step recorded and they lost, the
	// superior would never be told; the other way round, the next Tick
	// finds them by their ids and records the step.
	for _, c := range sup.Channels {
		ev := Event{
			Type: EvQueued, Incident: src.Incident, At: at, Version: src.Version, Level: src.Level, Kind: src.Kind,
			Recipient: sup.ID, Unit: sup.Unit, Channel: c, TextZh: src.TextZh, TextEn: src.TextEn,
			EscalationOf: src.ID, Step: e.step, Depth: src.Depth + 1,
		}
		if c == directory.ChannelInApp {
			ev.Login = sup.Login
		}
		ev.Delivery = DeliveryID(ev.Incident, ev.Version, ev.Kind, ev.Recipient, c, ev.EscalationOf, ev.Step)
		if _, err := d.queueDelivery(ctx, ev, sup, w); err != nil {
			return fmt.Errorf("notify: escalate %s to %s: %w", src.ID, sup.ID, err)
		}
	}
	_, err := d.record(ctx, Event{Type: EvEscalated, Delivery: src.ID, Incident: src.Incident, At: at, Step: e.step, To: sup.ID})
	return err
}
