"""R7: PostgreSQL logs are exported to CloudWatch for audit."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

REQUIRED = ("postgresql", "upgrade")


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    engine = get(db.props, "engine")
    if engine is UNKNOWN:
        yield "engine is unknown during preview (fails closed)"
        return
    if not (isinstance(engine, str) and "postgres" in engine):
        raise NotApplicable("only PostgreSQL engines are judged")
    exports = items_of(get(db.props, "enabledCloudwatchLogsExports"))
    if UNKNOWN in exports:
        yield "enabledCloudwatchLogsExports is unknown during preview (fails closed)"
        return
    missing = [log for log in REQUIRED if log not in exports]
    if missing:
        shown = ", ".join(missing)
        yield f"enabledCloudwatchLogsExports lacks {shown}; database activity is not kept"


RULE = Guardrail(
    name="hipaa-rds-logs-exported",
    catalog_id="R7",
    title="RDS PostgreSQL logs exported",
    description="PostgreSQL databases must export their logs to CloudWatch Logs.",
    severity=Severity.MEDIUM,
    controls=("164.312(b)",),
    remediation="Set enabled_cloudwatch_logs_exports=['postgresql', 'upgrade'].",
    unknowns="An unknown engine or export list fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    aws_config="rds-logging-enabled",
    cdk_nag="HIPAA.Security-RDSLoggingEnabled",
    checkov="CKV_AWS_129",
    url="https://docs.aws.amazon.com/config/latest/developerguide/rds-logging-enabled.html",
)
