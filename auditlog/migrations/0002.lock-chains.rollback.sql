DROP FUNCTION audit.lock_chains(text[], text[]);
