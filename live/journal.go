package live

import (
	"context"
	"time"
)

// Journal keeps the history the live state is rebuilt from: the accepted
// readings and every decision taken on them — an alarm raised, changed or
// cleared, an acknowledgement, a new version of the rules — in the order
// they came, each at a position that only grows. It also keeps checkpoints
// of the live state, so that a start reads the last checkpoint and what
// came after it. The embedded default keeps it in a write-ahead log
// (WALJournal), PostGIS in its tables; both pass the suite in
// live/journaltest.
type Journal interface {
	// AppendReadings makes readings durable before it returns.
	AppendReadings(ctx context.Context, rs []Reading) error
	// AppendEvents makes history events durable before it returns.
	AppendEvents(ctx context.Context, evs []HistoryEvent) error
	// Replay calls onReading and onEvent for everything kept after
	// position after (0: from the start), in order. Readings older than
	// the journal's retention may be left out.
	Replay(ctx context.Context, after uint64, onReading func(Reading) error, onEvent func(HistoryEvent) error) error
	// Mark returns a position at or after everything appended before it
	// was called; a checkpoint taken then covers the journal up to it.
	Mark(ctx context.Context) (uint64, error)
	// SaveCheckpoint keeps a checkpoint durably; the latest replaces the
	// ones before it.
	SaveCheckpoint(ctx context.Context, c Checkpoint) error
	// LastCheckpoint returns the latest checkpoint, nil when there is none.
	LastCheckpoint(ctx context.Context) (*Checkpoint, error)
	// Prune removes what the checkpoint at position pos covers and no
	// longer needs to be kept, and the readings older than before.
	Prune(ctx context.Context, pos uint64, before time.Time) error
}

// JournalProvider is a store that keeps the live journal itself, as
// PostGIS does; retention bounds the readings a start reads back.
type JournalProvider interface {
	LiveJournal(retention time.Duration) (Journal, error)
}

// QueueJournal is a Journal that can queue appends and be waited on later:
// the order is fixed when they are queued, the fsync shared by what is
// queued meanwhile.
type QueueJournal interface {
	Journal
	// QueueReadings queues readings; wait returns once they are durable
	// and must be called.
	QueueReadings(ctx context.Context, rs []Reading) (wait func() error, err error)
	// QueueEvents queues events as QueueReadings does readings.
	QueueEvents(ctx context.Context, evs []HistoryEvent) (wait func() error, err error)
}

// Checkpoint is the live state as it stood at a journal position.
type Checkpoint struct {
	Pos  uint64    // the journal position it covers, inclusive
	At   time.Time // when it was taken
	Data []byte    // the state, as the service encodes it
}

// EventKind names a history event.
type EventKind string

// The kinds of history event.
const (
	EventRaised       EventKind = "raised"
	EventEscalated    EventKind = "escalated"
	EventDeEscalated  EventKind = "de-escalated"
	EventCleared      EventKind = "cleared"
	EventAcknowledged EventKind = "acknowledged"
	EventRules        EventKind = "rules" // a new version of the alarm rules
)

// HistoryEvent is one decision kept in the journal: a transition of an
// alarm, an acknowledgement, a new version of the rules. What a kind does
// not use is left zero.
type HistoryEvent struct {
	Kind EventKind `json:"kind"`
	At   time.Time `json:"at"`
	// By is who did it: a person, or empty for the alarm engine.
	By    string `json:"by,omitempty"`
	Alarm uint64 `json:"alarm,omitempty"`
	// Raised: the series and the incident the alarm belongs to.
	Sensor   uint64 `json:"sensor,omitempty"`
	Metric   string `json:"metric,omitempty"`
	Incident uint64 `json:"incident,omitempty"`
	// RuleVersion is the version of the rules that decided a transition,
	// or the number of a new version.
	RuleVersion uint64  `json:"rule_version,omitempty"`
	From        Level   `json:"from,omitempty"`
	To          Level   `json:"to,omitempty"`
	Value       float64 `json:"value,omitempty"`
	First       float64 `json:"first,omitempty"`
	Peak        float64 `json:"peak,omitempty"`
	Note        string  `json:"note,omitempty"`
	// Rules is the rules file of a new version; nil for the defaults.
	Rules []byte `json:"rules,omitempty"`
	// Reconciled marks a transition made at start because the journal held
	// readings whose decision was lost (a crash between the two).
	Reconciled bool `json:"reconciled,omitempty"`
}

// RulesVersion is one version of the alarm rules.
type RulesVersion struct {
	Version uint64    `json:"version"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`
	// Default says the version is the built-in rules.
	Default bool `json:"default,omitempty"`
}
