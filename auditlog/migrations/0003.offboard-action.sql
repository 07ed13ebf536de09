-- depends: 0002.lock-chains
-- Administrative acts on a clinic (source 'admin'): OFFBOARD records that a clinic's PHI key was
-- scheduled for deletion and that its PHI was proven unreadable (make offboard-clinic). Such an
-- event has no stream sequence number; it is never a read.
ALTER TABLE audit.event DROP CONSTRAINT event_source_check;
ALTER TABLE audit.event ADD CONSTRAINT event_source_check
    CHECK (source IN ('stream', 'read', 'admin'));
ALTER TABLE audit.event DROP CONSTRAINT event_action_check;
ALTER TABLE audit.event ADD CONSTRAINT event_action_check
    CHECK (action IN ('INSERT', 'MODIFY', 'REMOVE', 'TTL_EXPIRE', 'READ', 'OFFBOARD'));
ALTER TABLE audit.event ADD CONSTRAINT event_admin_is_offboard
    CHECK ((source = 'admin') = (action = 'OFFBOARD'));
ALTER TABLE audit.event DROP CONSTRAINT event_check1;
ALTER TABLE audit.event ADD CONSTRAINT event_check1
    CHECK (source IN ('read', 'admin') OR sequence_number IS NOT NULL);
