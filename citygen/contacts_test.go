package citygen

import (
	"regexp"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/onemap/onemap/layers"
)

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// Every target, hazard and bridge names a contact by full name and a
// mobile number, and the contacts are many different people.
func TestContacts(t *testing.T) {
	_, c := defaultCity(t)
	cat := layers.Default()
	for _, l := range cat.Layers() {
		fs := c.Features[l.ID]
		if !slices.Contains(contactLayers, l.ID) {
			for _, f := range fs {
				if _, ok := f.Props["contact"]; ok {
					t.Fatalf("%s %d has a contact", l.ID, f.ID)
				}
			}
			continue
		}
		if !l.HasPersonal() {
			t.Errorf("%s: the catalog does not mark its contacts personal", l.ID)
		}
		names, phones := map[string]bool{}, map[string]bool{}
		for _, f := range fs {
			name, _ := f.Props["contact"].(string)
			phone, _ := f.Props["contact_phone"].(string)
			if n := utf8.RuneCountInString(name); n < 2 || n > 3 || !slices.Contains(surnames, name[:len("王")]) {
				t.Errorf("%s %d: contact %q is not a full Chinese name", l.ID, f.ID, name)
			}
			if !mobile.MatchString(phone) {
				t.Errorf("%s %d: contact phone %q is not a mobile number", l.ID, f.ID, phone)
			}
			names[name], phones[phone] = true, true
		}
		if len(fs) == 0 || len(names) < len(fs)*3/4 || len(phones) != len(fs) {
			t.Errorf("%s: %d features, %d names, %d phone numbers", l.ID, len(fs), len(names), len(phones))
		}
	}
}

// A contact comes from the feature's id, not from where the feature
// falls in the generator's streams: the same id gets the same contact in
// a city of another scale, whose features are otherwise laid out anew.
func TestContactsFollowIDs(t *testing.T) {
	_, c := defaultCity(t)
	big, err := Generate(Options{Seed: DefaultSeed, Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	same := 0
	for _, l := range contactLayers {
		byID := map[uint64]*layers.Feature{}
		for _, f := range big.Features[l] {
			byID[f.ID] = f
		}
		for _, f := range c.Features[l] {
			g, ok := byID[f.ID]
			if !ok {
				continue
			}
			if g.Props["contact"] != f.Props["contact"] || g.Props["contact_phone"] != f.Props["contact_phone"] {
				t.Fatalf("%s %d: contact %v %v at scale 1, %v %v at scale 2", l, f.ID, f.Props["contact"], f.Props["contact_phone"], g.Props["contact"], g.Props["contact_phone"])
			}
			same++
		}
	}
	if same == 0 {
		t.Fatal("no feature id at both scales")
	}
}
