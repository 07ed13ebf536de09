"""L2: functions have reserved concurrency, which bounds what they can consume (database
connections, throttling of other functions) and guarantees them capacity."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import LAMBDA_FUNCTION
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(function: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    reserved = get(function.props, "reservedConcurrentExecutions")
    if reserved is UNKNOWN:
        yield "reservedConcurrentExecutions is unknown during preview (fails closed)"
    elif reserved is MISSING or reserved == -1:
        yield "reservedConcurrentExecutions is not set; the function shares the account's pool"
    elif isinstance(reserved, int | float) and reserved < 1:
        yield f"reservedConcurrentExecutions is {reserved:g}; the function can never run"


RULE = Guardrail(
    name="hipaa-lambda-reserved-concurrency",
    catalog_id="L2",
    title="Lambda reserved concurrency set",
    description=(
        "Functions must reserve concurrency (at least 1), so they always have capacity and "
        "never exceed what their downstream can take."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(b)",),
    remediation="Set reserved_concurrent_executions (streamConsumer.reservedConcurrency).",
    unknowns="An unknown value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_FUNCTION,),
    check=check,
    aws_config="lambda-concurrency-check",
    cdk_nag="HIPAA.Security-LambdaConcurrency",
    checkov="CKV_AWS_115",
)
