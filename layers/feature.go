package layers

import "github.com/paulmach/orb"

// Feature is one map feature: a stable id unique across all layers, the layer
// it belongs to, a geometry in WGS84 longitude/latitude and its attributes.
type Feature struct {
	ID       uint64
	Layer    string
	Geometry orb.Geometry
	// MinZoom is the lowest zoom at which the feature is drawn; it lets the
	// mains of a network show at low zoom while its service pipes wait.
	MinZoom uint8
	Props   map[string]any
}

// IDBits is the number of low bits of a feature id that number features
// within a layer; the bits above hold the layer's code.
const IDBits = 40

// MakeID returns the id of the n-th feature of the layer with the given code.
func MakeID(code uint8, n uint64) uint64 {
	return uint64(code)<<IDBits | n&(1<<IDBits-1)
}

// CodeOf returns the layer code encoded in a feature id.
func CodeOf(id uint64) uint8 { return uint8(id >> IDBits) }
