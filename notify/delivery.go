package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"

	"github.com/onemap/onemap/directory"
)

// State is where a delivery stands.
type State string

// The states of a delivery: queued → sent → delivered → read → replied,
// or failed. A channel that confirms on send goes from queued to
// delivered.
const (
	Queued    State = "queued"
	Sent      State = "sent"
	Delivered State = "delivered"
	Read      State = "read"
	Replied   State = "replied"
	Failed    State = "failed"
)

// States lists the states in their order.
var States = []State{Queued, Sent, Delivered, Read, Replied, Failed}

// Delivery is one message to one recipient by one channel, rebuilt from
// its events.
type Delivery struct {
	ID        string             `json:"id"`
	Incident  string             `json:"incident"`
	Version   int                `json:"version"`
	Level     int                `json:"level"`
	Kind      Kind               `json:"kind"`
	Recipient string             `json:"recipient"`
	Login     string             `json:"login,omitempty"`
	Unit      string             `json:"unit,omitempty"`
	Channel   directory.Channel  `json:"channel"`
	Reasons   []directory.Reason `json:"reasons,omitempty"`
	TextZh    string             `json:"text_zh"`
	TextEn    string             `json:"text_en,omitempty"`
	State     State              `json:"state"`
	Attempts  int                `json:"attempts"`
	// Error is the last error of an attempt.
	Error string `json:"error,omitempty"`
	Reply string `json:"reply,omitempty"`
	// The times of each state reached; zero when not.
	Created     time.Time `json:"created"`
	SentAt      time.Time `json:"sent_at,omitzero"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	ReadAt      time.Time `json:"read_at,omitzero"`
	RepliedAt   time.Time `json:"replied_at,omitzero"`
	FailedAt    time.Time `json:"failed_at,omitzero"`
	Updated     time.Time `json:"updated"`
	// EscalationOf, Step and Depth: this delivery escalates another.
	EscalationOf string `json:"escalation_of,omitempty"`
	Step         Step   `json:"step,omitempty"`
	Depth        int    `json:"depth,omitempty"`
	// Escalated are the steps this delivery was escalated at, and to whom
	// (a person id; "" when there was nobody above).
	Escalated map[Step]string `json:"escalated,omitempty"`
}

func (d *Delivery) clone() Delivery {
	c := *d
	c.Reasons = slices.Clone(d.Reasons)
	if d.Escalated != nil {
		c.Escalated = make(map[Step]string, len(d.Escalated))
		for k, v := range d.Escalated {
			c.Escalated[k] = v
		}
	}
	return c
}

// unread reports whether the recipient has not read it (yet).
func (s State) unread() bool { return s != Read && s != Replied }

// DeliveryID is the stable id of a delivery: the same incident, version,
// kind, recipient, channel and escalation always give the same id, so a
// repeat after a restart finds the delivery instead of sending again.
func DeliveryID(incident string, version int, kind Kind, recipient string, ch directory.Channel, escalationOf string, step Step) string {
	h := sha256.New()
	for _, s := range []string{incident, strconv.Itoa(version), string(kind), recipient, string(ch), escalationOf, string(step)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "d" + hex.EncodeToString(h.Sum(nil))[:32]
}

// next is the delivery after ev, or an error and cur unchanged; cur is nil
// before the delivery's first event.
func next(cur *Delivery, ev Event) (Delivery, error) {
	if err := checkEvent(&ev); err != nil {
		return Delivery{}, err
	}
	if ev.Type == EvQueued {
		if cur != nil {
			return Delivery{}, refuse("bad_event", "delivery %s queued twice", ev.Delivery)
		}
		if ev.Delivery != DeliveryID(ev.Incident, ev.Version, ev.Kind, ev.Recipient, ev.Channel, ev.EscalationOf, ev.Step) {
			return Delivery{}, refuse("bad_event", "delivery id %s does not match what it delivers", ev.Delivery)
		}
		return Delivery{
			ID: ev.Delivery, Incident: ev.Incident, Version: ev.Version, Level: ev.Level, Kind: ev.Kind,
			Recipient: ev.Recipient, Login: ev.Login, Unit: ev.Unit, Channel: ev.Channel,
			Reasons: slices.Clone(ev.Reasons), TextZh: ev.TextZh, TextEn: ev.TextEn, State: Queued,
			Created: ev.At, Updated: ev.At, EscalationOf: ev.EscalationOf, Step: ev.Step, Depth: ev.Depth,
		}, nil
	}
	if cur == nil {
		return Delivery{}, ErrNotFound
	}
	if ev.Incident != cur.Incident {
		return Delivery{}, refuse("bad_event", "event of %s for a delivery of %s", ev.Incident, cur.Incident)
	}
	d := cur.clone()
	from := func(states ...State) error {
		if !slices.Contains(states, d.State) {
			return &Error{Code: ErrBadState.Code, Reason: "delivery " + d.ID + " is " + string(d.State) + ", not " + string(ev.Type) + "-able"}
		}
		return nil
	}
	var err error
	switch ev.Type {
	case EvSent:
		err = from(Queued)
		d.SentAt = ev.At
	case EvDelivered:
		err = from(Queued, Sent)
		d.DeliveredAt = ev.At
	case EvRead, EvReplied:
		if d.Login == "" || ev.By != d.Login {
			return Delivery{}, ErrNotRecipient
		}
		if ev.Type == EvRead {
			err = from(Sent, Delivered)
			d.ReadAt = ev.At
		} else {
			err = from(Sent, Delivered, Read)
			d.RepliedAt, d.Reply = ev.At, ev.Text
		}
	case EvFailed:
		err = from(Queued, Sent)
		d.FailedAt, d.Error = ev.At, ev.Error
	case EvRetry:
		err = from(Queued, Sent)
		d.Error = ev.Error
	case EvEscalated:
		if _, done := d.Escalated[ev.Step]; done {
			return Delivery{}, refuse("bad_event", "delivery %s escalated at %s twice", d.ID, ev.Step)
		}
		if d.Escalated == nil {
			d.Escalated = map[Step]string{}
		}
		d.Escalated[ev.Step] = ev.To
	}
	if err != nil {
		return Delivery{}, err
	}
	switch ev.Type {
	case EvSent, EvDelivered, EvRead, EvReplied, EvFailed:
		d.State = State(ev.Type)
	}
	d.Attempts = max(d.Attempts, ev.Attempt)
	d.Updated = ev.At
	return d, nil
}
