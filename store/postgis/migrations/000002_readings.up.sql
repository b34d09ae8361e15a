-- The live journal on PostGIS: every accepted reading and acknowledgement,
-- in the order they were accepted (journal_lsn), readings partitioned by
-- month of their time so old months go with a DROP TABLE.
CREATE SEQUENCE journal_lsn;

CREATE TABLE reading (
    lsn bigint NOT NULL DEFAULT nextval('journal_lsn'),
    sensor bigint NOT NULL,
    metric text NOT NULL,
    ts timestamptz NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL DEFAULT '',
    PRIMARY KEY (sensor, metric, ts)
) PARTITION BY RANGE (ts);

CREATE TABLE alarm_ack (
    lsn bigint NOT NULL DEFAULT nextval('journal_lsn') PRIMARY KEY,
    alarm bigint NOT NULL,
    at timestamptz NOT NULL,
    by_whom text NOT NULL,
    note text NOT NULL DEFAULT ''
);
