// Package spatial holds onemap's domain rules, in metres on the ground:
// what lies within a radius of a point or of any of several geometries
// (Nearby, NearbyAny), the pipe networks and the valves that isolate a
// burst pipe with whom it leaves without supply (ValveClosureReport), the
// underground spaces gas from a pipe would reach (AdjacentSpaces), the
// scenario an alarm may announce and what it would reach (LocateAlarm,
// AssessAlarm), and the derived layers gas_adjacent_space and risk_zone.
// Analyses gathers the analyses over one store, as the server asks them.
// Geometry is longitude and latitude; distances are measured on a local
// metric plane around each query, which is exact to millimetres within the
// few kilometres a query spans.
package spatial
