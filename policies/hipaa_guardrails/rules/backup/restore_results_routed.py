"""B8: restore job results reach an encrypted alert topic (vault notifications)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails import routing
from hipaa_guardrails.props import UNKNOWN, get, items_of
from hipaa_guardrails.resource_types import (
    BACKUP_RESTORE_TESTING_PLAN,
    BACKUP_RESTORE_TESTING_SELECTION,
    BACKUP_VAULT,
    BACKUP_VAULT_NOTIFICATIONS,
)
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Resource, Scope, Stack

#: The event that carries a restore job's final status, COMPLETED or FAILED (AWS no longer sends
#: RESTORE_JOB_FAILED or RESTORE_JOB_SUCCESSFUL).
RESULT_EVENT = "RESTORE_JOB_COMPLETED"


def _on_vault(notifications: Resource, vault: Resource) -> bool:
    if vault in notifications.deps_of("backupVaultName"):
        return True
    name = get(notifications.props, "backupVaultName")
    return isinstance(name, str) and name == get(vault.props, "name")


def _problems(notifications: Resource, stack: Stack) -> list[str]:
    events = items_of(get(notifications.props, "backupVaultEvents"))
    problems = []
    if UNKNOWN not in events and RESULT_EVENT not in events:
        problems.append(f"backupVaultEvents lacks {RESULT_EVENT}")
    topic = get(notifications.props, "snsTopicArn")
    problems += routing.targets(notifications, "snsTopicArn", [topic], stack)
    if not topic and not notifications.deps_of("snsTopicArn"):
        problems.append("it names no SNS topic")
    return problems


def _tested_vaults(stack: Stack) -> list[Resource]:
    """The vaults restore tests draw from: named by a plan's recovery point selection (by
    dependency or ARN), else every vault in the provider's region."""
    vaults = stack.of_type(BACKUP_VAULT)
    found = []
    for plan in stack.of_type(BACKUP_RESTORE_TESTING_PLAN):
        deps = plan.deps_of("recoveryPointSelection")
        arns = items_of(get(plan.props, "recoveryPointSelection", "includeVaults"))
        found += [
            v
            for v in vaults
            if v in deps
            or any(isinstance(a, str) and a.endswith(f":{get(v.props, 'name')}") for a in arns)
        ]
    return found or [v for v in vaults if not get(v.props, "region")]


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not stack.of_type(BACKUP_RESTORE_TESTING_SELECTION):
        raise NotApplicable("the stack restore-tests nothing")
    notifications = stack.of_type(BACKUP_VAULT_NOTIFICATIONS)
    for vault in _tested_vaults(stack):
        mine = [n for n in notifications if _on_vault(n, vault)]
        if any(not _problems(n, stack) for n in mine):
            continue
        detail = "; ".join(_problems(mine[0], stack)) if mine else "it has no vault notifications"
        yield Finding(
            f"restore job results of vault {vault.name} reach no encrypted alert topic: {detail}",
            vault.urn,
        )


RULE = Guardrail(
    name="hipaa-backup-restore-results-routed",
    catalog_id="B8",
    title="Restore results are routed",
    description=(
        "Where the stack restore-tests, the vault's notifications must send restore job results "
        f"({RESULT_EVENT}) to an encrypted SNS topic of the stack."
    ),
    severity=Severity.HIGH,
    controls=("164.308(a)(7)(ii)(D)", "164.308(a)(6)(ii)"),
    judgement=True,
    remediation=(
        "Add aws.backup.VaultNotifications on the primary vault with backup_vault_events "
        f"including {RESULT_EVENT} and sns_topic_arn=the alert topic."
    ),
    unknowns=(
        "Topics are matched by property dependency (an unknown ARN from a stack topic counts); "
        "an unknown event list counts as present."
    ),
    scope=Scope.STACK,
    resource_types=(BACKUP_VAULT_NOTIFICATIONS,),
    check=check,
    url="https://docs.aws.amazon.com/aws-backup/latest/devguide/backup-notifications.html",
)
