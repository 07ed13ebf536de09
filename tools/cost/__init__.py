"""``make cost``: the monthly cost of a stack, per resource, from its plan and usage model."""
