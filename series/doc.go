// Package series keeps the recent readings of many (sensor, metric) series in memory,
// compressed, and answers the curves operators look at: readings downsampled on the
// server into min, average and maximum per step.
//
// Each series is cut into chunks on the boundaries of fixed time windows
// (Options.ChunkSpan); a chunk takes whole windows until it holds 120 readings or
// spans 12 windows. The newest chunk stays as plain (time, value) pairs, so late
// readings are cheap to put in place; once it closes, its readings are packed bit by
// bit: delta-of-delta timestamps and, per chunk, either XOR-coded float64
// values as in Facebook's Gorilla paper or, when every value is a decimal with at most
// nine digits after the point (as readings rounded to an instrument's resolution are),
// delta-coded scaled integers. Values and millisecond timestamps come back exactly.
//
// The package holds no durable state: ingest makes readings durable elsewhere (a
// write-ahead log or a database) and replays them into a Store on start. It knows
// nothing of sensors, units or thresholds.
package series
