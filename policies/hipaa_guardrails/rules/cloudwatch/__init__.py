"""cloudwatch guardrails."""
