// Package store names what onemap asks of its storage. Store gathers the
// features (layers.Source, which the tile encoder reads) and what the server
// asks of them, so that the embedded default (store/memory) and PostGIS stand
// behind the same calls and pass one conformance suite (store/storetest).
package store

import (
	"context"
	"errors"

	"github.com/onemap/onemap/city"
	"github.com/onemap/onemap/layers"
	"github.com/paulmach/orb"
)

// ErrNotFound is returned for a feature id no layer holds.
var ErrNotFound = errors.New("store: not found")

// Store is the storage behind a running onemap.
type Store interface {
	layers.Source
	// Feature returns the feature with the given id, or ErrNotFound.
	Feature(ctx context.Context, id uint64) (*layers.Feature, error)
	// Meta describes the city the store holds.
	Meta() city.Meta
	// Items returns a page of the layer's features that meet the query,
	// in id order, and how many meet it in all (matched), as
	// layers.Query.Matches says; a derived layer holds none.
	Items(ctx context.Context, layer string, q layers.Query) (page []*layers.Feature, matched int, err error)
	// Count returns the number of features of a layer.
	Count(ctx context.Context, layer string) (int, error)
	// Bounds returns the box in longitude and latitude that holds every
	// feature of a layer; false when the layer has none.
	Bounds(ctx context.Context, layer string) (orb.Bound, bool, error)
	// Close releases what the store holds.
	Close() error
}
