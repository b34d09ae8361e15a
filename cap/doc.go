// Package cap holds Common Alerting Protocol 1.2 alert documents (OASIS
// CAP 1.2, on which GB/T 35965.1 is based) made from an incident's warning:
// the alert and its info blocks in Chinese (zh-CN) and English, the area as
// CAP polygons and circles, the references an update or a cancel carries,
// the checks the standard puts on each element, and an Atom (RFC 4287) feed
// of the current alerts.
//
// Elements are written in the order of the CAP 1.2 schema, in the namespace
// urn:oasis:names:tc:emergency:cap:1.2; times carry their offset, no
// fractional seconds, and UTC as "-00:00".
package cap
