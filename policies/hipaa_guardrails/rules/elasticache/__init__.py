"""elasticache guardrails (ready for when the stacks add elasticache resources)."""
