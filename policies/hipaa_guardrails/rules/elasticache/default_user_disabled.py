"""E8: a user group's "default" user is disabled, so unauthenticated connections get nothing."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import ELASTICACHE_USER, ELASTICACHE_USER_GROUP
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    users = stack.of_type(ELASTICACHE_USER)
    by_id = {get(u.props, "userId"): u for u in users}
    for group in stack.of_type(ELASTICACHE_USER_GROUP):
        members = [by_id.get(i) for i in items_of(get(group.props, "userIds")) if i is not UNKNOWN]
        # Members whose ids are unknown during preview are found through the dependencies.
        members += [u for u in group.deps_of("userIds") if u not in members]
        defaults = [u for u in members if u is not None and get(u.props, "userName") == "default"]
        if not defaults:
            yield Finding(
                f"user group {group.name} has no 'default' user of this stack, so ElastiCache's "
                "own default user (on, no password, every command) serves unauthenticated clients",
                group.urn,
            )
            continue
        for user in defaults:
            access = get(user.props, "accessString")
            if access is UNKNOWN or not isinstance(access, str):
                yield Finding(
                    f"the default user {user.name}'s access string is unknown (fails closed)",
                    group.urn,
                )
            elif not access.strip().lower().startswith("off"):
                yield Finding(
                    f"user group {group.name}'s default user {user.name} is enabled "
                    f"('{access}'); its access string must start with 'off'",
                    group.urn,
                )


RULE = Guardrail(
    name="hipaa-elasticache-default-user-disabled",
    catalog_id="custom",
    title="ElastiCache default user disabled",
    description=(
        "Every ElastiCache user group must contain a stack-defined 'default' user whose access "
        "string starts with 'off'."
    ),
    severity=Severity.HIGH,
    controls=("164.312(d)", "164.312(a)(1)"),
    judgement=True,
    remediation=(
        "Create a user with user_name='default', access_string='off ~* -@all' and a password, "
        "and put it in the user group."
    ),
    unknowns=(
        "Members are matched by userId, or through the group's property dependencies when ids are "
        "unknown; an unknown access string fails closed."
    ),
    scope=Scope.STACK,
    check=check,
)
