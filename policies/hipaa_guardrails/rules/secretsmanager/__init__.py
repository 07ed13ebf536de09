"""secretsmanager guardrails."""
