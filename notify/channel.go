package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/onemap/onemap/directory"
)

// Message is one delivery as a channel sends it.
type Message struct {
	Delivery  string            `json:"delivery"`
	Incident  string            `json:"incident"`
	Version   int               `json:"version"`
	Level     int               `json:"level"`
	Kind      Kind              `json:"kind"`
	Channel   directory.Channel `json:"channel"`
	Recipient string            `json:"recipient"` // person id
	Unit      string            `json:"unit,omitempty"`
	Login     string            `json:"login,omitempty"`
	// Phone and Webhook are the recipient's contacts; never journalled.
	Phone   string             `json:"-"`
	Webhook *directory.Webhook `json:"-"`
	TextZh  string             `json:"text_zh"`
	TextEn  string             `json:"text_en,omitempty"`
	// EscalationOf and Step: an escalation (督办) of another delivery.
	EscalationOf string    `json:"escalation_of,omitempty"`
	Step         Step      `json:"step,omitempty"`
	Created      time.Time `json:"created"`
	// Attempt is 1 for the first try; not part of a webhook's body.
	Attempt int `json:"-"`
}

// Channel is a way of delivering messages.
type Channel interface {
	// Name is the directory channel it serves: "in_app", "sms", "voice", "webhook".
	Name() string
	// Send delivers m; an error marked Permanent is not retried.
	Send(ctx context.Context, m Message) error
}

// Confirmer is a Channel whose successful Send means the message reached
// the recipient (a webhook's 2xx); the delivery goes straight to delivered.
type Confirmer interface {
	ConfirmsOnSend() bool
}

// InApp delivers to the onemap inbox of the recipient's login: Send keeps
// the message (the latest MaxPerLogin per login) and calls Hook, for the
// server to push it on the login's live channel. The delivery is sent until
// the recipient's client fetches it (Dispatcher.Fetch).
type InApp struct {
	// Hook, when not nil, is called after each message is kept.
	Hook func(login string, m Message)
	// MaxPerLogin bounds the messages kept per login (100 when 0).
	MaxPerLogin int

	mu  sync.Mutex
	box map[string][]Message
}

// Name is "in_app".
func (a *InApp) Name() string { return string(directory.ChannelInApp) }

// Send keeps m for its login and calls the hook; a message without a login
// fails for good.
func (a *InApp) Send(ctx context.Context, m Message) error {
	if m.Login == "" {
		return Permanent(errors.New("in_app: the recipient has no login"))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	maxN := a.MaxPerLogin
	if maxN <= 0 {
		maxN = 100
	}
	a.mu.Lock()
	if a.box == nil {
		a.box = map[string][]Message{}
	}
	b := a.box[m.Login]
	if len(b) >= maxN {
		b = b[len(b)-maxN+1:]
	}
	a.box[m.Login] = append(b, m)
	a.mu.Unlock()
	if a.Hook != nil {
		a.Hook(m.Login, m)
	}
	return nil
}

// Messages returns the messages kept for login, oldest first.
func (a *InApp) Messages(login string) []Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Message(nil), a.box[login]...)
}

// SMSGateway is a provider of text messages.
type SMSGateway interface {
	// SendSMS hands text to the provider for phone.
	SendSMS(ctx context.Context, phone, text string) error
}

// MaxSMS bounds the characters of a text message SMS composes.
const MaxSMS = 300

// SMS delivers text messages through a gateway. The delivery is sent when
// the gateway takes it; the gateway's receipt confirms it
// (Dispatcher.Confirm).
type SMS struct {
	Gateway SMSGateway
}

// Name is "sms".
func (s *SMS) Name() string { return string(directory.ChannelSMS) }

// Send composes the text (Text) and hands it to the gateway; a message
// without a phone fails for good.
func (s *SMS) Send(ctx context.Context, m Message) error {
	if m.Phone == "" {
		return Permanent(errors.New("sms: the recipient has no phone"))
	}
	if err := s.Gateway.SendSMS(ctx, m.Phone, Text(m, MaxSMS)); err != nil {
		return fmt.Errorf("sms: %w", err)
	}
	return nil
}

// VoiceGateway is a provider of voice calls that read a text out.
type VoiceGateway interface {
	// Call hands text to the provider, to be read out to phone.
	Call(ctx context.Context, phone, text string) error
}

// MaxVoice bounds the characters a call reads out.
const MaxVoice = 500

// Voice delivers a message as a call that reads it out (语音外呼), for
// who must be reached at once. The delivery is sent when the gateway
// takes the call; the gateway's receipt confirms it (Dispatcher.Confirm).
type Voice struct {
	Gateway VoiceGateway
}

// Name is "voice".
func (v *Voice) Name() string { return string(directory.ChannelVoice) }

// Send composes the text read out (Text) and hands it to the gateway; a
// message without a phone fails for good.
func (v *Voice) Send(ctx context.Context, m Message) error {
	if m.Phone == "" {
		return Permanent(errors.New("voice: the recipient has no phone"))
	}
	if err := v.Gateway.Call(ctx, m.Phone, Text(m, MaxVoice)); err != nil {
		return fmt.Errorf("voice: %w", err)
	}
	return nil
}

// Text is a message's text for a short channel: 【督办】 before an
// escalation, the Chinese text, then the English one, cut to at most
// maxRunes characters.
func Text(m Message, maxRunes int) string {
	var b strings.Builder
	if m.EscalationOf != "" {
		b.WriteString("【督办】")
	}
	b.WriteString(m.TextZh)
	if m.TextEn != "" {
		b.WriteString(" / ")
		if m.EscalationOf != "" {
			b.WriteString("[Escalated] ")
		}
		b.WriteString(m.TextEn)
	}
	s := b.String()
	if utf8.RuneCountInString(s) <= maxRunes {
		return s
	}
	r := []rune(s)
	return string(r[:maxRunes-1]) + "…"
}

// FakeSMS is an SMSGateway and a VoiceGateway that keeps what it is
// given, for tests and demonstrations; it sends nothing.
type FakeSMS struct {
	// Fail, when not nil, is asked for each text; its error is returned.
	Fail func(phone string) error

	mu   sync.Mutex
	sent []FakeText
}

// FakeText is a text or a call FakeSMS took.
type FakeText struct {
	Phone, Text string
	Call        bool // a voice call, not a text message
}

// SendSMS keeps the text, or returns Fail's error.
func (f *FakeSMS) SendSMS(ctx context.Context, phone, text string) error {
	return f.keep(FakeText{Phone: phone, Text: text})
}

// Call keeps the call, or returns Fail's error.
func (f *FakeSMS) Call(ctx context.Context, phone, text string) error {
	return f.keep(FakeText{Phone: phone, Text: text, Call: true})
}

func (f *FakeSMS) keep(t FakeText) error {
	if f.Fail != nil {
		if err := f.Fail(t.Phone); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, t)
	return nil
}

// Sent returns the texts and calls taken, in order.
func (f *FakeSMS) Sent() []FakeText {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeText(nil), f.sent...)
}

// HTTPGateway is an SMSGateway and a VoiceGateway that hands each text or
// call to a city's SMS or voice platform over HTTP: a POST of {"phone",
// "text"} as JSON to URL, with Token as a bearer token when set. A 2xx answer is taken; a 4xx other
// than 408 and 429 fails for good, anything else is tried again.
type HTTPGateway struct {
	URL   string
	Token string
	// Client sends the requests; nil is a client with a 10 s timeout.
	Client *http.Client
}

// SendSMS posts the text.
func (g *HTTPGateway) SendSMS(ctx context.Context, phone, text string) error {
	return g.post(ctx, "sms gateway", phone, text)
}

// Call posts the text to be read out.
func (g *HTTPGateway) Call(ctx context.Context, phone, text string) error {
	return g.post(ctx, "voice gateway", phone, text)
}

func (g *HTTPGateway) post(ctx context.Context, what, phone, text string) error {
	body, _ := json.Marshal(map[string]string{"phone": phone, "text": text})
	h := map[string]string{}
	if g.Token != "" {
		h["Authorization"] = "Bearer " + g.Token
	}
	return post(ctx, g.Client, what, g.URL, body, h)
}
