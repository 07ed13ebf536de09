"""Snapshots carry the instance's tags (DataClassification, Environment)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    value = get(db.props, "copyTagsToSnapshot")
    if value is not True:
        yield (
            f"copyTagsToSnapshot is {describe(value)}; snapshots would lose DataClassification "
            "and cost tags"
        )


RULE = Guardrail(
    name="hipaa-rds-copy-tags-to-snapshot",
    catalog_id="custom",
    title="RDS snapshots carry the tags",
    description=(
        "RDS instances and clusters must copy their tags to snapshots, so a snapshot of PHI is "
        "labelled as such (and found by tag-based backup selections and cost reports)."
    ),
    severity=Severity.LOW,
    controls=(),
    operational=True,
    remediation="Set copy_tags_to_snapshot=True.",
    unknowns="An unknown flag fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    checkov="CKV2_AWS_60",
)
