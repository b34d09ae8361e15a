// Package attach keeps the files attached to incidents — photos from the
// field — by the SHA-256 of their bytes. A Store is the interface; Dir keeps
// them in a directory, and store/postgis in the incident_attachment table.
//
// The type of a file is read from its bytes (the sniffing algorithm of the
// WHATWG MIME Sniffing standard, as net/http implements it): only JPEG, PNG
// and WebP images are taken, of at most Options.MaxSize bytes.
package attach

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Attachment describes a kept file.
type Attachment struct {
	ID      string    `json:"id"`   // hex SHA-256 of the bytes
	Type    string    `json:"type"` // image/jpeg, image/png or image/webp
	Size    int64     `json:"size"`
	Created time.Time `json:"created"`      // when it was first put
	By      string    `json:"by,omitempty"` // the login that first put it
}

// Store keeps attachments. Putting the same bytes again returns the
// attachment first kept, unchanged.
type Store interface {
	// Put checks and keeps data; contentType is the type the sender
	// claims ("" when none), by is the sender's login.
	Put(ctx context.Context, data []byte, contentType, by string) (Attachment, error)
	// Get returns the attachment with id and its bytes.
	Get(ctx context.Context, id string) (Attachment, []byte, error)
}

// Types lists the content types a Store takes.
var Types = []string{"image/jpeg", "image/png", "image/webp"}

// DefaultMaxSize is the largest attachment taken when Options.MaxSize is 0.
const DefaultMaxSize = 8 << 20

// MaxMaxSize bounds Options.MaxSize.
const MaxMaxSize = 64 << 20

// MaxBy bounds the login of who put an attachment.
const MaxBy = 128

// Options configure a Store.
type Options struct {
	// MaxSize is the largest attachment in bytes: DefaultMaxSize when 0,
	// at most MaxMaxSize.
	MaxSize int64
	// Now is the clock of Attachment.Created; time.Now when nil.
	Now func() time.Time
}

// WithDefaults returns o with its zero fields filled in; a MaxSize beyond
// MaxMaxSize is lowered to it.
func (o Options) WithDefaults() Options {
	if o.MaxSize <= 0 {
		o.MaxSize = DefaultMaxSize
	}
	o.MaxSize = min(o.MaxSize, MaxMaxSize)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// ErrAttach is matched by errors.Is for every *Error.
var ErrAttach = errors.New("attach: refused")

// Error is why an attachment was refused or not found; Code is stable:
// bad_type, too_large, bad_id, bad_by or not_found.
type Error struct {
	Code   string
	Reason string
}

func (e *Error) Error() string { return "attach: " + e.Code + ": " + e.Reason }

// Is makes every Error match ErrAttach, and ErrNotFound match an Error
// with code not_found.
func (e *Error) Is(target error) bool {
	if t, ok := target.(*Error); ok {
		return t.Code == e.Code
	}
	return target == ErrAttach
}

// ErrNotFound is matched by errors.Is when no attachment has the id.
var ErrNotFound = &Error{Code: "not_found", Reason: "no such attachment"}

func refuse(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// ID returns the id of data: its SHA-256 in lower-case hex.
func ID(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// CheckID refuses an id that is not 64 lower-case hex digits (bad_id).
func CheckID(id string) error {
	if len(id) != 64 {
		return refuse("bad_id", "an attachment id is 64 hex digits")
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return refuse("bad_id", "an attachment id is 64 lower-case hex digits")
		}
	}
	return nil
}

// Check returns the type of data read from its bytes, refusing data
// larger than max (too_large), of a type not in Types, or whose bytes are
// not of the type claimed (bad_type), and a login longer than MaxBy
// (bad_by). A claimed type's parameters are ignored.
func Check(data []byte, claimed, by string, max int64) (string, error) {
	if int64(len(data)) > max {
		return "", refuse("too_large", "%d bytes is more than %d", len(data), max)
	}
	if len(by) > MaxBy {
		return "", refuse("bad_by", "a login is at most %d bytes", MaxBy)
	}
	got := http.DetectContentType(data)
	if !slices.Contains(Types, got) {
		return "", refuse("bad_type", "the bytes are %s, not one of %s", got, strings.Join(Types, ", "))
	}
	if claimed != "" {
		c, _, _ := strings.Cut(claimed, ";")
		c = strings.ToLower(strings.TrimSpace(c))
		if c != got {
			return "", refuse("bad_type", "claimed %s but the bytes are %s", c, got)
		}
	}
	return got, nil
}
