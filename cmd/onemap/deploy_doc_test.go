package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/onemap/onemap/store/storetest"
)

// The systemd unit of docs/deploy.md runs: its environment and its
// command line, with the paths and the address made the test's, start a
// server that is ready and stops cleanly on the unit's signal, and its
// file limit exceeds the connections the server takes.
func TestDeployDocUnit(t *testing.T) {
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, unit, ok := strings.Cut(string(doc), "```ini\n")
	if !ok {
		t.Fatal("docs/deploy.md has no unit")
	}
	unit, _, _ = strings.Cut(unit, "```")
	dir, data := t.TempDir(), t.TempDir()
	if err := city.Write(dir, storetest.City(), layers.Default()); err != nil {
		t.Fatal(err)
	}
	var env, args []string
	limit := 0
	for _, line := range strings.Split(unit, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "Environment":
			name, val, _ := strings.Cut(v, "=")
			switch name {
			case "ONEMAP_CITY":
				val = dir
			case "ONEMAP_DATA_DIR":
				val = data
			}
			env = append(env, name+"="+val)
		case "ExecStart":
			args = strings.Fields(v)[1:]
		case "LimitNOFILE":
			limit, _ = strconv.Atoi(v)
		case "KillSignal":
			if v != "SIGTERM" {
				t.Errorf("KillSignal=%s: the server drains on SIGTERM", v)
			}
		}
	}
	if limit <= DefaultMaxConns {
		t.Errorf("LimitNOFILE=%d, want more than --max-conns' %d", limit, DefaultMaxConns)
	}
	for i, a := range args {
		if a == "--addr" {
			args[i+1] = "127.0.0.1:0"
		}
	}
	var stderr syncBuffer
	cmd, url := startCommand(t, env, &stderr, args...)
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("readyz %d\n%s", resp.StatusCode, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(data, "city.snap")); err != nil {
		t.Errorf("the data directory has no snapshot: %v", err)
	}
	stopChild(t, cmd)
}
