package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/onemap/onemap/directory"
	"github.com/onemap/onemap/notify"
)

// A unit's system receiving onemap's warnings: it checks the signature and
// the timestamp, then takes each delivery once, however often it is
// retried.
func Example_receiver() {
	secret := []byte("the secret shared with onemap")
	var mu sync.Mutex
	taken := map[string]bool{}
	receive := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if err := notify.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(notify.HeaderDelivery)
		mu.Lock()
		again := taken[id]
		taken[id] = true
		mu.Unlock()
		if again {
			w.WriteHeader(http.StatusOK) // a retry of one already taken
			return
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		fmt.Println("taken:", m.Incident, "level", m.Level, m.TextZh)
		w.WriteHeader(http.StatusNoContent)
	}
	srv := httptest.NewServer(http.HandlerFunc(receive))
	defer srv.Close()

	wh := &notify.Webhook{Secret: func(name string) ([]byte, error) { return secret, nil }}
	m := notify.Message{
		Delivery: "d0123", Incident: "inc-1", Version: 1, Level: 1, Kind: notify.KindWarning,
		TextZh:  "方兴街道燃气管网甲烷浓度超限，I级预警。",
		Webhook: &directory.Webhook{URL: srv.URL, Secret: "gas_co_webhook"},
	}
	fmt.Println(wh.Send(context.Background(), m))
	fmt.Println(wh.Send(context.Background(), m)) // a retry: taken once

	forged := &notify.Webhook{Secret: func(string) ([]byte, error) { return []byte("guessed"), nil }}
	err := forged.Send(context.Background(), m)
	fmt.Println("forged:", err != nil, notify.IsPermanent(err))
	// Output:
	// taken: inc-1 level 1 方兴街道燃气管网甲烷浓度超限，I级预警。
	// <nil>
	// <nil>
	// forged: true true
}
