"""cloudtrail guardrails."""
