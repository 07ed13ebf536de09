"""C1: alarms notify someone, including when their data stops arriving."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present
from hipaa_guardrails.resource_types import COMPOSITE_ALARM, METRIC_ALARM
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(alarm: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    enabled = get(alarm.props, "actionsEnabled")
    if enabled is UNKNOWN:
        yield "actionsEnabled is unknown during preview (fails closed)"
    elif enabled is False:
        yield "actionsEnabled is false, so the alarm notifies nobody"
    if not is_present(get(alarm.props, "alarmActions")):
        yield "alarmActions is empty, so nobody is told when the alarm fires"
    needs_insufficient = bool(config["requireInsufficientDataActions"])
    if needs_insufficient and not is_present(get(alarm.props, "insufficientDataActions")):
        yield (
            "insufficientDataActions is empty, so nobody is told when the metric stops "
            "reporting (pack config requireInsufficientDataActions)"
        )


RULE = Guardrail(
    name="hipaa-cloudwatch-alarm-actions-enabled",
    catalog_id="C1",
    title="CloudWatch alarms have actions",
    description=(
        "CloudWatch alarms must have actions enabled, alarm actions, and (as the AWS Config HIPAA "
        "pack requires) insufficient-data actions."
    ),
    severity=Severity.HIGH,
    controls=("164.312(b)", "164.308(a)(6)(i)"),
    remediation=(
        "Set alarm_actions and insufficient_data_actions to the alert topic's ARN and leave "
        "actions_enabled unset or True."
    ),
    unknowns=(
        "An unknown actionsEnabled fails closed; an unknown action list or ARN that is set "
        "counts as present."
    ),
    scope=Scope.RESOURCE,
    resource_types=(METRIC_ALARM, COMPOSITE_ALARM),
    check=check,
    aws_config="cloudwatch-alarm-action-check",
    cdk_nag="HIPAA.Security-CloudWatchAlarmAction",
    checkov="CKV_AWS_319",
    url="https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html",
    config_properties={
        "requireInsufficientDataActions": {
            "type": "boolean",
            "default": True,
            "description": (
                "Whether alarms must also notify on INSUFFICIENT_DATA (AWS Config HIPAA: true)."
            ),
        }
    },
)
