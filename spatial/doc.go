// Package spatial answers the questions an operator asks when an alarm
// fires, in metres on the ground: what lies within a radius of a point or a
// feature, the closest point of each, and (in later files) the gas
// neighbourhood and valve closure. Geometry is longitude and latitude;
// distances are measured on a local metric plane around each query, which
// is exact to millimetres within the few kilometres a query spans.
package spatial
