"""L1: functions cannot be invoked by anyone, and service invocations name their source."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import LAMBDA_PERMISSION
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(permission: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    principal = get(permission.props, "principal")
    if principal is UNKNOWN:
        yield "principal is unknown during preview (fails closed)"
    elif principal == "*":
        yield "principal is *; anyone could invoke the function"
    elif isinstance(principal, str) and principal.endswith(".amazonaws.com"):
        source = get(permission.props, "sourceArn")
        account = get(permission.props, "sourceAccount")
        if not is_present(source) and not is_present(account):
            yield (
                f"{principal} may invoke the function on behalf of any account: set sourceArn "
                "or sourceAccount"
            )


RULE = Guardrail(
    name="hipaa-lambda-permission-not-public",
    catalog_id="L1",
    title="Lambda not publicly invokable",
    description=(
        "Lambda permissions must not allow any principal, and service grants name a source."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation="Grant a named principal; for services set source_arn (and source_account).",
    unknowns="An unknown principal fails closed; an unknown source ARN that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_PERMISSION,),
    check=check,
    aws_config="lambda-function-public-access-prohibited",
    cdk_nag="HIPAA.Security-LambdaFunctionPublicAccessProhibited",
    checkov="CKV_AWS_301, CKV_AWS_364",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "lambda-function-public-access-prohibited.html"
    ),
)
