package live

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func decodeAll(t *testing.T, body string) ([]*RawReading, []Refusal, error) {
	t.Helper()
	var got []*RawReading
	var refused Refusals
	n, err := DecodeBatch(strings.NewReader(body), func(i int, raw *RawReading) { got = append(got, raw) }, &refused)
	if n != len(got)+refused.Total {
		t.Errorf("read %d, but %d decoded and %d refused", n, len(got), refused.Total)
	}
	return got, refused.List, err
}

func TestDecodeBatch(t *testing.T) {
	t.Run("Array", func(t *testing.T) {
		got, refused, err := decodeAll(t, ` [{"sensor":1,"metric":"flow","value":2,"ts":3}, {"sensor":1,"metric":7}, {"sensor":"GAS-1","metric":"ch4_lel","value":"NaN","ts":"2026-01-01T00:00:00Z"}] `)
		if err != nil || len(got) != 2 || len(refused) != 1 || refused[0].Index != 1 || refused[0].Code != CodeMalformed {
			t.Fatalf("got %d, refused %+v, err %v", len(got), refused, err)
		}
		if got[1].Metric != "ch4_lel" || string(got[1].Sensor) != `"GAS-1"` {
			t.Errorf("second reading %+v", got[1])
		}
	})
	t.Run("NDJSON", func(t *testing.T) {
		got, refused, err := decodeAll(t, "{\"sensor\":1,\"metric\":\"flow\",\"value\":2,\"ts\":3}\n\n{\"sensor\":1,\"metric\":7}\n{\"sensor\":2,\"metric\":\"flow\",\"value\":2,\"ts\":3}\n")
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
	// Bodies that are not readings end the batch with ErrBody; what came
	// before them is passed on.
	good := `{"sensor":1,"metric":"flow","value":2,"ts":3}`
	for name, tc := range map[string]struct {
		body   string
		before int
	}{
		"EmptyObject":         {`{}`, 0},
		"Null":                {`null`, 0},
		"Number":              {`42`, 0},
		"String":              {`"readings"`, 0},
		"ArrayOfEmptyObject":  {`[{}]`, 0},
		"ArrayOfNull":         {`[null]`, 0},
		"ArrayOfNumberAfter":  {`[` + good + `, 7, ` + good + `]`, 1},
		"ArrayOfArray":        {`[` + good + `, [1]]`, 1},
		"OtherFields":         {`[{"temperature": 3}]`, 0},
		"NDJSONNotJSON":       {good + "\nnot json\n" + good, 1},
		"NDJSONEmptyObject":   {good + "\n{}\n" + good, 1},
		"NDJSONTrailingJunk":  {good + "\n" + good + " x\n", 1},
		"MillionEmptyObjects": {"[" + strings.Repeat("{},", 1e6) + "{}]", 0},
	} {
		t.Run("Bad"+name, func(t *testing.T) {
			got, _, err := decodeAll(t, tc.body)
			if !errors.Is(err, ErrBody) || len(got) != tc.before {
				t.Errorf("got %d readings, err %v; want %d and ErrBody", len(got), err, tc.before)
			}
		})
	}
	t.Run("TooMany", func(t *testing.T) {
		for _, body := range []string{
			"[" + strings.Repeat(good+",", MaxBatch) + good + "]",
			strings.Repeat(good+"\n", MaxBatch+5),
		} {
			got, _, err := decodeAll(t, body)
			if !errors.Is(err, ErrTooMany) || len(got) != MaxBatch {
				t.Errorf("got %d readings, err %v; want %d and ErrTooMany", len(got), err, MaxBatch)
			}
		}
		got, _, err := decodeAll(t, "["+strings.Repeat(good+",", MaxBatch-1)+good+"]")
		if err != nil || len(got) != MaxBatch {
			t.Errorf("a batch of exactly %d: got %d, err %v", MaxBatch, len(got), err)
		}
	})
}

func TestRefusalsCapped(t *testing.T) {
	var rs Refusals
	calls := 0
	for i := range 1000 {
		code := CodeUnknownSensor
		if i%4 == 0 {
			code = CodeMalformed
		}
		rs.Add(i, code, func() string { calls++; return "why" })
	}
	if len(rs.List) != MaxRefusals || rs.List[MaxRefusals-1].Index != MaxRefusals-1 || calls != MaxRefusals {
		t.Errorf("kept %d (last %+v), %d messages made; want the first %d", len(rs.List), rs.List[len(rs.List)-1], calls, MaxRefusals)
	}
	if rs.Total != 1000 || rs.ByCode[CodeMalformed] != 250 || rs.ByCode[CodeUnknownSensor] != 750 {
		t.Errorf("total %d, by code %v", rs.Total, rs.ByCode)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("界", 100)
	if got := Clip(long); got != strings.Repeat("界", 64)+"…" {
		t.Errorf("Clip of 100 characters: %q", got)
	}
	if got := Clip("GAS-000920"); got != "GAS-000920" {
		t.Errorf("Clip of a short value: %q", got)
	}
	if got := Clip(strings.Repeat("a", 64)); got != strings.Repeat("a", 64) {
		t.Errorf("Clip of exactly 64: %q", got)
	}
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
	f.Add(`[{}]`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, body string) {
		n := 0
		var refused Refusals
		total, _ := DecodeBatch(strings.NewReader(body), func(i int, raw *RawReading) {
			ParseValue(raw.Value)
			ParseTime(raw.TS)
			n++
		}, &refused)
		if n+refused.Total != total || total > MaxBatch {
			t.Fatalf("%d decoded + %d refused != %d read", n, refused.Total, total)
		}
		for _, r := range refused.List {
			if r.Index < 0 || r.Index >= total || r.Code == "" {
				t.Fatalf("refusal %+v of %d", r, total)
			}
		}
	})
}

// README's table of refusal codes is RefusalCodes, both ways.
func TestReadmeRefusalCodes(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "| refusal code | when |\n|---|---|\n")
	if !ok {
		t.Fatal("README has no table of refusal codes")
	}
	readme := map[string]string{}
	for _, line := range strings.Split(rest, "\n") {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		code := strings.Trim(strings.TrimSpace(cells[0]), "`")
		if _, dup := readme[code]; dup {
			t.Errorf("README lists %s twice", code)
		}
		readme[code] = strings.TrimSpace(cells[1])
	}
	for _, c := range RefusalCodes() {
		when, ok := readme[c.Code]
		switch {
		case !ok:
			t.Errorf("README does not list refusal code %s", c.Code)
		case when != c.When:
			t.Errorf("README says %s is when %q; the code says %q", c.Code, when, c.When)
		}
		delete(readme, c.Code)
	}
	for code := range readme {
		t.Errorf("README lists refusal code %s, which ingest does not give", code)
	}
}

// Every Code constant of the package is a refusal code in RefusalCodes.
func TestRefusalCodesDeclared(t *testing.T) {
	listed := map[string]bool{}
	for _, c := range RefusalCodes() {
		listed[c.Code] = true
	}
	files, _ := filepath.Glob("*.go")
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Code") || i >= len(vs.Values) {
						continue
					}
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						if v, _ := strconv.Unquote(lit.Value); !listed[v] {
							t.Errorf("%s: %s = %s is not in refusalCodes", name, id.Name, lit.Value)
						}
					}
				}
			}
		}
	}
}
