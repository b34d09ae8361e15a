CREATE TABLE alarm_ack (
    lsn bigint NOT NULL DEFAULT nextval('journal_lsn') PRIMARY KEY,
    alarm bigint NOT NULL,
    at timestamptz NOT NULL,
    by_whom text NOT NULL,
    note text NOT NULL DEFAULT ''
);
INSERT INTO alarm_ack (lsn, alarm, at, by_whom, note)
SELECT lsn, alarm, at, coalesce(body->>'by', ''), coalesce(body->>'note', '')
FROM journal_event WHERE kind = 'acknowledged';
DROP TABLE journal_checkpoint;
DROP TABLE journal_event;
