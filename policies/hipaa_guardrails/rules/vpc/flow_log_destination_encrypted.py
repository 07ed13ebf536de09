"""Flow logs go to an encrypted log group of the stack, through a delivery role."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, describe, get, is_present
from hipaa_guardrails.resource_types import FLOW_LOG, LOG_GROUP
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    for flow_log in stack.of_type(FLOW_LOG):
        kind = get(flow_log.props, "logDestinationType")
        if kind not in (MISSING, "cloud-watch-logs"):
            yield Finding(
                f"flow log {flow_log.name} delivers to {describe(kind)}, not to a CloudWatch "
                "Logs group of the stack whose encryption and retention the pack can judge",
                flow_log.urn,
            )
            continue
        groups = [
            g
            for prop in ("logDestination", "logGroupName")
            for g in flow_log.deps_of(prop)
            if g.type == LOG_GROUP
        ]
        if not groups:
            yield Finding(
                f"flow log {flow_log.name}'s destination is not a log group of the stack, so "
                "nothing shows its records are encrypted with a customer-managed key",
                flow_log.urn,
            )
        for group in groups:
            if not is_present(get(group.props, "kmsKeyId")):
                yield Finding(
                    f"flow log {flow_log.name} delivers to log group {group.name}, which has no "
                    "kmsKeyId: flow records name the hosts and ports of PHI systems",
                    flow_log.urn,
                )
        if not is_present(get(flow_log.props, "iamRoleArn")):
            yield Finding(
                f"flow log {flow_log.name} has no iamRoleArn: CloudWatch Logs delivery needs a "
                "role that vpc-flow-logs.amazonaws.com assumes",
                flow_log.urn,
            )


RULE = Guardrail(
    name="hipaa-vpc-flow-log-destination-encrypted",
    catalog_id="custom",
    title="Flow logs to an encrypted log group",
    description=(
        "Every flow log must deliver, through a delivery role, to a CloudWatch Logs group of the "
        "stack encrypted with a customer-managed key."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(b)"),
    judgement=True,
    remediation=(
        "Set log_destination_type='cloud-watch-logs', log_destination=<log group>.arn (a group "
        "with kms_key_id) and iam_role_arn=<a role trusted by vpc-flow-logs.amazonaws.com>."
    ),
    unknowns=(
        "The destination is judged from the engine's property dependencies (its ARN is unknown "
        "during preview); an unknown key id or role ARN that is set counts as present."
    ),
    scope=Scope.STACK,
    resource_types=(FLOW_LOG,),
    check=check,
    aws_config="cloudwatch-log-group-encrypted",
    checkov="CKV_AWS_158",
    url="https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html",
)
