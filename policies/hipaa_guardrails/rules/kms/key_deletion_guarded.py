"""K2: a key cannot be disabled or deleted on a short fuse."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import KMS_KEY
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(key: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(key.props, "isEnabled")
    if enabled is UNKNOWN:
        yield "isEnabled is unknown during preview (fails closed)"
    elif enabled is False:
        yield "isEnabled is false; data encrypted under the key becomes unreadable"
    window = get(key.props, "deletionWindowInDays")
    minimum = int(config["minDeletionWindowDays"])
    if window is UNKNOWN:
        yield "deletionWindowInDays is unknown during preview (fails closed)"
    elif window is not MISSING and int(window) < minimum:
        yield (
            f"deletionWindowInDays is {window}; this stack requires at least {minimum} days to "
            "cancel a scheduled deletion"
        )


RULE = Guardrail(
    name="hipaa-kms-key-deletion-guarded",
    catalog_id="K2",
    title="KMS key deletion window",
    description=(
        "KMS keys must stay enabled and keep a deletion window long enough to catch a mistaken "
        "deletion before the data becomes unrecoverable."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(1)(ii)(B)", "164.312(a)(2)(iv)"),
    remediation=(
        "Leave is_enabled unset or True and set deletion_window_in_days=30 "
        "(config: keys.deletionWindowDays); protect the key resource in production."
    ),
    unknowns="An unknown enabled flag or window fails closed; an absent window is AWS's 30 days.",
    scope=Scope.RESOURCE,
    resource_types=(KMS_KEY,),
    check=check,
    aws_config="kms-cmk-not-scheduled-for-deletion",
    checkov="CKV_AWS_227",
    url="https://docs.aws.amazon.com/config/latest/developerguide/kms-cmk-not-scheduled-for-deletion.html",
    config_properties={
        "minDeletionWindowDays": {
            "type": "integer",
            "minimum": 7,
            "maximum": 30,
            "default": 30,
            "description": "Shortest deletion window allowed (AWS allows 7-30, default 30).",
        }
    },
)
