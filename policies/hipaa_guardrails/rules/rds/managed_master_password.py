"""The master password is generated and kept by RDS in Secrets Manager, never in config/state."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import describe, get, is_present
from hipaa_guardrails.resource_types import RDS_CLUSTER, RDS_INSTANCE
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(db: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    if is_present(get(db.props, "replicateSourceDb")) or is_present(
        get(db.props, "snapshotIdentifier")
    ):
        raise NotApplicable("replicas and restores take the source's master user")
    if is_present(get(db.props, "password")):
        yield "password is set: the master password is in the program's config and its state"
    managed = get(db.props, "manageMasterUserPassword")
    if managed is not True:
        yield (
            f"manageMasterUserPassword is {describe(managed)}; let RDS keep the master password "
            "in Secrets Manager"
        )
    elif not is_present(get(db.props, "masterUserSecretKmsKeyId")):
        yield "masterUserSecretKmsKeyId is not set, so the secret uses aws/secretsmanager"


RULE = Guardrail(
    name="hipaa-rds-managed-master-password",
    catalog_id="custom",
    title="RDS master password managed by RDS",
    description=(
        "RDS instances and clusters must let RDS manage the master password in Secrets Manager "
        "under a customer-managed key: no password in config or state."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(d)"),
    judgement=True,
    remediation=(
        "Drop password; set manage_master_user_password=True and master_user_secret_kms_key_id "
        "to the database key."
    ),
    unknowns="An unknown flag fails closed; an unknown password that is set counts as set.",
    scope=Scope.RESOURCE,
    resource_types=(RDS_INSTANCE, RDS_CLUSTER),
    check=check,
    url=("https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-secrets-manager.html"),
)
