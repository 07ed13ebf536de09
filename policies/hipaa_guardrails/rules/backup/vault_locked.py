"""B3: recovery points cannot be deleted by hand (vault lock, or a vault policy that denies it)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import actions
from hipaa_guardrails.props import UNKNOWN, get, policy_document, statements
from hipaa_guardrails.resource_types import BACKUP_VAULT, BACKUP_VAULT_LOCK, BACKUP_VAULT_POLICY
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack


def _targets(resource: Resource, vault: Resource) -> bool:
    if vault in resource.deps_of("backupVaultName"):
        return True
    name = get(resource.props, "backupVaultName")
    return isinstance(name, str) and name == get(vault.props, "name")


def _lock_problem(lock: Resource) -> str | None:
    days = get(lock.props, "minRetentionDays")
    if days is UNKNOWN:
        return "its minRetentionDays is unknown during preview (fails closed)"
    if not isinstance(days, int | float) or days < 1:
        return "it sets no minRetentionDays, so recovery points can still be deleted at once"
    return None


def _policy_denies_deletion(policy: Resource) -> bool:
    try:
        document = policy_document(get(policy.props, "policy"), "policy")
    except ValueError:
        return False
    if document is None:
        return False
    return any(
        statement.get("Effect") == "Deny"
        and any(a in ("backup:DeleteRecoveryPoint", "backup:*", "*") for a in actions(statement))
        for statement in statements(document)
    )


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not config["required"]:
        raise NotApplicable("vault lock is not required by this stack's pack config")
    locks = stack.of_type(BACKUP_VAULT_LOCK)
    policies = stack.of_type(BACKUP_VAULT_POLICY)
    for vault in stack.of_type(BACKUP_VAULT):
        vault_locks = [lock for lock in locks if _targets(lock, vault)]
        if any(_lock_problem(lock) is None for lock in vault_locks):
            continue
        if any(_targets(p, vault) and _policy_denies_deletion(p) for p in policies):
            continue
        if vault_locks:
            problem = _lock_problem(vault_locks[0])
            yield Finding(f"vault {vault.name} has a vault lock but {problem}", vault.urn)
        else:
            yield Finding(
                f"vault {vault.name} has no vault lock and no vault policy denying "
                "backup:DeleteRecoveryPoint, so its recovery points can be deleted by hand",
                vault.urn,
            )


RULE = Guardrail(
    name="hipaa-backup-vault-locked",
    catalog_id="B3",
    title="Backup vault lock",
    description=(
        "Where the stack's pack config requires it, every backup vault must be locked (or deny "
        "backup:DeleteRecoveryPoint) so recovery points cannot be deleted by hand."
    ),
    severity=Severity.HIGH,
    controls=("164.312(c)(1)", "164.308(a)(7)(ii)(A)"),
    remediation=(
        "Add an aws.backup.VaultLockConfiguration for each vault with min_retention_days set "
        "(config: backup.vaultLock); add changeable_for_days for compliance mode once approved."
    ),
    unknowns=(
        "Locks are matched to vaults by property dependency, so unknown vault names still "
        "match; an unknown minRetentionDays fails closed; an unknown vault policy does not count."
    ),
    scope=Scope.STACK,
    check=check,
    aws_config="backup-recovery-point-manual-deletion-disabled",
    url=(
        "https://docs.aws.amazon.com/config/latest/developerguide/"
        "backup-recovery-point-manual-deletion-disabled.html"
    ),
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether this stack must lock its vaults (off only for synthetic data).",
        }
    },
)
