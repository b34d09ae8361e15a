package directory

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestDefaultCoversSampleCity(t *testing.T) {
	d := Default()
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	for _, tc := range []struct{ file, prop string }{{"sensor.geojson", "owner"}, {"district.geojson", "name"}} {
		data, err := os.ReadFile(filepath.Join("..", "data", "sample-city", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &fc); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range fc.Features {
			name, _ := f.Properties[tc.prop].(string)
			if name == "" || seen[name] {
				continue
			}
			seen[name] = true
			if tc.prop == "owner" {
				u, ok := d.Unit(name)
				if !ok || u.Kind != KindOwner {
					t.Errorf("sensor owner %s: not an owner unit of the directory", name)
				}
				if len(d.Members(u.ID)) < 2 {
					t.Errorf("owner %s has fewer than 2 people", name)
				}
				continue
			}
			r := d.Resolve(Query{Domain: "gas", Districts: []string{name}, Level: 1})
			if !slices.ContainsFunc(r, func(r Recipient) bool { return slices.Contains(r.Reasons, ReasonDistrict) }) {
				t.Errorf("district %s: nobody told", name)
			}
		}
		if len(seen) == 0 {
			t.Fatalf("%s: no %s read", tc.file, tc.prop)
		}
	}
}

func units(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		if !slices.Contains(out, r.Person.Unit) {
			out = append(out, r.Person.Unit)
		}
	}
	return out
}

func TestResolveByLevel(t *testing.T) {
	d := Default()
	q := Query{Domain: "gas", OwnerUnit: "滨湖燃气公司", Districts: []string{"方兴街道"}, UnitsInArea: []string{"滨湖水务集团", "gas_co"}, Level: 4}
	if got, want := units(d.Resolve(q)), []string{"gas_co", "dept_urban"}; !slices.Equal(got, want) {
		t.Errorf("level IV: units %v, want %v", got, want)
	}
	q.Level = 1
	rs := d.Resolve(q)
	want := []string{"gas_co", "water_co", "dept_urban", "district_gov", "office_fangxing", "ema", "experts_gas"}
	if got := units(rs); !slices.Equal(got, want) {
		t.Errorf("level I: units %v, want %v", got, want)
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Person.ID] {
			t.Errorf("%s listed twice", r.Person.ID)
		}
		seen[r.Person.ID] = true
		if r.Person.Unit == "gas_co" && !slices.Equal(r.Reasons, []Reason{ReasonOwner, ReasonInArea}) {
			t.Errorf("%s: reasons %v, want owner and in_area", r.Person.ID, r.Reasons)
		}
		if len(r.Channels) == 0 {
			t.Errorf("%s: no channels", r.Person.ID)
		}
		if slices.Contains(r.Channels, ChannelWebhook) && (r.Webhook == nil || r.Webhook.URL == "") {
			t.Errorf("%s: webhook channel without the unit's webhook", r.Person.ID)
		}
	}
	again := d.Resolve(q)
	for i := range rs {
		if rs[i].Person.ID != again[i].Person.ID {
			t.Fatalf("order differs at %d: %s then %s", i, rs[i].Person.ID, again[i].Person.ID)
		}
	}
	if r := d.Resolve(Query{Domain: "gas", Level: 5}); r != nil {
		t.Errorf("level 5: %d recipients, want none", len(r))
	}
	// the sensors' "tunnel" is the utility tunnel
	if got := units(d.Resolve(Query{Domain: "tunnel", OwnerUnit: "滨湖管廊公司", Level: 4})); !slices.Equal(got, []string{"tunnel_co", "dept_housing"}) {
		t.Errorf("tunnel level IV: %v", got)
	}
}

func TestMasked(t *testing.T) {
	d := Default()
	p, _ := d.Person("gas_co.2")
	m, _ := d.Masked().Person("gas_co.2")
	if m.Name != "曹**" || m.Phone != p.Phone[:3]+"****"+p.Phone[len(p.Phone)-4:] {
		t.Errorf("masked %q %q from %q %q", m.Name, m.Phone, p.Name, p.Phone)
	}
	if p2, _ := d.Person("gas_co.2"); p2.Name != p.Name {
		t.Error("Masked changed the directory")
	}
	if r := d.Resolve(Query{Domain: "gas", OwnerUnit: "gas_co", Level: 4})[0].Masked(); strings.Contains(r.Person.Phone, p.Phone[3:7]) {
		t.Errorf("recipient masked phone %q", r.Person.Phone)
	}
}

func TestSuperior(t *testing.T) {
	d := Default()
	for _, tc := range []struct{ from, to string }{
		{"gas_co.2", "gas_co.1"},     // superior
		{"gas_co.1", "dept_urban.1"}, // head → parent unit's head
		{"dept_urban.1", "ema.1"},
	} {
		if p, ok := d.Superior(tc.from); !ok || p.ID != tc.to {
			t.Errorf("superior of %s: %s %v, want %s", tc.from, p.ID, ok, tc.to)
		}
	}
	if p, ok := d.Superior("ema.1"); ok {
		t.Errorf("superior of the top: %s", p.ID)
	}
}

func TestReadRefuses(t *testing.T) {
	base := string(Sample())
	for _, tc := range []struct{ name, old, new, code, entry string }{
		{"unknown field", `"kind": "emergency"`, `"kind": "emergency", "colour": "red"`, "bad_json", ""},
		{"unknown kind", `"kind": "emergency"`, `"kind": "police"`, "bad_unit", "units[0] ema"},
		{"bad unit ref", `"unit": "gas_co"`, `"unit": "gas_corp"`, "bad_ref", "people["},
		{"bad superior", `"superior": "gas_co.1"`, `"superior": "nobody"`, "bad_ref", "gas_co.2"},
		{"bad parent", `"parent": "ema"`, `"parent": "none"`, "bad_ref", "dept_urban"},
		{"unknown domain", `["gas", "heating", "bridge"]`, `["gas", "nuclear"]`, "bad_unit", "dept_urban"},
		{"in_app without login", `"login": "operator1", `, ``, "bad_person", "ema.2"},
		{"duplicate id", `"id": "ema.2"`, `"id": "ema.1"`, "duplicate", "ema.1"},
		{"bad channel", `"channels": ["sms", "voice"]`, `"channels": ["fax"]`, "bad_person", ""},
		{"a level twice", `{"level": 4, "groups": ["owner", "department"]}`, `{"level": 3, "groups": ["owner"]}`, "bad_levels", "levels[3]"},
		{"unknown group", `"groups": ["owner", "department"]`, `"groups": ["press"]`, "bad_levels", "levels[3]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := strings.Replace(base, tc.old, tc.new, 1)
			if s == base {
				t.Fatalf("%q not in the sample", tc.old)
			}
			_, err := Read(strings.NewReader(s))
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code || !strings.Contains(e.Entry, tc.entry) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want code %s naming %q", err, tc.code, tc.entry)
			}
		})
	}
	big := strings.NewReader(`{"units":[` + strings.Repeat(" ", MaxFileSize) + `]}`)
	if _, err := Read(big); err == nil || !strings.Contains(err.Error(), "too_large") {
		t.Errorf("an oversized file: %v", err)
	}
}

func TestFileStore(t *testing.T) {
	ctx := context.Background()
	d, err := FileStore{}.Directory(ctx)
	if err != nil || len(d.File().Units) != len(Default().File().Units) {
		t.Fatalf("default store: %v", err)
	}
	path := filepath.Join(t.TempDir(), "directory.json")
	if err := os.WriteFile(path, Sample(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (FileStore{Path: path}).Directory(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"units":[],"people":[],"levels":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := (FileStore{Path: path}).Directory(ctx); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), path) {
		t.Errorf("an invalid file: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(Sample())
	f.Add([]byte(`{"units":[],"people":[],"levels":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Read(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for l := 1; l <= 4; l++ {
			d.Resolve(Query{Domain: "gas", OwnerUnit: "gas_co", Level: l})
		}
		for _, p := range d.File().People {
			d.Superior(p.ID)
		}
	})
}
