// Package metrics holds the server's instruments: one Prometheus registry
// with the Go runtime and process collectors and onemap's own counters,
// gauges and histograms, served as the Prometheus text format by Handler.
//
// Callers record through small typed methods (Request, Tile,
// JournalCommit) and never write a label: every label takes its values
// from a fixed list (layers of the catalog, zoom 0 to 24, the refusal codes,
// the alarm levels and domains), anything else counts as "other", so that
// no request can make a new series of its own choosing. What other
// packages already count (ingest, the hub, the tile cache, MQTT, the
// alarms) is read from them when scraped, through the Watch methods, so
// that those packages know nothing of Prometheus.
package metrics
