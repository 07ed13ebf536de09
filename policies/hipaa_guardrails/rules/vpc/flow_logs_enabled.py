"""Every VPC of the stack records its traffic: a flow log of ALL traffic attached to it."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import DEFAULT_VPC, FLOW_LOG, VPC
from hipaa_guardrails.rules.vpc._attached import attached_to
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    flow_logs = stack.of_type(FLOW_LOG)
    for vpc in stack.of_type(VPC, DEFAULT_VPC):
        attached = [f for f in flow_logs if attached_to(f, vpc)]
        if not attached:
            yield Finding(
                f"VPC {vpc.name} has no flow log of the stack (a FlowLog whose vpcId is this "
                "VPC's id), so connections to and from PHI systems leave no record",
                vpc.urn,
            )
        elif not any(get(f.props, "trafficType") == "ALL" for f in attached):
            kinds = ", ".join(describe(get(f.props, "trafficType")) for f in attached)
            yield Finding(
                f"VPC {vpc.name}'s flow logs record {kinds} traffic, not ALL: rejected "
                "connections are what an investigation looks for first",
                vpc.urn,
            )


RULE = Guardrail(
    name="hipaa-vpc-flow-logs-enabled",
    catalog_id="custom",
    title="VPC flow logs of all traffic",
    description="Every VPC must have a flow log that records ALL traffic (accepted and rejected).",
    severity=Severity.HIGH,
    controls=("164.308(a)(1)(ii)(D)", "164.312(b)"),
    remediation=(
        "Add an aws.ec2.FlowLog with vpc_id=<vpc>.id and traffic_type='ALL' delivering to an "
        "encrypted log group (the Network component does this for the VPC it creates)."
    ),
    unknowns=(
        "Judged from the engine's property dependencies, so a flow log whose vpcId was computed "
        "from the VPC counts while the id is unknown; an unknown traffic type fails closed."
    ),
    scope=Scope.STACK,
    resource_types=(VPC, DEFAULT_VPC),
    check=check,
    aws_config="vpc-flow-logs-enabled",
    cdk_nag="HIPAA.Security-VPCFlowLogsEnabled",
    checkov="CKV2_AWS_11",
    url="https://docs.aws.amazon.com/config/latest/developerguide/vpc-flow-logs-enabled.html",
)
