package data

import (
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
)

func TestSampleCity(t *testing.T) {
	c, err := city.Read(SampleCity(), layers.Default())
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta.Name == "" || len(c.Features[layers.GasPipe]) == 0 {
		t.Errorf("sample city %q has %d gas pipes", c.Meta.Name, len(c.Features[layers.GasPipe]))
	}
}
