package jsonerr

import (
	"encoding/json"
	"testing"
)

func TestLine(t *testing.T) {
	var v struct{ A int }
	for data, want := range map[string]int{"{\n\"A\": 1,\n": 3, "{\n\"A\": \"x\"}": 2, "{\n\n!": 3} {
		err := json.Unmarshal([]byte(data), &v)
		if got, ok := Line([]byte(data), err); !ok || got != want {
			t.Errorf("%q: line %d %v, want %d (%v)", data, got, ok, want, err)
		}
	}
	if _, ok := Line(nil, json.Unmarshal([]byte("{}"), new(int))); !ok {
		t.Error("a type error names its place")
	}
}
