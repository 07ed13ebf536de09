"""s3 guardrails (ready for when the stacks add s3 resources)."""
