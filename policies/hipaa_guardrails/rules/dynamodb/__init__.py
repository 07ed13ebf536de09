"""dynamodb guardrails."""
