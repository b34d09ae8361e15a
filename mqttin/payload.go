package mqttin

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// splitPayload reads a message's payload, one reading object, a JSON array
// of readings, or NDJSON (or any run of JSON values, each possibly spread
// over lines), into its readings. ok is false when the payload is not JSON
// throughout; such a payload is given to ingest as it came, which refuses
// what it cannot read. When sensor is not empty, each reading object
// without a "sensor" gets that one.
func splitPayload(payload []byte, sensor string) (elems []json.RawMessage, ok bool) {
	p := bytes.TrimSpace(payload)
	if len(p) == 0 {
		return nil, true
	}
	if p[0] == '[' {
		if err := json.Unmarshal(p, &elems); err != nil {
			return nil, false
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(p))
		for {
			var m json.RawMessage
			err := dec.Decode(&m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, false
			}
			elems = append(elems, m)
		}
	}
	if sensor != "" {
		for i, e := range elems {
			elems[i] = withSensor(e, sensor)
		}
	}
	return elems, true
}

// withSensor returns a reading object with its "sensor" set to sensor when
// it has none; anything else comes back as it was.
func withSensor(e json.RawMessage, sensor string) json.RawMessage {
	if len(e) == 0 || e[0] != '{' {
		return e
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(e, &obj) != nil {
		return e
	}
	if s, has := obj["sensor"]; has && string(bytes.TrimSpace(s)) != "null" {
		return e
	}
	obj["sensor"], _ = json.Marshal(sensor)
	out, err := json.Marshal(obj)
	if err != nil {
		return e
	}
	return out
}

// topicSensor returns the sensor a topic names: its last level that the
// filter matched with a wildcard, or "" when no wildcard matched a level.
// With the filter onemap/readings/# the topic onemap/readings/GAS-000123
// names GAS-000123; with devices/+/telemetry, devices/GAS-000123/telemetry
// does too.
func topicSensor(filter, topic string) string {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		if _, f, ok := strings.Cut(rest, "/"); ok {
			filter = f
		}
	}
	fl := strings.Split(filter, "/")
	tl := strings.Split(topic, "/")
	sensor := ""
	for i, f := range fl {
		switch {
		case f == "#":
			if len(tl) > i {
				sensor = tl[len(tl)-1]
			}
			return sensor
		case i >= len(tl):
			return sensor
		case f == "+":
			sensor = tl[i]
		}
	}
	return sensor
}

// maxTokenLen bounds an envelope's token: onemap's are 46 bytes.
const maxTokenLen = 256

// openEnvelope splits a payload {"token": "…", "readings": […]} into its
// token and readings; ok is false for anything else.
func openEnvelope(payload []byte) (token string, readings []byte, ok bool) {
	var env struct {
		Token    string          `json:"token"`
		Readings json.RawMessage `json:"readings"`
	}
	p := bytes.TrimSpace(payload)
	if len(p) == 0 || p[0] != '{' || json.Unmarshal(p, &env) != nil || env.Token == "" || len(env.Token) > maxTokenLen || len(env.Readings) == 0 {
		return "", nil, false
	}
	return env.Token, env.Readings, true
}
