"""What the PR comment adds to the gate's verdict, per stack: cost, capacity, the change against
the base branch and the diagram of the changed part."""
