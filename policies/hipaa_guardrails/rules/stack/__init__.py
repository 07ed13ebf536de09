"""stack guardrails."""
