"""Secrets Manager guardrails."""
