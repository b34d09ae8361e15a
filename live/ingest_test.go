package live

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func decodeAll(t *testing.T, body string) ([]*RawReading, []Refusal, error) {
	t.Helper()
	var got []*RawReading
	refused, _, err := DecodeBatch(strings.NewReader(body), func(i int, raw *RawReading) { got = append(got, raw) })
	return got, refused, err
}

func TestDecodeBatch(t *testing.T) {
	t.Run("Array", func(t *testing.T) {
		got, refused, err := decodeAll(t, ` [{"sensor":1,"metric":"flow","value":2,"ts":3}, 7, {"sensor":"GAS-1","metric":"ch4_lel","value":"NaN","ts":"2026-01-01T00:00:00Z"}] `)
		if err != nil || len(got) != 2 || len(refused) != 1 || refused[0].Index != 1 || refused[0].Code != CodeMalformed {
			t.Fatalf("got %d, refused %+v, err %v", len(got), refused, err)
		}
		if got[1].Metric != "ch4_lel" || string(got[1].Sensor) != `"GAS-1"` {
			t.Errorf("second reading %+v", got[1])
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		got, refused, err := decodeAll(t, "{\"sensor\":1,\"metric\":\"flow\",\"value\":2,\"ts\":3}\n\nnot json\n{\"sensor\":2,\"metric\":\"flow\",\"value\":2,\"ts\":3}\n")
		if err != nil || len(got) != 2 || len(refused) != 1 || refused[0].Index != 1 {
			t.Fatalf("got %d, refused %+v, err %v", len(got), refused, err)
		}
	})
	t.Run("BrokenArray", func(t *testing.T) {
		got, _, err := decodeAll(t, `[{"sensor":1,"metric":"flow","value":2,"ts":3}, {"sensor":`)
		if !errors.Is(err, ErrBody) || len(got) != 1 {
			t.Errorf("got %d, err %v; want the first reading and ErrBody", len(got), err)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		got, refused, err := decodeAll(t, "  ")
		if err != nil || len(got) != 0 || len(refused) != 0 {
			t.Errorf("%d %v %v", len(got), refused, err)
		}
	})
}

func TestParseValueAndTime(t *testing.T) {
	for in, code := range map[string]string{`12.5`: "", `-3`: "", `"NaN"`: CodeNotFinite, `"Infinity"`: CodeNotFinite, `1e999`: CodeNotFinite,
		`"12"`: CodeMalformed, `null`: CodeMalformed, `true`: CodeMalformed, ``: CodeMalformed} {
		_, ref := ParseValue(json.RawMessage(in))
		if got := ""; ref != nil {
			got = ref.Code
			if got != code {
				t.Errorf("value %s: code %q, want %q", in, got, code)
			}
		} else if code != "" {
			t.Errorf("value %s: accepted, want %q", in, code)
		}
	}
	ts, ref := ParseTime(json.RawMessage(`1767225600000`))
	if ref != nil || !ts.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("epoch ms: %v %v", ts, ref)
	}
	ts, ref = ParseTime(json.RawMessage(`"2026-01-01T08:00:00+08:00"`))
	if ref != nil || !ts.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("RFC 3339: %v %v", ts, ref)
	}
	for _, bad := range []string{`"yesterday"`, `1.5`, `-1`, `null`, `"2026-01-01"`, `1e20`} {
		if _, ref := ParseTime(json.RawMessage(bad)); ref == nil || ref.Code != CodeBadTimestamp {
			t.Errorf("ts %s: %v, want bad_timestamp", bad, ref)
		}
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add(`[{"sensor":1,"metric":"flow","value":2,"ts":3}]`)
	f.Add("{\"sensor\":1}\n{\"value\":\"NaN\"}\n")
	f.Add(`[1,2,{"ts":"x"}`)
	f.Fuzz(func(t *testing.T, body string) {
		n := 0
		refused, total, _ := DecodeBatch(strings.NewReader(body), func(i int, raw *RawReading) {
			ParseValue(raw.Value)
			ParseTime(raw.TS)
			n++
		})
		if n+len(refused) != total {
			t.Fatalf("%d decoded + %d refused != %d read", n, len(refused), total)
		}
		for _, r := range refused {
			if r.Index < 0 || r.Index >= total || r.Code == "" {
				t.Fatalf("refusal %+v of %d", r, total)
			}
		}
	})
}
