// Package city reads and writes a city directory: a city.json with the city's
// name, bounds and centre, and one GeoJSON FeatureCollection per layer
// (<layer>.geojson). It checks features against the layer catalog as it reads.
package city
