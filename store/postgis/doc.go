// Package postgis is the store on PostGIS, the system of record of a city
// that runs onemap on its own database: versioned migrations embedded in the
// binary, loading a city with COPY, features and whole vector tiles in SQL,
// and layer versions that follow changes made by any tool (LISTEN/NOTIFY).
// go-geom stays inside this package; the rest of onemap sees orb.
package postgis
