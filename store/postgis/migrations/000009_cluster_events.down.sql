DROP INDEX IF EXISTS journal_event_cluster;
ALTER TABLE journal_event DROP COLUMN IF EXISTS cluster_seq, DROP COLUMN IF EXISTS cluster_idx;
