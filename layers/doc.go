// Package layers holds the layer catalog of the one map and the feature model:
// what each layer is called, what geometry and attributes its features carry,
// at which zooms it is drawn and how, and Source, through which the stores
// give features to the tile encoder. It holds no features and does no I/O.
package layers
