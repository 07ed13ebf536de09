"""Which VPC a resource belongs to, judged from the engine's property dependencies (ids of new
VPCs are unknown during preview) or, for a VPC that exists already, from a literal id."""

from __future__ import annotations

from hipaa_guardrails.props import get
from hipaa_guardrails.spec import Resource


def attached_to(resource: Resource, vpc: Resource, prop: str = "vpcId") -> bool:
    """True if ``resource``'s ``prop`` was computed from ``vpc`` or names its literal id."""
    if vpc in resource.deps_of(prop):
        return True
    given = get(resource.props, prop)
    known = get(vpc.props, "id")
    return isinstance(given, str) and isinstance(known, str) and given == known
