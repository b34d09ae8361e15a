// Package live holds the alarm rules of onemap and the alarm state machine:
// the catalog of metrics that sensors report, the rules that turn readings
// into graded alarms (thresholds per level, hysteresis, minimum duration,
// rate of change, values relative to an asset attribute), and the
// per-(sensor, metric) state that a reading moves from normal to an alarm
// level and back, or that silence makes offline.
//
// The default rules, the guide's thresholds, are embedded as
// JSON (rules/default.json) and parsed with [DefaultRules]; a city's own rules
// file is parsed with [ParseRules] and refused whole on any error.
//
// The package does no I/O, starts no goroutines and keeps no clock: callers
// (ingest, the alarm store, the live hub) hold one [State] per sensor and
// metric, pass each reading to [Rule.Evaluate] and call [Rule.CheckStale]
// periodically, and persist or publish the [Transition] they get back.
package live
