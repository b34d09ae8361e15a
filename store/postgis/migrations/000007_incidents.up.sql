-- The linked response (package incident): every step of an incident, every
-- delivery and receipt of its warnings, every task and field report is a
-- row of incident_record, numbered in the order it was taken. Records are
-- never changed or removed: the archive of an incident is its records.
CREATE TABLE incident_record (
    seq bigint PRIMARY KEY,
    incident text NOT NULL,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    body json NOT NULL -- kept as written, byte for byte
);
CREATE INDEX incident_record_incident ON incident_record (incident, seq);

-- Files attached to incidents (photos from the field, reports), kept by the
-- SHA-256 of their bytes.
CREATE TABLE incident_attachment (
    id text PRIMARY KEY,
    type text NOT NULL,
    size integer NOT NULL CHECK (size >= 0),
    data bytea NOT NULL,
    created timestamptz NOT NULL,
    created_by text NOT NULL DEFAULT ''
);
