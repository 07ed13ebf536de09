-- depends: 0001.audit-event
-- One round trip instead of three for a writer's batch: take the chain lock of each clinic (in
-- clinic order, so two writers cannot deadlock), then return each clinic's head and which of the
-- batch's event ids are already stored. Runs with the caller's privileges (SECURITY INVOKER):
-- audit_ingest's column SELECT is all it reads.
CREATE FUNCTION audit.lock_chains(clinics text[], event_ids text[])
RETURNS TABLE (o_kind text, o_clinic text, o_seq bigint, o_at timestamptz, o_hash bytea,
               o_event_id text)
LANGUAGE plpgsql AS $$
DECLARE
    c text;
BEGIN
    FOR c IN SELECT DISTINCT x FROM unnest(clinics) AS x ORDER BY x LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended(c, 0));
    END LOOP;
    RETURN QUERY
        SELECT 'head', u.c, h.chain_seq, h.recorded_at, h.row_hash, NULL::text
        FROM unnest(clinics) AS u(c),
             LATERAL (SELECT e.chain_seq, e.recorded_at, e.row_hash FROM audit.event AS e
                      WHERE e.clinic_id = u.c ORDER BY e.chain_seq DESC LIMIT 1) AS h;
    RETURN QUERY
        SELECT 'seen', NULL::text, NULL::bigint, NULL::timestamptz, NULL::bytea, e.event_id
        FROM audit.event AS e WHERE e.event_id = ANY(event_ids);
END
$$;
REVOKE ALL ON FUNCTION audit.lock_chains(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION audit.lock_chains(text[], text[]) TO audit_ingest;
