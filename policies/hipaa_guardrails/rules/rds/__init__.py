"""rds guardrails (ready for when the stacks add rds resources)."""
