"""``make diagram``: the architecture as a Mermaid diagram, generated from the plan."""
