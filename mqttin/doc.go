// Package mqttin feeds readings that sensors and upstream IoT platforms
// publish to an MQTT broker into the live ingest path.
//
// A Subscriber connects to the broker with MQTT 5, subscribes to a topic
// filter (onemap/readings/# by default) and hands each message's payload,
// one reading object, a JSON array of readings or NDJSON, to the same ingest
// as POST /api/v1/readings, with the same checks and refusal codes. When a
// reading has no "sensor", the sensor is the last topic level a wildcard
// matched (onemap/readings/GAS-000123).
//
// Delivery is at least once. With QoS 1 a message is acknowledged to the
// broker only after ingest has stored its readings; when the store fails,
// the batch is tried again, unacknowledged, until it is stored. The broker
// keeps the session while onemap is away; a reading delivered twice is
// accepted once. Messages received together are ingested as one batch, so
// they share the journal's fsync.
//
// The subscriber reconnects with exponential backoff when the broker goes
// away, and stops when its context is cancelled. docs/mqtt.md tells how to
// point onemap at a broker.
package mqttin
