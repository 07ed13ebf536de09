-- Only for an empty development database: audit rows are never dropped in an environment.
DROP SCHEMA audit CASCADE;
