-- History is events: every decision on the live state (an alarm raised,
-- changed, cleared, acknowledged; a new version of the rules) is a row of
-- journal_event, numbered by the journal's sequence among the readings.
-- Checkpoints of the live state bound what a start reads.
CREATE TABLE journal_event (
    lsn bigint NOT NULL DEFAULT nextval('journal_lsn') PRIMARY KEY,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    alarm bigint NOT NULL DEFAULT 0,
    body jsonb NOT NULL
);
CREATE INDEX journal_event_alarm ON journal_event (alarm) WHERE alarm <> 0;

CREATE TABLE journal_checkpoint (
    lsn bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    data bytea NOT NULL
);

-- Acknowledgements kept before become events, at the same place in the journal.
INSERT INTO journal_event (lsn, at, kind, alarm, body)
SELECT lsn, at, 'acknowledged', alarm,
       jsonb_build_object('kind', 'acknowledged', 'alarm', alarm, 'at', at, 'by', by_whom, 'note', note)
FROM alarm_ack;
DROP TABLE alarm_ack;
