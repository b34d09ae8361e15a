package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
)

// startServer runs onemap serve on a free port, as a user would, and returns
// its URL. The server stops when the test ends.
func startServer(t testing.TB, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--log-level", "warn"}, args...)
		done <- run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server stopped with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("server did not shut down within 15 s")
		}
	})
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`http://\S+`)
		for sc.Scan() {
			if u := re.FindString(sc.Text()); u != "" {
				urlc <- u
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case u := <-urlc:
		return u
	case err := <-done:
		t.Fatalf("server exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start within 30 s")
	}
	return ""
}

func TestServeSampleCity(t *testing.T) {
	url := startServer(t)
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status   string
		Features int
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Status != "ok" || health.Features < 10_000 {
		t.Fatalf("healthz: %d %+v", resp.StatusCode, health)
	}

	// The style names this server for its tiles, glyphs and sprite.
	resp, err = http.Get(url + "/style.json")
	if err != nil {
		t.Fatal(err)
	}
	var style struct {
		Version int
		Glyphs  string
		Sprite  string
		Sources map[string]struct{ Tiles []string }
	}
	json.NewDecoder(resp.Body).Decode(&style)
	resp.Body.Close()
	if style.Version != 8 || !strings.HasPrefix(style.Glyphs, url) || !strings.HasPrefix(style.Sprite, url) {
		t.Errorf("style: version %d glyphs %q sprite %q", style.Version, style.Glyphs, style.Sprite)
	}
	for name, src := range style.Sources {
		for _, tu := range src.Tiles {
			if !strings.HasPrefix(tu, url+"/tiles/") {
				t.Errorf("source %s tiles at %q, not on this server", name, tu)
			}
		}
	}
}

func TestRunErrors(t *testing.T) {
	openSecrets := filepath.Join(t.TempDir(), "secrets.json")
	os.WriteFile(openSecrets, []byte(`{"a": "b"}`), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"UnknownCommand", []string{"fly"}, `unknown command "fly"`},
		{"BadFlag", []string{"serve", "--nope"}, "flag provided but not defined"},
		{"BadLogLevel", []string{"serve", "--log-level", "loud"}, "--log-level"},
		{"NegativeCache", []string{"serve", "--cache-mb", "-1"}, "--cache-mb"},
		{"NegativeWSClients", []string{"serve", "--ws-max-clients", "-1"}, "--ws-max-clients"},
		{"NoConns", []string{"serve", "--max-conns", "0"}, "--max-conns"},
		{"NATSNameAlone", []string{"serve", "--nats-name", "a"}, "--nats-name and --nats-replicas go with --nats"},
		{"TooManyReplicas", []string{"serve", "--nats", "nats://127.0.0.1:4222", "--nats-replicas", "9"}, "--nats-replicas must be from 0 to 5"},
		{"NoReadingsStream", []string{"serve", "--nats", "nats://127.0.0.1:4222", "--nats-readings-gb", "0"}, "--nats-readings-gb"},
		{"MissingCity", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--city", "/no/such/city"}, "city.json"},
		{"BadScale", []string{"gen", "--scale", "0", "--out", t.TempDir()}, "--scale"},
		{"GenWithoutOut", []string{"gen", "--scale", "2"}, "gen: say where: --out DIR"},
		{"GenUnknownPreset", []string{"gen", "--preset", "country", "--out", t.TempDir()}, `--preset "country": want sample, city or province`},
		{"GenPresetAndScale", []string{"gen", "--preset", "province", "--scale", "2", "--out", t.TempDir()}, "--preset province is --scale 14"},
		{"BadMQTT", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--mqtt", "localhost:1883"}, "tcp://host:1883"},
		{"BadMQTTTopic", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--mqtt", "tcp://localhost:1883", "--mqtt-topic", "a/#/b"}, "# may only be the last level"},
		{"BadAccessLog", []string{"serve", "--access-log", "loud"}, `--access-log (ONEMAP_ACCESS_LOG) "loud": want all, uncached or off`},
		{"DebugOnPublicAddr", []string{"serve", "--addr", "127.0.0.1:8080", "--debug-addr", "127.0.0.1:8080"}, "--debug-addr must differ from --addr"},
		{"BadDebugAddr", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--debug-addr", "256.0.0.1:1"}, "listen --debug-addr"},
		{"StrayArgument", []string{"serve", "extra"}, "unexpected argument"},
		{"CertWithoutKey", []string{"serve", "--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
		{"RedirectWithoutTLS", []string{"serve", "--redirect-addr", ":80"}, "--redirect-addr needs --tls-cert"},
		{"BadProxy", []string{"serve", "--trusted-proxies", "10.0.0.0/8,proxy.local"}, `--trusted-proxies: "proxy.local" is not an address`},
		{"BadSMSGateway", []string{"serve", "--sms-gateway", "sms.city.example/send"}, "--sms-gateway (ONEMAP_SMS_GATEWAY) must be an http:// or https:// URL"},
		{"BadVoiceGateway", []string{"serve", "--voice-gateway", "ftp://voice.city.example"}, "--voice-gateway (ONEMAP_VOICE_GATEWAY) must be an http:// or https:// URL"},
		{"MissingDirectory", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--directory", "/no/such/directory.json"}, "directory /no/such/directory.json"},
		{"MissingLevelRules", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--level-rules", "/no/such/level.json"}, "level rules"},
		{"MissingWebhookSecrets", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--webhook-secrets", "/no/such/secrets.json"}, "webhook secrets"},
		{"SecretsReadableByOthers", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--webhook-secrets", openSecrets}, "readable by others"},
		{"BadRoles", []string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--roles", "/no/such/roles.json"}, "--roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one that says %q", err, tt.want)
			}
		})
	}
}

// With --max-conns 1, a second connection waits until the first closes.
func TestMaxConns(t *testing.T) {
	url := startServer(t, "--max-conns", "1")
	first, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	io.WriteString(first, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(first), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("first connection: %v %v", resp, err)
	}
	resp.Body.Close()
	// The first connection is open and idle: the second is not served.
	client := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := client.Get(url + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a second connection was served (%d) while the first held the only one", resp.StatusCode)
	}
	first.Close()
	client.Timeout = 10 * time.Second
	resp, err = client.Get(url + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the first closed: %v %v", resp, err)
	}
	resp.Body.Close()
}

// onemap --help lists every command, then the flags of serve, the default.
func TestHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		var out strings.Builder
		if err := run(t.Context(), []string{arg}, &out, io.Discard); err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		for _, want := range []string{"onemap import", "onemap simulate", "onemap directory", "onemap gen --out DIR", "The flags of onemap serve", "-addr", "-db"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s does not show %q:\n%s", arg, want, out.String())
			}
		}
	}
}

// --simulate on a city of its own simulates that city's sensors — not the
// sample city's, which it would refuse — without the sample's scenarios.
func TestSimulateOwnCity(t *testing.T) {
	dir := t.TempDir()
	if err := run(t.Context(), []string{"gen", "--seed", "7", "--scale", "2", "--out", dir}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	url := startServer(t, "--city", dir, "--simulate")
	var h struct {
		Ingest struct {
			Accepted, Refused uint64
			RefusedByCode     map[string]uint64 `json:"refused_by_code"`
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		getJSON(t, url+"/healthz", &h)
		if h.Ingest.Accepted >= 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if h.Ingest.Accepted < 1000 || h.Ingest.Refused != 0 {
		t.Errorf("the simulator's readings: %d accepted, %d refused %v", h.Ingest.Accepted, h.Ingest.Refused, h.Ingest.RefusedByCode)
	}
}

// gen --preset sample writes the sample city and says how large it is: its
// features, sensors and kilometres of pipe, the figures a preset is chosen
// by.
func TestGenPresetSample(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"gen", "--preset", "sample", "--out", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	c, err := city.ReadDir(dir, layers.Default(), city.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var features, sensors int
	var pipes, ducts float64
	if _, err := fmt.Sscanf(out.String()[strings.Index(out.String(), ": ")+2:], "%d features, %d sensors, %f km of pipes and %f km of ducts", &features, &sensors, &pipes, &ducts); err != nil {
		t.Fatalf("gen said %q: %v", out.String(), err)
	}
	if features != c.Count() || sensors != len(c.Features[layers.Sensor]) || pipes < 500 || ducts < 400 {
		t.Errorf("gen said %q; the city has %d features, %d sensors", out.String(), c.Count(), len(c.Features[layers.Sensor]))
	}
}
