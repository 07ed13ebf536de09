"""E10: no enabled cache user may run every command: +@all needs -@dangerous after it."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get
from hipaa_guardrails.resource_types import ELASTICACHE_USER
from hipaa_guardrails.spec import Guardrail, Resource, Scope

ALL_COMMANDS = ("+@all", "allcommands")
#: Commands that stream or wipe everything, whatever else the user may do.
NEVER = ("+@dangerous", "+monitor", "+flushall", "+keys", "+debug")


def check(user: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    access = get(user.props, "accessString")
    if access is UNKNOWN:
        yield "accessString is unknown during preview (fails closed)"
        return
    if not isinstance(access, str) or not access.strip():
        yield f"accessString is {describe(access)}"
        return
    rules = access.lower().split()
    if "on" not in rules:
        return  # a disabled user can run nothing
    everything = [i for i, rule in enumerate(rules) if rule in ALL_COMMANDS]
    if everything and "-@dangerous" not in rules[everything[-1] :]:
        yield f"accessString '{access}' grants every command; add -@dangerous after +@all"
    granted = sorted({rule for rule in rules if rule in NEVER})
    if granted:
        yield f"accessString '{access}' grants {', '.join(granted)}"


RULE = Guardrail(
    name="hipaa-elasticache-user-access-restricted",
    catalog_id="custom",
    title="ElastiCache users are not unrestricted",
    description=(
        "Enabled ElastiCache users must not hold every command: +@all only with -@dangerous "
        "after it, and never +@dangerous, MONITOR, FLUSHALL, KEYS or DEBUG."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(4)(ii)(B)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Grant the commands the role needs ('on ~<prefix>* -@all +get ...'); an operator user "
        "may use '+@all -@dangerous' plus the few dangerous commands it needs."
    ),
    unknowns="An unknown access string fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_USER,),
    check=check,
)
