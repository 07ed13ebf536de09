"""sns guardrails."""
