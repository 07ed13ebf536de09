"""C3: log groups are encrypted with a customer-managed key."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import get, is_present
from hipaa_guardrails.resource_types import LOG_GROUP
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if not is_present(get(group.props, "kmsKeyId")):
        yield "kmsKeyId is not set, so log events (which may hold PHI) use only service encryption"


RULE = Guardrail(
    name="hipaa-cloudwatch-log-group-encrypted",
    catalog_id="C3",
    title="Log group encrypted with KMS",
    description="CloudWatch log groups must be encrypted with a customer-managed KMS key.",
    severity=Severity.HIGH,
    controls=("164.312(a)(2)(iv)", "164.312(e)(2)(ii)"),
    remediation=(
        "Set kms_key_id to a key whose policy lets logs.<region>.amazonaws.com use it "
        "(with an aws:SourceArn condition for the log group)."
    ),
    unknowns="An unknown key id that is set counts as present.",
    scope=Scope.RESOURCE,
    resource_types=(LOG_GROUP,),
    check=check,
    aws_config="cloudwatch-log-group-encrypted",
    cdk_nag="HIPAA.Security-CloudWatchLogGroupEncrypted",
    checkov="CKV_AWS_158",
    url="https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-log-group-encrypted.html",
)
