ALTER TABLE audit.event DROP CONSTRAINT event_check1;
ALTER TABLE audit.event ADD CONSTRAINT event_check1
    CHECK (source = 'read' OR sequence_number IS NOT NULL);
ALTER TABLE audit.event DROP CONSTRAINT event_admin_is_offboard;
ALTER TABLE audit.event DROP CONSTRAINT event_action_check;
ALTER TABLE audit.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('INSERT', 'MODIFY', 'REMOVE', 'TTL_EXPIRE', 'READ'));
ALTER TABLE audit.event DROP CONSTRAINT event_source_check;
ALTER TABLE audit.event ADD CONSTRAINT event_source_check CHECK (source IN ('stream', 'read'));
