package layers

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskPersonal(t *testing.T) {
	tests := []struct {
		kind MaskKind
		in   string
		want string
	}{
		{MaskName, "王建伟", "王**"},
		{MaskName, "王伟", "王*"},
		{MaskName, "欧阳娜娜", "欧**"},
		{MaskName, " 李娜 ", "李*"},
		{MaskName, "张", "*"},
		{MaskName, "John Smith", "J**"},
		{MaskName, "(王伟)", Masked},
		{MaskName, "\xff王伟", Masked},
		{MaskName, "", ""},
		{MaskName, "   ", ""},
		{MaskPhone, "13812345678", "138****5678"},
		{MaskPhone, "138-1234-5678", "138****5678"},
		{MaskPhone, "+86 138 1234 5678", "138****5678"},
		{MaskPhone, "008613812345678", "138****5678"},
		{MaskPhone, "0551-65123456", "055****3456"},
		{MaskPhone, "65123456", "****3456"},
		{MaskPhone, "12345", Masked},
		{MaskPhone, "王伟 13812345678", "138****5678"},
		{MaskPhone, "", ""},
		{MaskAll, "市燃气集团", Masked},
		{MaskKind("other"), "13812345678", Masked},
	}
	for _, tt := range tests {
		if got := MaskPersonal(tt.kind, tt.in); got != tt.want {
			t.Errorf("MaskPersonal(%q, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
	}
}

// digits returns the ASCII digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// FuzzMaskPersonal checks, for any input, that masking does not panic,
// gives valid UTF-8 and shows no more of the value than its kind allows:
// a name's first character, a phone number's first three and last four
// digits with at least four hidden.
func FuzzMaskPersonal(f *testing.F) {
	for _, s := range []string{"王建伟", "王伟", "张", "13812345678", "+86 138-1234-5678", "0551-65123456", "65123456", "", " ", "\xff\xfe", "a\x00b", "1234567890123456789012"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		trimmed := strings.TrimSpace(in)
		for _, kind := range []MaskKind{MaskAll, MaskName, MaskPhone} {
			out := MaskPersonal(kind, in)
			if !utf8.ValidString(out) {
				t.Fatalf("MaskPersonal(%q, %q) = %q: not UTF-8", kind, in, out)
			}
			if (out == "") != (trimmed == "") {
				t.Fatalf("MaskPersonal(%q, %q) = %q: empty only for an empty value", kind, in, out)
			}
			if out == "" || out == Masked {
				continue
			}
			switch kind {
			case MaskName:
				first, _ := utf8.DecodeRuneInString(trimmed)
				rest := out
				if out != "*" {
					r, size := utf8.DecodeRuneInString(out)
					if r != first {
						t.Fatalf("MaskPersonal(name, %q) = %q: does not keep the first character", in, out)
					}
					rest = out[size:]
				}
				if rest != "*" && rest != "**" {
					t.Fatalf("MaskPersonal(name, %q) = %q: shows more than the first character", in, out)
				}
			case MaskPhone:
				shown := digits(out)
				if len(shown)+strings.Count(out, "*") != len(out) {
					t.Fatalf("MaskPersonal(phone, %q) = %q: shows more than digits", in, out)
				}
				all := digits(in)
				if len(all)-len(shown) < 4 {
					t.Fatalf("MaskPersonal(phone, %q) = %q: hides fewer than four digits", in, out)
				}
				if !strings.HasSuffix(all, shown[len(shown)-4:]) {
					t.Fatalf("MaskPersonal(phone, %q) = %q: the last four digits are not the number's", in, out)
				}
				if len(shown) == 7 && !strings.Contains(all, shown[:3]) {
					t.Fatalf("MaskPersonal(phone, %q) = %q: the first three digits are not the number's", in, out)
				}
			default:
				t.Fatalf("MaskPersonal(%q, %q) = %q, want %q", kind, in, out, Masked)
			}
		}
	})
}

func TestMaskProps(t *testing.T) {
	l, err := Default().Layer(ProtectiveTarget)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]any{"name": "滨湖第一小学", "kind": "school", "people_day": 1742.0, "contact": "王建伟", "contact_phone": "13812345678"}
	before := maps.Clone(stored)
	got := MaskProps(l, stored)
	want := map[string]any{"name": "滨湖第一小学", "kind": "school", "people_day": 1742.0, "contact": "王**", "contact_phone": "138****5678"}
	if !maps.Equal(got, want) {
		t.Errorf("MaskProps = %v, want %v", got, want)
	}
	if !maps.Equal(stored, before) {
		t.Errorf("MaskProps changed the stored attributes: %v", stored)
	}
	got["name"] = "changed"
	if stored["name"] != "滨湖第一小学" {
		t.Error("MaskProps returned the stored map")
	}

	// A phone number loaded as a number is masked all the same; values
	// of other types show nothing.
	got = MaskProps(l, map[string]any{"contact_phone": 13812345678.0, "contact": []any{"王建伟"}})
	if got["contact_phone"] != "138****5678" || got["contact"] != Masked {
		t.Errorf("MaskProps(odd types) = %v", got)
	}
	if MaskProps(l, nil) != nil {
		t.Error("MaskProps(nil) is not nil")
	}

	dropped := DropPersonal(l, stored)
	if _, ok := dropped["contact"]; ok {
		t.Errorf("DropPersonal kept contact: %v", dropped)
	}
	if _, ok := dropped["contact_phone"]; ok {
		t.Errorf("DropPersonal kept contact_phone: %v", dropped)
	}
	if dropped["name"] != "滨湖第一小学" || !maps.Equal(stored, before) {
		t.Errorf("DropPersonal = %v, stored = %v", dropped, stored)
	}
}

func TestPersonalFields(t *testing.T) {
	c := Default()
	want := map[string]bool{ProtectiveTarget: true, Hazard: true, Bridge: true}
	for _, l := range c.Layers() {
		if l.HasPersonal() != want[l.ID] {
			t.Errorf("%s: HasPersonal = %v", l.ID, l.HasPersonal())
		}
		if !want[l.ID] {
			continue
		}
		if got := l.PersonalFields(); len(got) != 2 || got[0] != "contact" || got[1] != "contact_phone" {
			t.Errorf("%s: personal fields = %v", l.ID, got)
		}
		if f, _ := l.Field("contact"); f.Mask != MaskName {
			t.Errorf("%s.contact: mask %q", l.ID, f.Mask)
		}
		if f, _ := l.Field("contact_phone"); f.Mask != MaskPhone {
			t.Errorf("%s.contact_phone: mask %q", l.ID, f.Mask)
		}
	}
	// The catalog's JSON (GET /catalog) marks the fields.
	l, _ := c.Layer(Hazard)
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name":"contact_phone","type":"String","title":{"zh":"联系电话","en":"Contact phone"},"personal":true,"mask":"phone"`) {
		t.Errorf("hazard JSON does not mark contact_phone personal: %s", b)
	}
	if strings.Contains(string(b), `"name":"name","type":"String","title":{"zh":"名称","en":"Name"},"required":true,"personal"`) {
		t.Errorf("hazard JSON marks name personal: %s", b)
	}
}
