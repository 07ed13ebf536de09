"""kms guardrails."""
