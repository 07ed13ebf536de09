"""``make diff``: what a change does to each stack's plan, against the base branch's plan."""
