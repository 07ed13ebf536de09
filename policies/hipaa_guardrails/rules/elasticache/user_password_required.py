"""E9: every cache user authenticates: no nopass, no no-password-required."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, describe, get
from hipaa_guardrails.resource_types import ELASTICACHE_USER
from hipaa_guardrails.spec import Guardrail, Resource, Scope

AUTHENTICATING = ("password", "iam")


def check(user: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if get(user.props, "noPasswordRequired") is True:
        yield "noPasswordRequired is true: anyone may AUTH as this user"
    mode = get(user.props, "authenticationMode", "type")
    if mode not in AUTHENTICATING:
        yield f"authenticationMode.type is {describe(mode)}; use password or iam"
    access = get(user.props, "accessString")
    if access is UNKNOWN:
        yield "accessString is unknown during preview (fails closed)"
    elif isinstance(access, str) and "nopass" in access.split():
        yield "accessString contains nopass: the user needs no password"


RULE = Guardrail(
    name="hipaa-elasticache-user-password-required",
    catalog_id="custom",
    title="ElastiCache users authenticate",
    description="ElastiCache users must authenticate with a password or IAM (no nopass).",
    severity=Severity.HIGH,
    controls=("164.312(d)", "164.312(a)(2)(i)"),
    judgement=True,
    remediation=(
        "Set authentication_mode={type: 'password', passwords: [<secret>]} (or iam), "
        "no_password_required=False and no 'nopass' in the access string."
    ),
    unknowns="An unknown authentication type or access string fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(ELASTICACHE_USER,),
    check=check,
)
