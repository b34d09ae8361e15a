package notify

import (
	"errors"
	"fmt"
)

// Error is a refusal with a stable code: "not_found", "not_recipient",
// "bad_state", "already_replied", "bad_reply", "bad_notice", "bad_event",
// "too_long", "too_large", "bad_json", "bad_policy".
type Error struct {
	Code   string
	Reason string
}

// Error is the code and the reason.
func (e *Error) Error() string { return "notify: " + e.Code + ": " + e.Reason }

// Is matches another *Error of the same code, so that
// errors.Is(err, ErrNotRecipient) holds for every such refusal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

func refuse(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Errors matched with errors.Is.
var (
	ErrNotFound     = &Error{Code: "not_found", Reason: "no such delivery"}
	ErrNotRecipient = &Error{Code: "not_recipient", Reason: "only the recipient's login may do this"}
	ErrBadState     = &Error{Code: "bad_state", Reason: "the delivery's state does not allow this"}
	ErrReplied      = &Error{Code: "already_replied", Reason: "the delivery was replied to"}
	ErrBadReply     = &Error{Code: "bad_reply", Reason: "a reply is 1 to 1000 bytes of text"}
)

// permanent marks an error no retry can cure.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one no retry can cure (a refused request, a
// recipient without an address): the delivery fails at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}
