package server

import (
	"encoding/json"
	"sync"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/incident"
	"github.com/onemap/onemap/incident/plan"
	"github.com/onemap/onemap/incident/response"
	"github.com/onemap/onemap/notify"
)

// The things a poke says changed for its login.
const (
	pokeInbox = "inbox" // a message reached the login's inbox
	pokeTasks = "tasks" // a task of the login's was given, taken away, or went late
)

// personal nudges each login's live connections when its inbox or its
// tasks change: {"type": "poke", "what": "inbox"|"tasks"}. The nudge
// carries nothing personal; the client fetches what changed through the
// API, which authorises it. It learns who a delivery and a task belong to
// from the records as they are kept.
type personal struct {
	mu       sync.Mutex
	conns    map[string]map[*wsConn]struct{}
	delivery map[string]string // in-app delivery id → login
	assignee map[string]string // task id → login, while the task is open
	tasks    map[string]int    // incident → its tasks so far
}

func newPersonal() *personal {
	return &personal{conns: map[string]map[*wsConn]struct{}{}, delivery: map[string]string{}, assignee: map[string]string{}, tasks: map[string]int{}}
}

// add keeps w as a connection of login until the returned func is called.
func (p *personal) add(login string, w *wsConn) func() {
	if login == "" {
		return func() {}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns[login] == nil {
		p.conns[login] = map[*wsConn]struct{}{}
	}
	p.conns[login][w] = struct{}{}
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		delete(p.conns[login], w)
		if len(p.conns[login]) == 0 {
			delete(p.conns, login)
		}
	}
}

var pokeMessages = map[string][]byte{
	pokeInbox: []byte(`{"type":"poke","what":"inbox"}`),
	pokeTasks: []byte(`{"type":"poke","what":"tasks"}`),
}

// poke tells login's connections that what changed; p.mu is held. The
// writes are made off the caller's goroutine, which keeps records.
func (p *personal) poke(login, what string) {
	for w := range p.conns[login] {
		go w.write(pokeMessages[what])
	}
}

// record follows one record of the incident book: a message sent in-app
// pokes its login's inbox; a task given, taken away or gone late pokes its
// assignee's tasks.
func (p *personal) record(r incident.Record, _ incident.Incident) {
	switch r.Kind {
	case response.KindNotify:
		var ev notify.Event
		if json.Unmarshal(r.Data, &ev) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev.Type {
		case notify.EvQueued:
			if ev.Channel == directory.ChannelInApp && ev.Login != "" {
				p.delivery[ev.Delivery] = ev.Login
			}
		case notify.EvSent:
			if login, ok := p.delivery[ev.Delivery]; ok {
				p.poke(login, pokeInbox)
			}
		case notify.EvFailed, notify.EvReplied:
			delete(p.delivery, ev.Delivery)
		}
	case response.KindPlan:
		var ev plan.Event
		if json.Unmarshal(r.Data, &ev) != nil {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		switch ev.Kind {
		case plan.KindOpened:
			p.tasks[ev.Incident] += len(ev.Tasks)
		case plan.KindAdded:
			id := plan.TaskID(ev.Incident, p.tasks[ev.Incident])
			p.tasks[ev.Incident]++
			if ev.Assignee != "" {
				p.assignee[id] = ev.Assignee
				p.poke(ev.Assignee, pokeTasks)
			}
		case plan.KindAssigned:
			if was := p.assignee[ev.Task]; was != "" && was != ev.Assignee {
				p.poke(was, pokeTasks)
			}
			p.assignee[ev.Task] = ev.Assignee
			p.poke(ev.Assignee, pokeTasks)
		case plan.KindCancelled, plan.KindOverdue:
			if login := p.assignee[ev.Task]; login != "" {
				p.poke(login, pokeTasks)
			}
			if ev.Kind == plan.KindCancelled {
				delete(p.assignee, ev.Task)
			}
		case plan.KindDone:
			delete(p.assignee, ev.Task)
		}
	}
}
