package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/cluster"
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

// The NATS configuration of docs/deploy.md, made three servers on the
// loopback, forms a JetStream cluster, and an instance started with the
// doc's environment and command line joins it, is ready and holds every
// partition.
func TestDeployDocCluster(t *testing.T) {
	doc, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	_, conf, ok := strings.Cut(string(doc), "```conf\n")
	if !ok {
		t.Fatal("docs/deploy.md has no NATS configuration")
	}
	conf, _, _ = strings.Cut(conf, "```")
	free := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	}
	routes := []string{free(), free(), free()}
	var urls []string
	for i := range 3 {
		c := strings.ReplaceAll(conf, "server_name: nats1", "server_name: nats"+strconv.Itoa(i+1))
		client := free()
		c = strings.Replace(c, "listen: 0.0.0.0:4222", "listen: 127.0.0.1:"+client, 1)
		c = strings.Replace(c, "listen: 0.0.0.0:6222", "listen: 127.0.0.1:"+routes[i], 1)
		for j := range 3 {
			c = strings.Replace(c, "nats://nats"+strconv.Itoa(j+1)+":6222", "nats://127.0.0.1:"+routes[j], 1)
		}
		c = strings.Replace(c, "store_dir: /var/lib/nats", "store_dir: "+t.TempDir(), 1)
		if strings.Contains(c, "0.0.0.0") || strings.Contains(c, "/var/lib") {
			t.Fatalf("the configuration has an address or a path the test did not expect:\n%s", c)
		}
		path := filepath.Join(t.TempDir(), "nats-server.conf")
		if err := os.WriteFile(path, []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
		o, err := natsserver.ProcessConfigFile(path)
		if err != nil {
			t.Fatalf("the doc's NATS configuration: %v", err)
		}
		o.NoLog, o.NoSigs = true, true
		startNATS(t, o)
		urls = append(urls, "nats://127.0.0.1:"+client)
	}

	// The second unit: the instances'.
	units := strings.Split(string(doc), "```ini\n")
	if len(units) < 3 {
		t.Fatal("docs/deploy.md has no unit for the instances")
	}
	unit, _, _ := strings.Cut(units[2], "```")
	var env, args []string
	for _, line := range strings.Split(unit, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "Environment":
			name, _, _ := strings.Cut(v, "=")
			switch name {
			case "ONEMAP_NATS":
				env = append(env, name+"="+strings.Join(urls, ","))
			case "DATABASE_URL": // the sample city from memory instead
			default:
				t.Errorf("the instances' unit sets %s, which the test does not know", name)
			}
		case "ExecStart":
			args = strings.Fields(v)[1:]
		}
	}
	if len(args) == 0 || !slices.Contains(args, "--nats-replicas") {
		t.Fatalf("the instances' command line %q does not say how many replicas", args)
	}
	for i, a := range args {
		if a == "--addr" {
			args[i+1] = "127.0.0.1:0"
		}
	}
	args = append(args, "--data-dir", t.TempDir())
	var stderr syncBuffer
	// The cluster forms as the instance joins: it tries again.
	cmd, url := startCommand(t, env, &stderr, args...)
	waitUntil(t, 30*time.Second, "the instance ready with every partition", func() bool {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		var st clusterStatus
		getJSON(t, url+"/healthz", &st)
		return resp.StatusCode == 200 && len(st.Cluster.Partitions) == cluster.Partitions
	})
	stopChild(t, cmd)
}
