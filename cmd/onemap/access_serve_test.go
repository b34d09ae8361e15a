package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/onemap/onemap/auth"
)

// A first start makes the admin and a device token, says each once in the
// log and leaves both 0600 in the data directory; the token sends
// readings, nothing else does, and a second start makes neither again.
func TestFirstStart(t *testing.T) {
	dir := t.TempDir()
	var log syncBuffer
	cmd, url := startLogged(t, &log, "--data-dir", dir, "--anonymous=false")
	files := map[string]string{}
	for _, name := range []string{auth.AdminPasswordFile, auth.DeviceTokenFile} {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v, want a file of mode 0600", name, fi, err)
		}
		b, _ := os.ReadFile(p)
		files[name] = strings.TrimSpace(string(b))
		if log.count("WARN", files[name]) != 1 {
			t.Errorf("the log does not show %s once:\n%s", name, log.String())
		}
	}
	// Nothing is open without credentials.
	if code, _ := get(t, url+"/api/v1/alarms"); code != 401 {
		t.Errorf("alarms without credentials: %d, want 401", code)
	}
	if code, _ := get(t, url+"/tiles/gas_pipe/14/13503/6655.mvt"); code != 401 {
		t.Errorf("a tile without credentials: %d, want 401", code)
	}
	if code, _ := get(t, url+"/"); code != 200 {
		t.Errorf("the web app's page: %d, want 200 (it holds the login)", code)
	}
	// The admin logs in with the password of the file.
	ws := apiLogInAs(t, url, "admin", files[auth.AdminPasswordFile])
	if code, b, _ := ws.do("GET", "/api/v1/users", ""); code != 200 || !strings.Contains(b, `"login":"admin"`) {
		t.Errorf("users as admin: %d %s", code, b)
	}
	code, b, _ := ws.do("GET", "/api/v1/sensors?domain=gas&kind=combustible_gas", "")
	var list struct{ Sensors []struct{ ID uint64 } }
	if json.Unmarshal([]byte(b), &list); code != 200 || len(list.Sensors) == 0 {
		t.Fatalf("sensors: %d %.200s", code, b)
	}
	// The device token sends readings and reads nothing.
	if code, _ := getAs(t, url+"/api/v1/sensors", files[auth.DeviceTokenFile]); code != 403 {
		t.Errorf("a device token reading the sensors: %d, want 403", code)
	}
	req, _ := http.NewRequest("POST", url+"/api/v1/readings", strings.NewReader(readingsBody(list.Sensors[0].ID, time.Now().Add(-time.Minute), 0, 1)))
	req.Header.Set("Authorization", "Bearer "+files[auth.DeviceTokenFile])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a reading with the first device token: %v %v", resp, err)
	}
	resp.Body.Close()
	stopChild(t, cmd)
	var log2 syncBuffer
	startLogged(t, &log2, "--data-dir", dir)
	if strings.Contains(log2.String(), "first start") {
		t.Errorf("a second start says it is the first:\n%s", log2.String())
	}
}

// With a certificate the server speaks HTTPS, sends HSTS and a Secure
// cookie, and --redirect-addr sends plain HTTP to it.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	redirect := freeAddr(t)
	var log syncBuffer
	_, url := startLogged(t, &log, "--data-dir", dir, "--tls-cert", cert, "--tls-key", key, "--redirect-addr", redirect)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("the server says it serves %s", url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("over TLS: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(url, "https://"))
	resp, err = client.Get("http://" + redirect + "/?view=screen")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://127.0.0.1:" + port + "/?view=screen"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("plain HTTP: %d to %q, want 308 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	pw, _ := os.ReadFile(filepath.Join(dir, auth.AdminPasswordFile))
	req, _ := http.NewRequest("POST", url+"/api/v1/session", strings.NewReader(`{"login":"admin","password":"`+strings.TrimSpace(string(pw))+`"}`))
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(resp.Cookies()) != 1 || !resp.Cookies()[0].Secure {
		t.Errorf("login over TLS: %d cookies %v, want one Secure", resp.StatusCode, resp.Cookies())
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "onemap test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// README's examples of the analyses and of readings and alarms answer as
// it says, with the tokens it says to use.
func TestReadmeAPIExamples(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("README's examples need curl:", err)
	}
	dir := t.TempDir()
	url := startServer(t, "--data-dir", dir)
	var out strings.Builder
	if err := run(context.Background(), []string{"tokens", "add", "--data-dir", dir, "--name", "gis", "--scopes", "read"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^token: (om_\S+)$`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("tokens add printed %q", out.String())
	}
	names := map[string]string{"localhost:8080": strings.TrimPrefix(url, "http://"), "onemap-data": dir}
	for _, tt := range []struct {
		section string
		wants   []string
	}{
		// The section runs on through "Readings and alarms".
		{"Analysis", []string{`"features":[{`, `"valves":[{`, `"accepted":1`, `"state":"active"`, `"warnings":[]`, `"group_by":"day","by":"domain"`}},
		{"OGC API – Features", []string{`"numberReturned":2,"timeStamp":`}},
	} {
		cmds := readmeShell(t, tt.section, names, "curl")
		if len(cmds) != len(tt.wants) {
			t.Fatalf("README's %s examples: %q", tt.section, cmds)
		}
		for i, words := range cmds {
			line := strings.Join(words, " ")
			sh := exec.Command("sh", "-c", line)
			sh.Env = append(os.Environ(), "READ_TOKEN="+m[1])
			got, err := sh.Output()
			if err != nil || !strings.Contains(string(got), tt.wants[i]) {
				t.Errorf("%s: %v\n%.300s\nwant %q in it", line, err, got, tt.wants[i])
			}
		}
	}
}
