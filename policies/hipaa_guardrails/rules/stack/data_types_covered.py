"""Coverage: no data-bearing resource type escapes the pack unjudged."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.coverage import must_be_judged
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def guarded_types() -> frozenset[str]:
    """Every type some resource rule of the registry judges."""
    from hipaa_guardrails.registry import all_rules  # the registry imports this module

    return frozenset(t for rule in all_rules() for t in rule.resource_types)


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    known = guarded_types() | frozenset(config["reviewedTypes"])
    for resource in stack.resources:
        if resource.type in known or not must_be_judged(resource.type):
            continue
        yield Finding(
            f"{resource.type} ({resource.name}) holds or carries data but no guardrail of this "
            "pack judges that type; add rules for it before it ships",
            resource.urn,
        )


RULE = Guardrail(
    name="hipaa-stack-data-types-covered",
    catalog_id="custom",
    title="Every data-bearing type has guardrails",
    description=(
        "Every data-bearing AWS resource type in the stack must be one the pack has guardrails "
        "for, so a new resource or a new variant of a known one cannot pass silently."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(1)(ii)(B)", "164.312(a)(2)(iv)"),
    judgement=True,
    remediation=(
        "Add a rule module for the type under policies/hipaa_guardrails/rules/ (see "
        "policies/README.md), or if it holds no data, add it to SUPPORTING_TYPES in coverage.py."
    ),
    unknowns="Judged by resource type only; unknown values do not matter.",
    scope=Scope.STACK,
    check=check,
    config_properties={
        "reviewedTypes": {
            "type": "array",
            "items": {"type": "string", "pattern": "^[a-z0-9-]+:[A-Za-z0-9/]+:[A-Za-z0-9]+$"},
            "uniqueItems": True,
            "default": [],
            "description": (
                "Extra types reviewed as safe for this stack without a dedicated rule; each is "
                "a documented decision (prefer exemptions, which carry a ticket)."
            ),
        }
    },
)
