"""B4: backups are copied to a vault in another region (disaster recovery)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import UNKNOWN, get, is_present, items_of
from hipaa_guardrails.resource_types import BACKUP_PLAN, BACKUP_VAULT
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack


def _arn_region(arn: Any) -> str | None:
    # arn:aws:backup:<region>:<account>:backup-vault:<name>
    if isinstance(arn, str) and arn.startswith("arn:"):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return None


def _copies_cross_region(plan: Resource) -> tuple[bool, str]:
    destinations = [
        get(action, "destinationVaultArn")
        for rule in items_of(get(plan.props, "rules"))
        for action in items_of(get(rule, "copyActions"))
    ]
    destinations = [d for d in destinations if is_present(d)]
    if not destinations:
        return False, "has no copy action"
    home = plan.region
    vaults = [v for v in plan.deps_of("rules") if v.type == BACKUP_VAULT]
    home_vaults = [v for v in vaults if v.region is None or v.region == home]
    if home is not None:
        remote = {v.region for v in vaults if v.region is not None and v.region != home}
        remote |= {r for r in map(_arn_region, destinations) if r is not None and r != home}
    else:
        # Without a known home region an ARN's region proves nothing; the evidence is a vault in
        # an explicit region next to one in the provider's default region (pulumi-aws v7 sets
        # `region` on the DR resources only).
        remote = {v.region for v in vaults if v.region is not None} if home_vaults else set()
    if remote:
        return True, ""
    if any(d is UNKNOWN for d in destinations) and not vaults:
        return False, "copies to a vault whose region cannot be shown during preview"
    return False, "copies only to vaults in its own region"


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not config["required"]:
        raise NotApplicable("a cross-region copy is not required by this stack's pack config")
    plans = stack.of_type(BACKUP_PLAN)
    if not plans:
        yield Finding("the stack has no AWS Backup plan, so nothing is copied to another region")
        return
    results = [(plan, *_copies_cross_region(plan)) for plan in plans]
    if any(ok for _, ok, _ in results):
        return
    for plan, _, why in results:
        yield Finding(f"backup plan {plan.name} {why}", plan.urn)


RULE = Guardrail(
    name="hipaa-backup-cross-region-copy",
    catalog_id="B4",
    title="Backups copied to another region",
    description=(
        "Where the stack's pack config requires it, a backup plan must copy recovery points to a "
        "vault in another region."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(B)", "164.312(a)(2)(ii)"),
    remediation=(
        "Add copy_actions=[{'destination_vault_arn': <DR vault>.arn, 'lifecycle': ...}] to the "
        "plan rule, with the DR vault created in dr_region (config: backup.crossRegionCopy)."
    ),
    unknowns=(
        "Destination vaults are found through the plan's property dependencies, so an unknown "
        "vault ARN counts when it comes from a vault the stack creates in another region."
    ),
    scope=Scope.STACK,
    check=check,
    aws_config="dynamodb-resources-protected-by-backup-plan (crossRegionList)",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "dynamodb-resources-protected-by-backup-plan.html"
    ),
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether this stack must copy backups to another region.",
        }
    },
)
