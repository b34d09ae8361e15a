package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// A sensor publishing to a broker reaches the map: onemap serve --mqtt;
// with --mqtt-tokens only in an envelope with a device token.
func TestServeMQTT(t *testing.T) {
	t.Run("Broker", func(t *testing.T) { serveMQTT(t, false) })
	t.Run("Tokens", func(t *testing.T) { serveMQTT(t, true) })
}

func serveMQTT(t *testing.T, tokens bool) {
	b := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.AddHook(new(auth.AllowHook), nil)
	ln := listeners.NewTCP(listeners.Config{ID: "tcp", Address: "127.0.0.1:0"})
	if err := b.AddListener(ln); err != nil {
		t.Fatal(err)
	}
	go b.Serve()
	t.Cleanup(func() { b.Close() })

	args := []string{"--mqtt", "tcp://" + ln.Address(), "--mqtt-topic", "city/+/telemetry"}
	if tokens {
		args = append(args, "--mqtt-tokens")
	}
	url := startServer(t, args...)
	type health struct {
		Ingest struct{ Accepted, Refused int }
		MQTT   struct {
			Connected          bool
			Messages, Accepted int
			Refused            int
		}
	}
	get := func(path string, v any) {
		t.Helper()
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var h health
	for deadline := time.Now().Add(10 * time.Second); !h.MQTT.Connected; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("onemap did not connect to the broker")
		}
		get("/healthz", &h)
	}
	// The subscription follows the connection.
	for deadline := time.Now().Add(10 * time.Second); len(b.Topics.Subscribers("city/GAS-000001/telemetry").Subscriptions) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("onemap did not subscribe")
		}
	}

	ts := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	payloads := []string{fmt.Sprintf(`{"metric":"ch4_lel","value":31,"ts":%q}`, ts), fmt.Sprintf(`{"metric":"pressure","value":0.2,"ts":%q}`, ts)}
	refused := 1
	if tokens {
		for i, p := range payloads {
			payloads[i] = `{"token":"` + testIngestToken + `","readings":` + p + `}`
		}
		// A reading without the token, and one with a guess, are refused.
		payloads = append(payloads, fmt.Sprintf(`{"metric":"ch4_lel","value":99,"ts":%q}`, ts), fmt.Sprintf(`{"token":"om_guess","readings":{"metric":"ch4_lel","value":99,"ts":%q}}`, ts))
		refused = 3
	}
	for _, p := range payloads {
		b.Publish("city/GAS-000001/telemetry", []byte(p), false, 1)
	}
	for deadline := time.Now().Add(10 * time.Second); h.MQTT.Messages < len(payloads); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the readings did not arrive: %+v", h)
		}
		get("/healthz", &h)
	}
	if h.MQTT.Accepted != 1 || h.MQTT.Refused != refused || h.Ingest.Accepted != 1 {
		t.Errorf("health %+v: want the ch4_lel reading accepted and the pressure one refused", h)
	}
	var sensor struct {
		State []struct {
			Metric string
			Value  float64
			Level  int
		}
	}
	get("/api/v1/sensors/GAS-000001", &sensor)
	if len(sensor.State) != 1 || sensor.State[0].Metric != "ch4_lel" || sensor.State[0].Value != 31 || sensor.State[0].Level == 0 {
		t.Errorf("GAS-000001 state %+v, want ch4_lel 31 %%LEL with an alarm level", sensor.State)
	}
}
