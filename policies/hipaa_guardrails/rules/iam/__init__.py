"""iam guardrails."""
