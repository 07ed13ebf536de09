"""S3 object lock in COMPLIANCE mode: nobody, the account root included, can shorten or lift the
retention of audit evidence."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import S3_OBJECT_LOCK, S3_OBJECT_LOCK_V2
from hipaa_guardrails.spec import Guardrail, Resource, Scope

#: Modes from the strictest: a stack may require COMPLIANCE or accept GOVERNANCE too.
ACCEPTED = {"COMPLIANCE": ("COMPLIANCE",), "GOVERNANCE": ("COMPLIANCE", "GOVERNANCE")}


def check(lock: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    required = str(config["requiredMode"])
    mode = get(lock.props, "rule", "defaultRetention", "mode")
    if mode not in ACCEPTED[required]:
        yield (
            f"rule.defaultRetention.mode is {describe(mode)}; this stack requires {required}"
            + (
                " (governance-mode locks can be lifted by anyone with s3:BypassGovernanceRetention)"
                if mode == "GOVERNANCE"
                else ""
            )
        )


RULE = Guardrail(
    name="hipaa-s3-object-lock-compliance-mode",
    catalog_id="custom",
    title="S3 object lock in compliance mode",
    description=(
        "An S3 object lock configuration must lock new objects in the mode the stack requires: "
        "COMPLIANCE by default (nobody can shorten it), GOVERNANCE where the pack config allows."
    ),
    severity=Severity.HIGH,
    controls=("164.312(c)(1)", "164.316(b)(2)(i)"),
    judgement=True,
    remediation=(
        "Set rule.default_retention.mode='COMPLIANCE' on the aws.s3.BucketObjectLockConfiguration "
        "(config: trail.bucket.objectLockMode; prod must)."
    ),
    unknowns="An unknown mode fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(S3_OBJECT_LOCK, S3_OBJECT_LOCK_V2),
    check=check,
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html",
    config_properties={
        "requiredMode": {
            "type": "string",
            "enum": ["COMPLIANCE", "GOVERNANCE"],
            "default": "COMPLIANCE",
            "description": "The weakest object lock mode accepted (GOVERNANCE also accepts "
            "COMPLIANCE).",
        }
    },
)
