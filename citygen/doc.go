// Package citygen generates the sample city: a plausible, fully synthetic
// district of a Chinese city with a river, lakes, a road grid, bridges,
// buildings, a utility tunnel, the gas, water, drainage and heating networks,
// power and telecom ducts, protective targets, hazards and the sensors that
// watch them. The same Options always give the same city, byte for byte.
//
// It lays everything out in a local metric plane (metres east and north of
// the city's south-west corner) and converts to longitude and latitude at
// the end. It does no I/O except in Write.
package citygen
