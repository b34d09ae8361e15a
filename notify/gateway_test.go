package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPGateway(t *testing.T) {
	var got []string
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Header.Get("Authorization")+" "+string(b))
		w.WriteHeader(status)
	}))
	defer srv.Close()
	g := &HTTPGateway{URL: srv.URL + "/send?key=secret", Token: "t0k"}
	if err := g.SendSMS(context.Background(), "13800001023", "【II级预警】燃气泄漏"); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != `Bearer t0k {"phone":"13800001023","text":"【II级预警】燃气泄漏"}` {
		t.Fatalf("the gateway got %q", got)
	}
	status = http.StatusBadRequest
	if err := g.SendSMS(context.Background(), "1", "x"); !IsPermanent(err) || strings.Contains(err.Error(), "secret") {
		t.Errorf("a 400: %v", err)
	}
	status = http.StatusBadGateway
	if err := g.SendSMS(context.Background(), "1", "x"); err == nil || IsPermanent(err) {
		t.Errorf("a 502: %v", err)
	}
}
