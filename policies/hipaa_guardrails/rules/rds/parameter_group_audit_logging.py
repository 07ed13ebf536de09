"""R7 (parameter group): connections and DDL/role changes are logged (pgaudit)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN
from hipaa_guardrails.resource_types import RDS_PARAMETER_GROUP
from hipaa_guardrails.rules.rds._parameters import postgres_parameters
from hipaa_guardrails.spec import Guardrail, Resource, Scope

#: pgaudit classes that must be logged: schema changes and role/privilege changes.
REQUIRED_CLASSES = ("ddl", "role")


def _on(value: Any) -> bool:
    return isinstance(value, str | int) and str(value).lower() in ("1", "on", "true")


def check(group: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    parameters = postgres_parameters(group)
    if parameters is None:
        yield "family or parameters are unknown during preview (fails closed)"
        return
    for name in ("log_connections", "log_disconnections"):
        value = parameters.get(name, MISSING)
        if value is UNKNOWN or not _on(value):
            yield f"{name} is {'not set' if value is MISSING else value}; sessions go unrecorded"
    libraries = parameters.get("shared_preload_libraries", MISSING)
    loaded = [lib.strip() for lib in libraries.split(",")] if isinstance(libraries, str) else []
    if "pgaudit" not in loaded:
        yield "shared_preload_libraries does not load pgaudit"
    classes = parameters.get("pgaudit.log", MISSING)
    logged = [c.strip().lower() for c in classes.split(",")] if isinstance(classes, str) else []
    missing = [c for c in REQUIRED_CLASSES if c not in logged and "all" not in logged]
    if missing:
        yield f"pgaudit.log does not log {', '.join(missing)}"


RULE = Guardrail(
    name="hipaa-rds-parameter-group-audit-logging",
    catalog_id="R7",
    title="RDS PostgreSQL logs sessions and DDL/role changes",
    description=(
        "PostgreSQL parameter groups must log connections and disconnections and load pgaudit "
        "with at least the ddl and role classes."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(b)", "164.308(a)(5)(ii)(C)"),
    remediation=(
        "Set log_connections=1, log_disconnections=1, shared_preload_libraries to include "
        "pgaudit (pending-reboot) and pgaudit.log=ddl,role."
    ),
    unknowns="An unknown family, parameter list or value fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_PARAMETER_GROUP,),
    check=check,
    aws_config="rds-logging-enabled",
    checkov="CKV2_AWS_30",
    url="https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.pgaudit.html",
)
