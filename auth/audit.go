package auth

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Entry is one line of the audit log: who did what, when, from where, to
// what, and how it ended.
type Entry struct {
	// Seq numbers the entries from 1.
	Seq  uint64    `json:"n"`
	Time time.Time `json:"time"`
	// Who is a login, "token:NAME", "anonymous" or "?" (a login that was
	// not a valid name, not written lest it be a password).
	Who    string   `json:"who"`
	Roles  []string `json:"roles,omitempty"`
	Remote string   `json:"remote,omitempty"`
	// Action is what was done, such as "login", "rules.write", "alarms.ack".
	Action string `json:"action"`
	Target string `json:"target,omitempty"`
	// Result is "ok", "denied", "locked" or "error: …".
	Result string `json:"result"`
	// Prev is the SHA-256 (hex) of the previous entry's line, or of the
	// genesis for the first entry.
	Prev string `json:"prev"`
}

// Genesis is what the first entry of every audit log is chained to.
const Genesis = "onemap audit log v1"

var genesisHash = sha256.Sum256([]byte(Genesis))

// Bounds of an entry's fields, beyond which Append cuts them.
const (
	maxAuditField  = 256
	maxAuditRoles  = 16
	maxAuditLine   = 64 << 10
	MaxAuditLimit  = 1000
	defaultAuditN  = 100
	auditTailBytes = 2 * maxAuditLine
)

// AuditLog is the append-only audit log, one JSON entry a line in a file
// (mode 0600). Each entry carries the SHA-256 of the line before it, so a
// changed, removed or inserted line breaks the chain at the next entry,
// which Verify finds. Every Append is fsynced before it returns. Appends are
// made under a lock file, so the server and an onemap command may share it.
type AuditLog struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	mu   sync.Mutex
	f    *os.File
	seq  uint64
	prev [32]byte
	size int64 // of the file after the last line this process read or wrote
}

// AuditOptions tune OpenAudit.
type AuditOptions struct {
	Now func() time.Time
	Log *slog.Logger
}

// AuditFile is the audit log's name in the data directory.
const AuditFile = "audit.log"

// OpenAudit opens (creating) the audit log at path. A last line cut short by
// a crash, never acknowledged, is cut off and logged.
func OpenAudit(ctx context.Context, path string, opt AuditOptions) (*AuditLog, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("auth: audit: %w", err)
	}
	a := &AuditLog{path: path, now: opt.Now, log: opt.Log, f: f, prev: genesisHash}
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("auth: audit: lock: %w", err)
	}
	defer unlock()
	if err := a.readTail(); err != nil {
		f.Close()
		return nil, err
	}
	return a, nil
}

// readTail reads the last entry, for the next one's number and link.
func (a *AuditLog) readTail() error {
	fi, err := a.f.Stat()
	if err != nil {
		return fmt.Errorf("auth: audit: %w", err)
	}
	size := fi.Size()
	if size == 0 {
		a.seq, a.prev, a.size = 0, genesisHash, 0
		return nil
	}
	off := max(size-auditTailBytes, 0)
	buf := make([]byte, size-off)
	if _, err := a.f.ReadAt(buf, off); err != nil {
		return fmt.Errorf("auth: audit: read %s: %w", a.path, err)
	}
	if buf[len(buf)-1] != '\n' {
		cut := bytes.LastIndexByte(buf, '\n') + 1 // 0 when the whole tail is one torn line
		if cut == 0 && off > 0 {
			return fmt.Errorf("auth: audit: %s: a last line longer than %d bytes", a.path, auditTailBytes)
		}
		a.log.Warn("auth: audit log ends in a line cut short by a crash; cutting it",
			"path", a.path, "bytes", len(buf)-cut)
		if err := a.f.Truncate(off + int64(cut)); err != nil {
			return fmt.Errorf("auth: audit: cut %s: %w", a.path, err)
		}
		if err := a.f.Sync(); err != nil {
			return fmt.Errorf("auth: audit: %w", err)
		}
		buf, size = buf[:cut], off+int64(cut)
		if size == 0 {
			a.seq, a.prev, a.size = 0, genesisHash, 0
			return nil
		}
	}
	body := buf[:len(buf)-1]
	line := body[bytes.LastIndexByte(body, '\n')+1:]
	if off > 0 && len(line) == len(body) {
		return fmt.Errorf("auth: audit: %s: a last line longer than %d bytes", a.path, auditTailBytes)
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil || e.Seq == 0 {
		return fmt.Errorf("auth: audit: %s: the last entry is unreadable (onemap audit verify tells more)", a.path)
	}
	a.seq, a.prev, a.size = e.Seq, sha256.Sum256(line), size
	return nil
}

// Close closes the log.
func (a *AuditLog) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}

// Append writes e as the next entry, its Seq, Time and Prev filled in, and
// fsyncs it. Fields over their bounds are cut.
func (a *AuditLog) Append(ctx context.Context, e Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return errors.New("auth: audit: log closed")
	}
	unlock, err := lockFile(a.path + ".lock")
	if err != nil {
		return fmt.Errorf("auth: audit: lock: %w", err)
	}
	defer unlock()
	if fi, err := a.f.Stat(); err != nil {
		return fmt.Errorf("auth: audit: %w", err)
	} else if fi.Size() != a.size {
		// Another process appended: take up the chain from its last entry.
		if err := a.readTail(); err != nil {
			return err
		}
	}
	e.Seq = a.seq + 1
	e.Time = a.now().UTC()
	e.Prev = hex.EncodeToString(a.prev[:])
	e.Who = clean(e.Who, 64)
	e.Remote = clean(e.Remote, 64)
	e.Action = clean(e.Action, 64)
	e.Target = clean(e.Target, maxAuditField)
	e.Result = clean(e.Result, maxAuditField)
	if len(e.Roles) > maxAuditRoles {
		e.Roles = e.Roles[:maxAuditRoles]
	}
	roles := make([]string, len(e.Roles))
	for i, r := range e.Roles {
		roles[i] = clean(r, 32)
	}
	e.Roles = roles
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("auth: audit: %w", err)
	}
	n, err := a.f.Write(append(line, '\n'))
	if err == nil {
		err = a.f.Sync()
	}
	if err != nil {
		// Cut what the failed write may have left, so the chain stays whole.
		a.f.Truncate(a.size)
		return fmt.Errorf("auth: audit: append to %s: %w", a.path, err)
	}
	a.seq, a.prev, a.size = e.Seq, sha256.Sum256(line), a.size+int64(n)
	return nil
}

// clean cuts s to n bytes and replaces control characters, so that an entry
// is one line and a field cannot pass for another.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if isControl(r) {
			return '\uFFFD'
		}
		return r
	}, s)
	return truncate(strings.ToValidUTF8(s, "\uFFFD"), n)
}

// ChainError is the first broken link Verify finds: the 1-based number of
// the entry (its line) and what is wrong with it.
type ChainError struct {
	Entry  int
	Reason string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("auth: audit: entry %d: %s", e.Entry, e.Reason)
}

// ErrChainBroken is matched by every ChainError.
var ErrChainBroken = errors.New("auth: audit chain broken")

// Is makes every ChainError match ErrChainBroken.
func (e *ChainError) Is(target error) bool { return target == ErrChainBroken }

// AuditReport is what Verify found.
type AuditReport struct {
	// Entries is the number of entries whose links hold.
	Entries int
	// Head is the SHA-256 (hex) of the last entry that holds; noted
	// somewhere else, it shows later that no entry up to it was changed
	// (an entry after the last one noted has only its successors to vouch
	// for it).
	Head string
	// Torn is set when the file ends in a line cut short by a crash, which
	// OpenAudit would cut.
	Torn bool
}

// Verify reads the audit log at path and checks every link: each line is
// one entry in the form Append writes it, numbered one more than the
// previous, carrying the SHA-256 of the previous line (of the genesis for
// the first). It returns a *ChainError for the first entry that breaks
// the chain, with the report up to it.
func Verify(ctx context.Context, path string) (AuditReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return AuditReport{}, fmt.Errorf("auth: audit: %w", err)
	}
	defer f.Close()
	rep := AuditReport{Head: hex.EncodeToString(genesisHash[:])}
	r := bufio.NewReaderSize(f, 64<<10)
	prev := genesisHash
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
		line, err := readLine(r)
		if err == io.EOF {
			return rep, nil
		}
		if errors.Is(err, errTorn) {
			rep.Torn = true
			return rep, nil
		}
		if err != nil {
			return rep, &ChainError{Entry: n, Reason: err.Error()}
		}
		if reason := checkLink(line, uint64(n), prev); reason != "" {
			return rep, &ChainError{Entry: n, Reason: reason}
		}
		prev = sha256.Sum256(line)
		rep.Entries = n
		rep.Head = hex.EncodeToString(prev[:])
	}
}

var errTorn = errors.New("torn last line")

// readLine returns the next line without its newline: io.EOF at the end,
// errTorn for a last line without one.
func readLine(r *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxAuditLine {
			return nil, fmt.Errorf("a line over %d bytes", maxAuditLine)
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(line) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, errTorn
		default:
			return nil, err
		}
	}
}

// checkLink tells what is wrong with line as entry n after prev, or "".
func checkLink(line []byte, n uint64, prev [32]byte) string {
	var e Entry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return "not an entry: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	canon, err := json.Marshal(e)
	if err != nil || !bytes.Equal(canon, line) {
		return "not in the form the log writes (changed by hand?)"
	}
	if e.Seq != n {
		return fmt.Sprintf("numbered %d where %d follows (an entry removed or inserted before it)", e.Seq, n)
	}
	if e.Prev != hex.EncodeToString(prev[:]) {
		if n == 1 {
			return "not chained to the genesis (entries removed before it?)"
		}
		return fmt.Sprintf("does not carry the hash of entry %d (entry %d changed?)", n-1, n-1)
	}
	return ""
}

// AuditFilter selects entries for Query. Zero fields do not filter.
type AuditFilter struct {
	// Who is a login (exact).
	Who string
	// What is an action (exact), or a prefix of actions ending in '.'
	// ("users." for every change to users).
	What string
	// From and To bound the entries' time: From ≤ time < To.
	From, To time.Time
	// Limit is the most entries returned (100 if 0, at most 1,000).
	Limit int
}

// ErrBadFilter is returned for a filter out of bounds.
var ErrBadFilter = errors.New("auth: audit: bad filter")

// Query returns the newest entries matching f, newest first.
func (a *AuditLog) Query(ctx context.Context, f AuditFilter) ([]Entry, error) {
	if f.Limit < 0 || f.Limit > MaxAuditLimit {
		return nil, fmt.Errorf("%w: limit %d outside 1–%d", ErrBadFilter, f.Limit, MaxAuditLimit)
	}
	if f.Limit == 0 {
		f.Limit = defaultAuditN
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return nil, fmt.Errorf("%w: from is not before to", ErrBadFilter)
	}
	if len(f.Who) > 64 || len(f.What) > 64 {
		return nil, fmt.Errorf("%w: who or what over 64 bytes", ErrBadFilter)
	}
	file, err := os.Open(a.path)
	if err != nil {
		return nil, fmt.Errorf("auth: audit: %w", err)
	}
	defer file.Close()
	r := bufio.NewReaderSize(file, 64<<10)
	// A ring of the last Limit matches.
	ring := make([]Entry, 0, f.Limit)
	next := 0
	for n := 1; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line, err := readLine(r)
		if err == io.EOF || errors.Is(err, errTorn) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("auth: audit: line %d: %w", n, err)
		}
		var e Entry
		if json.Unmarshal(line, &e) != nil {
			continue // Verify reports it; a query still answers
		}
		if !f.match(&e) {
			continue
		}
		if len(ring) < f.Limit {
			ring = append(ring, e)
		} else {
			ring[next] = e
			next = (next + 1) % f.Limit
		}
	}
	out := append(ring[next:len(ring):len(ring)], ring[:next]...)
	slices.Reverse(out)
	return out, nil
}

func (f *AuditFilter) match(e *Entry) bool {
	if f.Who != "" && e.Who != f.Who {
		return false
	}
	if f.What != "" {
		if strings.HasSuffix(f.What, ".") {
			if !strings.HasPrefix(e.Action, f.What) {
				return false
			}
		} else if e.Action != f.What {
			return false
		}
	}
	if !f.From.IsZero() && e.Time.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !e.Time.Before(f.To) {
		return false
	}
	return true
}
