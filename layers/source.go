package layers

import (
	"context"

	"github.com/paulmach/orb"
)

// Source gives the features of a layer. A store implements it; the tile
// encoder reads through it, so neither knows the other.
type Source interface {
	// Features calls fn for each feature of the layer whose bounds intersect b
	// and that is drawn at zoom z, stopping at the first error fn returns.
	Features(ctx context.Context, layer string, b orb.Bound, z int, fn func(*Feature) error) error
	// Version returns the version of a layer's data; it grows on every change.
	Version(layer string) uint64
}
