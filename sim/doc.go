// Package sim simulates the sensors of a city: it makes realistic readings
// for every sensor (daily cycles, noise, slow drift, dropouts, falling
// batteries), plays scenarios that drive chosen sensors into alarm, and
// streams the readings to onemap's ingest endpoint in batches.
//
// Readings are a pure function of the seed, the city, the scenarios and the
// time: the same options give the same readings, and the readings of a
// window are the same whether it is generated alone or as part of a longer
// one. Scenarios are data (JSON files, see LoadScenarios); each names its
// sensors by selectors resolved against the city, a timeline of values per
// metric, and the alarms it is expected to raise.
//
// The package knows nothing of the server or the rules engine: it speaks the
// ingest API's JSON and nothing else.
package sim
