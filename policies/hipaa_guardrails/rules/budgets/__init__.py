"""budgets guardrails."""
