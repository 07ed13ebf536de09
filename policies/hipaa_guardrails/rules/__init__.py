"""One module per guardrail, grouped by service; each module defines ``RULE``."""
