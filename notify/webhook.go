package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/onemap/onemap/directory"
)

// The headers of a webhook request.
const (
	HeaderSignature = "X-Onemap-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp = "X-Onemap-Timestamp" // Unix seconds
	HeaderDelivery  = "X-Onemap-Delivery"  // the delivery id, the same on every retry
)

// Webhook delivers by POSTing the message as JSON to the recipient's
// unit's URL, signed with the unit's secret (RFC 2104 HMAC with SHA-256).
// A 2xx answer is delivered; 4xx other than 408 and 429 fails for good;
// anything else is retried.
type Webhook struct {
	// Client sends the requests; nil is a client with a 10 s timeout.
	Client *http.Client
	// Secret returns the secret a webhook names.
	Secret func(name string) ([]byte, error)
	// Now is the clock of the timestamps; nil is time.Now.
	Now func() time.Time
}

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Name is "webhook".
func (w *Webhook) Name() string { return string(directory.ChannelWebhook) }

// ConfirmsOnSend is true: a 2xx answer means the unit's system has it.
func (w *Webhook) ConfirmsOnSend() bool { return true }

// Body is the JSON body of m: the Message fields but contacts and the
// attempt, so that every retry sends the same bytes.
func Body(m Message) ([]byte, error) {
	return json.Marshal(m)
}

// Sign returns the value of the signature header for a timestamp and body.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// ErrSignature is returned by Verify for a request that is not signed
// with the secret, or whose timestamp is too far from now.
var ErrSignature = &Error{Code: "bad_signature", Reason: "the signature or timestamp does not hold"}

// Verify checks a webhook request as a receiver does: the signature
// header against the timestamp header and the body, in constant time, and
// the timestamp within tolerance of now (replays are refused).
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts := h.Get(HeaderTimestamp)
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q", ErrSignature, ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp %s off by %s", ErrSignature, ts, d)
	}
	if !hmac.Equal([]byte(h.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("%w: signature", ErrSignature)
	}
	return nil
}

// Send POSTs m to its unit's webhook.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	if m.Webhook == nil || m.Webhook.URL == "" {
		return Permanent(errors.New("webhook: the recipient's unit has no webhook"))
	}
	if w.Secret == nil {
		return Permanent(errors.New("webhook: no secrets configured"))
	}
	secret, err := w.Secret(m.Webhook.Secret)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: secret %s: %w", m.Webhook.Secret, err))
	}
	body, err := Body(m)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	ts := strconv.FormatInt(now().Unix(), 10)
	return post(ctx, w.Client, "webhook", m.Webhook.URL, body, map[string]string{
		HeaderTimestamp: ts, HeaderSignature: Sign(secret, ts, body), HeaderDelivery: m.Delivery})
}

// post sends body as JSON to u with the headers given: a 2xx answer is
// taken, a 4xx other than 408 and 429 fails for good, anything else may
// be tried again. Errors name what sent it and u's host alone.
func post(ctx context.Context, c *http.Client, what, u string, body []byte, headers map[string]string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", what, err))
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, whose path may carry a token
		}
		return fmt.Errorf("%s: %s: %w", what, host(u), err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		return nil
	case s >= 400 && s < 500 && s != http.StatusRequestTimeout && s != http.StatusTooManyRequests:
		return Permanent(fmt.Errorf("%s: %s answered %d", what, host(u), s))
	default:
		return fmt.Errorf("%s: %s answered %d", what, host(u), s)
	}
}

// host is the part of a URL an error may show (no path or query, which
// may carry tokens).
func host(u string) string {
	rest := u
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}
