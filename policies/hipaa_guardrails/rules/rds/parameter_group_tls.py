"""R10: PostgreSQL refuses connections without TLS, and TLS below 1.2."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN
from hipaa_guardrails.resource_types import RDS_PARAMETER_GROUP
from hipaa_guardrails.rules.rds._parameters import postgres_parameters
from hipaa_guardrails.spec import Guardrail, Resource, Scope

ALLOWED_MINIMUM = ("TLSv1.2", "TLSv1.3")


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    parameters = postgres_parameters(group)
    if parameters is None:
        yield "family or parameters are unknown during preview (fails closed)"
        return
    force = parameters.get("rds.force_ssl", MISSING)
    if force is UNKNOWN or str(force) != "1":
        shown = "not set" if force is MISSING else force
        yield f"rds.force_ssl is {shown}; clients could connect without TLS"
    minimum = parameters.get("ssl_min_protocol_version", MISSING)
    if minimum is UNKNOWN or minimum not in ALLOWED_MINIMUM:
        shown = "not set" if minimum is MISSING else minimum
        yield f"ssl_min_protocol_version is {shown}; require TLSv1.2 or TLSv1.3"


RULE = Guardrail(
    name="hipaa-rds-parameter-group-tls",
    catalog_id="R10",
    title="RDS PostgreSQL forces TLS 1.2 or later",
    description=(
        "PostgreSQL parameter groups must set rds.force_ssl=1 and ssl_min_protocol_version to "
        "TLSv1.2 or TLSv1.3."
    ),
    severity=Severity.HIGH,
    controls=("164.312(e)(1)", "164.312(e)(2)(i)"),
    remediation=(
        "Add parameters rds.force_ssl=1 and ssl_min_protocol_version=TLSv1.2 to the instance's "
        "parameter group."
    ),
    unknowns="An unknown family, parameter list or value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_PARAMETER_GROUP,),
    check=check,
    aws_config="rds-postgres-instance-encrypted-in-transit",
    checkov="CKV2_AWS_69",
    url=(
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/"
        "PostgreSQL.Concepts.General.SSL.html"
    ),
)
