package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/onemap/onemap/directory"
)

// Journal keeps notify's events durably, in the order appended.
type Journal interface {
	// Record makes ev durable before it returns; incident is the incident it belongs to.
	Record(ctx context.Context, incident string, ev Event) error
}

// EventType is what an event records.
type EventType string

// The event types. Every one but Retry and Escalated moves a delivery to
// the state of the same name.
const (
	EvQueued    EventType = "queued"    // a delivery created
	EvSent      EventType = "sent"      // the channel took it
	EvDelivered EventType = "delivered" // it reached the recipient
	EvRead      EventType = "read"      // the recipient read it
	EvReplied   EventType = "replied"   // the recipient replied
	EvFailed    EventType = "failed"    // given up, with the last error
	EvRetry     EventType = "retry"     // an attempt failed; another follows
	EvEscalated EventType = "escalated" // the delivery was escalated one step (督办)
)

// EventTypes lists the event types.
var EventTypes = []EventType{EvQueued, EvSent, EvDelivered, EvRead, EvReplied, EvFailed, EvRetry, EvEscalated}

// Kind is what a delivery tells.
type Kind string

// The kinds of message.
const (
	KindWarning Kind = "warning" // a published warning or its re-issue
	KindRelease Kind = "release" // the warning released (解除)
	// KindReminder tells approvers that a draft waits past its deadline
	// (审批督办); its Version counts the incident's reminders from 1.
	KindReminder Kind = "reminder"
)

// Kinds lists the kinds of message.
var Kinds = []Kind{KindWarning, KindRelease, KindReminder}

// Step is a step of escalation.
type Step string

// The steps of escalation.
const (
	StepUnread    Step = "unread"    // not read in time
	StepUnreplied Step = "unreplied" // not replied to in time
)

// Event is one change of a delivery, as journalled. What a type does not
// use is left zero.
type Event struct {
	Type     EventType `json:"type"`
	Delivery string    `json:"delivery"`
	Incident string    `json:"incident"`
	At       time.Time `json:"at"`
	// By is the login that read or replied, "" for the system.
	By string `json:"by,omitempty"`

	// Queued: what is delivered to whom, by which channel.
	Version   int                `json:"version,omitempty"`
	Level     int                `json:"level,omitempty"`
	Kind      Kind               `json:"kind,omitempty"`
	Recipient string             `json:"recipient,omitempty"` // a person id of the directory
	Login     string             `json:"login,omitempty"`
	Unit      string             `json:"unit,omitempty"`
	Channel   directory.Channel  `json:"channel,omitempty"`
	Reasons   []directory.Reason `json:"reasons,omitempty"`
	TextZh    string             `json:"text_zh,omitempty"`
	TextEn    string             `json:"text_en,omitempty"`
	// EscalationOf, Step and Depth: a delivery made by escalating another.
	EscalationOf string `json:"escalation_of,omitempty"`
	Step         Step   `json:"step,omitempty"`
	Depth        int    `json:"depth,omitempty"`

	// Attempt and Error: sent, delivered, failed, retry.
	Attempt int    `json:"attempt,omitempty"`
	Error   string `json:"error,omitempty"`
	// Text is a reply.
	Text string `json:"text,omitempty"`
	// To is the person an escalation went to; "" with Error when none.
	To string `json:"to,omitempty"`
}

// Limits on events and what they carry.
const (
	MaxEventSize  = 64 << 10
	MaxText       = 4000 // bytes of a message text
	MaxReply      = 1000 // bytes of a reply
	MaxError      = 500  // bytes of an error kept
	MaxID         = 64   // bytes of an id or a login
	MaxAttempts   = 100  // attempts of one delivery, whatever the options
	MaxDepth      = 3    // escalations of escalations
	MaxRecipients = 10000
	MaxVersion    = 200
)

func okID(s string) bool {
	if s == "" || len(s) > MaxID {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':' || c == '@') {
			return false
		}
	}
	return true
}

func checkEvent(ev *Event) error {
	if !slices.Contains(EventTypes, ev.Type) {
		return refuse("bad_event", "unknown event type %q", ev.Type)
	}
	if !okID(ev.Delivery) || !okID(ev.Incident) {
		return refuse("bad_event", "delivery and incident ids are 1 to %d bytes of a-z A-Z 0-9 _ - . : @", MaxID)
	}
	if ev.At.IsZero() {
		return refuse("bad_event", "an event needs a time")
	}
	if len(ev.By) > MaxID || len(ev.Login) > MaxID || len(ev.To) > MaxID || len(ev.Unit) > MaxID {
		return refuse("bad_event", "a login or an id is at most %d bytes", MaxID)
	}
	if len(ev.TextZh) > MaxText || len(ev.TextEn) > MaxText || len(ev.Text) > MaxReply || len(ev.Error) > MaxError {
		return refuse("too_long", "a text is too long")
	}
	if ev.Attempt < 0 || ev.Attempt > MaxAttempts || ev.Depth < 0 || ev.Depth > MaxDepth {
		return refuse("bad_event", "attempt or depth out of range")
	}
	if ev.Step != "" && ev.Step != StepUnread && ev.Step != StepUnreplied {
		return refuse("bad_event", "unknown step %q", ev.Step)
	}
	if ev.EscalationOf != "" && !okID(ev.EscalationOf) {
		return refuse("bad_event", "bad escalation_of")
	}
	switch ev.Type {
	case EvQueued:
		if ev.Version < 1 || ev.Version > MaxVersion || ev.Level < 1 || ev.Level > 4 {
			return refuse("bad_event", "version 1 to %d and level 1 to 4", MaxVersion)
		}
		if !slices.Contains(Kinds, ev.Kind) {
			return refuse("bad_event", "unknown kind %q", ev.Kind)
		}
		if !okID(ev.Recipient) || !slices.Contains(directory.Channels, ev.Channel) {
			return refuse("bad_event", "a delivery needs a recipient and a known channel")
		}
		if ev.TextZh == "" {
			return refuse("bad_event", "a delivery needs its text")
		}
		if len(ev.Reasons) > len(directory.Reasons)+1 {
			return refuse("bad_event", "too many reasons")
		}
		for _, r := range ev.Reasons {
			if !slices.Contains(directory.Reasons, r) && r != directory.ReasonApprover {
				return refuse("bad_event", "unknown reason %q", r)
			}
		}
		if (ev.EscalationOf == "") != (ev.Step == "") {
			return refuse("bad_event", "an escalation names its delivery and step")
		}
	case EvEscalated:
		if ev.Step == "" || (ev.To == "") == (ev.Error == "") {
			return refuse("bad_event", "an escalation names its step and whom it went to, or why none")
		}
	case EvReplied:
		if ev.Text == "" {
			return refuse("bad_event", "a reply has a text")
		}
	}
	return nil
}

// DecodeEvent reads one event from its JSON, as journalled: unknown fields
// and more than MaxEventSize bytes are refused, and the event is checked
// (known types, channels and reasons, bounded texts).
func DecodeEvent(data []byte) (Event, error) {
	if len(data) > MaxEventSize {
		return Event{}, refuse("too_large", "an event is at most %d bytes", MaxEventSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ev Event
	if err := dec.Decode(&ev); err != nil {
		return Event{}, refuse("bad_json", "%v", err)
	}
	if dec.More() {
		return Event{}, refuse("bad_json", "more than one event")
	}
	if err := checkEvent(&ev); err != nil {
		return Event{}, err
	}
	return ev, nil
}
