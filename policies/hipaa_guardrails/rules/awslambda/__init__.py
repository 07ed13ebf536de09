"""Lambda guardrails (ready for stream consumers and other functions)."""
