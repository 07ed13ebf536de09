"""backup guardrails."""
