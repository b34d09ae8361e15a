package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Deadline is how long a delivery of a level may stay unread, and
// unreplied, before it is escalated to the recipient's superior.
type Deadline struct {
	Unread    time.Duration
	Unreplied time.Duration
}

// Policy is the escalation deadline of each level (1..4); a level without
// one is never escalated.
type Policy map[int]Deadline

// DefaultPolicy escalates a delivery unread after 5, 10, 20 and 30 minutes
// for levels I to IV, and unreplied after twice that.
var DefaultPolicy = Policy{
	1: {Unread: 5 * time.Minute, Unreplied: 10 * time.Minute},
	2: {Unread: 10 * time.Minute, Unreplied: 20 * time.Minute},
	3: {Unread: 20 * time.Minute, Unreplied: 40 * time.Minute},
	4: {Unread: 30 * time.Minute, Unreplied: 60 * time.Minute},
}

// ReadPolicy reads a policy from its JSON form, durations in Go syntax:
//
//	{"levels": [{"level": 1, "unread": "5m", "unreplied": "10m"}, ...]}
//
// Unknown fields are refused; each level 1..4 at most once; the unread
// deadline is positive and the unreplied one not shorter.
func ReadPolicy(r io.Reader) (Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<10+1))
	if err != nil {
		return nil, fmt.Errorf("notify: read policy: %w", err)
	}
	if len(data) > 64<<10 {
		return nil, refuse("bad_policy", "a policy is at most 64 KiB")
	}
	var f struct {
		Levels []struct {
			Level     int    `json:"level"`
			Unread    string `json:"unread"`
			Unreplied string `json:"unreplied"`
		} `json:"levels"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, refuse("bad_policy", "%v", err)
	}
	p := Policy{}
	for i, l := range f.Levels {
		if l.Level < 1 || l.Level > 4 {
			return nil, refuse("bad_policy", "levels[%d]: level %d is not 1 to 4", i, l.Level)
		}
		if _, dup := p[l.Level]; dup {
			return nil, refuse("bad_policy", "levels[%d]: level %d twice", i, l.Level)
		}
		ur, err1 := time.ParseDuration(l.Unread)
		ure, err2 := time.ParseDuration(l.Unreplied)
		if err1 != nil || err2 != nil || ur <= 0 || ure < ur {
			return nil, refuse("bad_policy", "levels[%d]: unread a positive duration, unreplied not shorter", i)
		}
		p[l.Level] = Deadline{Unread: ur, Unreplied: ure}
	}
	return p, nil
}
