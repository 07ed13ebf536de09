-- The audit trail: one append-only, hash-chained row per write (from the table's stream) and per
-- PHI record read (from the data-access layer). See docs/audit-trail.md.
-- Runs as audit_owner; the roles audit_ingest and audit_reader exist beforehand (auditlog.roles).

CREATE SCHEMA audit;
REVOKE ALL ON SCHEMA audit FROM PUBLIC;
GRANT USAGE ON SCHEMA audit TO audit_ingest, audit_reader;

-- Partitioned by recorded_at (year), which the writer makes non-decreasing within a clinic's
-- chain: so every partition older than another holds a prefix of each chain, and a partition
-- past retention can be archived and detached while the rest still verifies from a checkpoint.
CREATE TABLE audit.event (
    clinic_id          text        NOT NULL,
    chain_seq          bigint      NOT NULL CHECK (chain_seq >= 1),
    recorded_at        timestamptz NOT NULL,
    event_id           text        NOT NULL,
    source             text        NOT NULL CHECK (source IN ('stream', 'read')),
    action             text        NOT NULL
                       CHECK (action IN ('INSERT', 'MODIFY', 'REMOVE', 'TTL_EXPIRE', 'READ')),
    event_at           timestamptz NOT NULL,
    sequence_number    text,
    entity_type        text,
    pk                 text        NOT NULL,
    sk                 text        NOT NULL,
    patient_id         text,
    principal          text        NOT NULL,
    access_pattern     text,
    purpose            text,
    changed_attributes text[]      NOT NULL DEFAULT '{}',
    phi_digests        jsonb       NOT NULL DEFAULT '{}',
    prev_hash          bytea       NOT NULL CHECK (length(prev_hash) = 32),
    row_hash           bytea       NOT NULL CHECK (length(row_hash) = 32),
    PRIMARY KEY (clinic_id, chain_seq, recorded_at),
    CHECK ((source = 'read') = (action = 'READ')),
    CHECK (source = 'read' OR sequence_number IS NOT NULL)
) PARTITION BY RANGE (recorded_at);

-- Duplicate detection (a replayed stream batch, a retried read batch) looks events up by id
-- under the clinic's chain lock; accounting looks rows up by patient.
CREATE INDEX event_event_id ON audit.event (event_id);
CREATE INDEX event_patient ON audit.event (clinic_id, patient_id, event_at);

-- Nobody changes an audit row: not the writers (no privilege), not the owner (this trigger).
CREATE FUNCTION audit.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit rows are append-only: % on %.% refused', TG_OP, TG_TABLE_SCHEMA,
        TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON audit.event
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();

-- One partition per year, each with its own TRUNCATE guard (TRUNCATE of a partition does not
-- fire the parent's statement triggers). Owner only; run ahead of time by maintenance.
CREATE FUNCTION audit.create_year_partition(year integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    name text := format('event_y%s', year);
BEGIN
    IF to_regclass(format('audit.%I', name)) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format(
        'CREATE TABLE audit.%I PARTITION OF audit.event FOR VALUES FROM (%L) TO (%L)',
        name, make_date(year, 1, 1), make_date(year + 1, 1, 1));
    EXECUTE format('REVOKE ALL ON audit.%I FROM PUBLIC', name);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit.%I FROM CURRENT_USER', name);
    EXECUTE format(
        'CREATE TRIGGER %I BEFORE TRUNCATE ON audit.%I '
        'FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()',
        name || '_no_truncate', name);
END
$$;
REVOKE ALL ON FUNCTION audit.create_year_partition(integer) FROM PUBLIC;

CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON audit.event
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

DO $$
BEGIN
    PERFORM audit.create_year_partition(y) FROM generate_series(2025, 2033) AS y;
END
$$;

-- Chains whose oldest partitions were archived (exported to the object-locked bucket, then
-- detached): verification of the clinic starts after through_seq, from through_hash.
CREATE TABLE audit.archive_checkpoint (
    clinic_id    text        NOT NULL,
    through_seq  bigint      NOT NULL,
    through_hash bytea       NOT NULL CHECK (length(through_hash) = 32),
    partition    text        NOT NULL,
    archived_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, through_seq)
);
CREATE TRIGGER archive_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit.archive_checkpoint
    FOR EACH ROW EXECUTE FUNCTION audit.refuse_change();
CREATE TRIGGER archive_checkpoint_no_truncate BEFORE TRUNCATE ON audit.archive_checkpoint
    FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change();

-- Privileges: writers INSERT and read only what chaining and duplicate detection need;
-- auditors read; UPDATE, DELETE and TRUNCATE are granted to nobody, the owner included.
REVOKE ALL ON audit.event, audit.archive_checkpoint FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit.event, audit.archive_checkpoint FROM CURRENT_USER;
GRANT INSERT ON audit.event TO audit_ingest;
GRANT SELECT (clinic_id, chain_seq, recorded_at, event_id, row_hash) ON audit.event
    TO audit_ingest;
GRANT SELECT ON audit.event, audit.archive_checkpoint TO audit_reader;
