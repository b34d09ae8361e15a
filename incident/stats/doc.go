// Package stats computes the alarm analysis (报警分析) of the national guide
// for city safety-risk monitoring platforms: counts of alarms and incidents
// by day, month or year, false-alarm rates by sensor kind, rule and sensor,
// and the times an incident takes to be verified, published, received and
// resolved (p50 and p90, nearest rank).
//
// It reads plain records (Alarm, Incident) that the caller fills, from
// live.Alarm with FromLive and from an incident's events with FromIncident;
// it opens no store. Every query is validated first and refused with an
// *Error of a stable code (bad_period, bad_group, bad_range, ...). Results
// are JSON-friendly: periods in order, every period of the range present,
// zeros included, so that a chart draws them as they are.
//
// See docs/stats.md.
package stats
