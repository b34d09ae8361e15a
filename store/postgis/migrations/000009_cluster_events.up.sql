-- Several instances joined over NATS JetStream copy the decisions of their
-- history stream into journal_event, each once: a message's stream
-- sequence and an event's place in it name the event, so that a message
-- copied again (delivered to another instance after the first died) adds
-- nothing.
ALTER TABLE journal_event ADD COLUMN cluster_seq bigint, ADD COLUMN cluster_idx integer;
CREATE UNIQUE INDEX journal_event_cluster ON journal_event (cluster_seq, cluster_idx) WHERE cluster_seq IS NOT NULL;
