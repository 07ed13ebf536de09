"""L5: function environment variables are encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import LAMBDA_FUNCTION
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(function: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    variables = get(function.props, "environment", "variables")
    if variables is not UNKNOWN and not is_present(variables):
        raise NotApplicable("the function has no environment variables")
    if not is_present(get(function.props, "kmsKeyArn")):
        yield "kmsKeyArn is not set, so environment variables use the AWS managed key"


RULE = Guardrail(
    name="hipaa-lambda-environment-encrypted-with-cmk",
    catalog_id="L5",
    title="Lambda environment encrypted with a customer-managed key",
    description=(
        "Functions with environment variables must encrypt them with a customer-managed key."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(a)(2)(iv)",),
    remediation="Set kms_key_arn on the function; keep secrets in Secrets Manager, not in env.",
    unknowns="Unknown variables count as present; an unknown key ARN that is set counts.",
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_FUNCTION,),
    check=check,
    checkov="CKV_AWS_173",
)
