package sim

import (
	"sync"
	"testing"

	"github.com/onemap/onemap/city"
)

var (
	sampleOnce sync.Once
	sample     *city.City
	sampleErr  error
)

// sampleCity reads the embedded sample city once for all tests.
func sampleCity(t testing.TB) *city.City {
	t.Helper()
	sampleOnce.Do(func() { sample, sampleErr = SampleCity() })
	if sampleErr != nil {
		t.Fatal(sampleErr)
	}
	return sample
}

func sampleScenarios(t testing.TB) []*Scenario {
	t.Helper()
	scs, err := SampleScenarios()
	if err != nil {
		t.Fatal(err)
	}
	return scs
}
