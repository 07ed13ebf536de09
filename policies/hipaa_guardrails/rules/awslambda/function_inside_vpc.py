"""L4: functions run inside a VPC, so the audit database and other private resources are reached
over private addresses only."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import LAMBDA_FUNCTION
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(function: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_present(get(function.props, "vpcConfig", "subnetIds")):
        yield "vpcConfig.subnetIds is not set, so the function runs outside the VPC"
    elif not is_present(get(function.props, "vpcConfig", "securityGroupIds")):
        yield "vpcConfig.securityGroupIds is not set; the function's traffic is not confined"


RULE = Guardrail(
    name="hipaa-lambda-function-inside-vpc",
    catalog_id="L4",
    title="Lambda function inside a VPC",
    description=(
        "Functions must be attached to the VPC's private subnets with a security group, so "
        "what they reach stays on private addresses."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(e)(1)"),
    remediation=(
        "Set vpc_config with the network's private subnet ids and the tier's security group "
        "(components/stream_consumer.py takes them from Network)."
    ),
    unknowns="Unknown subnet or security group ids that are set count as present.",
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_FUNCTION,),
    check=check,
    aws_config="lambda-inside-vpc",
    cdk_nag="HIPAA.Security-LambdaInsideVPC",
    checkov="CKV_AWS_117",
    url="https://docs.aws.amazon.com/config/latest/developerguide/lambda-inside-vpc.html",
)
