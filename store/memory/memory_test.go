package memory_test

import (
	"testing"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/store"
	"github.com/onemap/onemap/store/memory"
	"github.com/onemap/onemap/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, c *city.City) store.Store { return memory.New(c) })
}
