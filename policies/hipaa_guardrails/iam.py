"""Reading IAM-style policy documents (identity, key, topic, bucket and trust policies)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from typing import Any

from hipaa_guardrails.props import as_list, statements

#: Actions that reach PHI or the keys protecting it; granting them on "*" is never scoped.
DATA_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:PartiQLSelect",
    "dynamodb:GetRecords",
    "dynamodb:ExportTableToPointInTime",
    "dynamodb:RestoreTableToPointInTime",
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "sns:Publish",
    "secretsmanager:GetSecretValue",
    "rds-db:connect",
    "backup:StartRestoreJob",
    "backup:DeleteRecoveryPoint",
)

#: AWS managed policies that grant administrator or full IAM power.
ADMIN_MANAGED_POLICIES: tuple[str, ...] = (
    "AdministratorAccess",
    "PowerUserAccess",
    "IAMFullAccess",
)


def sid(statement: Mapping[str, Any], index: int) -> str:
    """A statement's Sid, or its position when it has none."""
    value = statement.get("Sid")
    return f"'{value}'" if value else f"#{index + 1}"


def _allows(statement: Mapping[str, Any]) -> bool:
    return statement.get("Effect") == "Allow"


def _principal_is_open(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return any("*" in as_list(principal.get(kind)) for kind in ("AWS", "CanonicalUser"))
    return False


def open_principal_statements(document: Mapping[str, Any]) -> Iterator[str]:
    """Sids of Allow statements for any principal (``*``) without a Condition."""
    for index, statement in enumerate(statements(document)):
        if (
            _allows(statement)
            and _principal_is_open(statement.get("Principal"))
            and not statement.get("Condition")
        ):
            yield sid(statement, index)


def actions(statement: Mapping[str, Any]) -> list[str]:
    """The statement's actions as strings."""
    return [str(a) for a in as_list(statement.get("Action"))]


def admin_or_full_access(document: Mapping[str, Any]) -> Iterator[str]:
    """Messages for Allow statements granting ``*`` or ``<service>:*``."""
    for index, statement in enumerate(statements(document)):
        if not _allows(statement):
            continue
        if statement.get("NotAction"):
            yield f"statement {sid(statement, index)} allows NotAction, i.e. everything else"
            continue
        for action in actions(statement):
            if action == "*" or action == "*:*":
                yield f"statement {sid(statement, index)} allows every action ({action})"
            elif action.endswith(":*"):
                service = action[:-2]
                yield f"statement {sid(statement, index)} allows every {service} action ({action})"


def _reaches_data(action: str) -> list[str]:
    return [d for d in DATA_ACTIONS if fnmatch.fnmatchcase(d.lower(), action.lower())]


def data_actions_on_any_resource(document: Mapping[str, Any]) -> Iterator[str]:
    """Messages for Allow statements granting data actions on resource ``*``."""
    for index, statement in enumerate(statements(document)):
        if not _allows(statement):
            continue
        if "*" not in [str(r) for r in as_list(statement.get("Resource"))]:
            continue
        reached = sorted({d for a in actions(statement) for d in _reaches_data(a)})
        if reached:
            shown = ", ".join(reached[:4]) + (", ..." if len(reached) > 4 else "")
            yield f"statement {sid(statement, index)} allows {shown} on every resource (*)"


def denies_insecure_transport(document: Mapping[str, Any]) -> bool:
    """True if a Deny statement for every principal applies when aws:SecureTransport is false."""
    for statement in statements(document):
        if statement.get("Effect") != "Deny" or not _principal_is_open(statement.get("Principal")):
            continue
        condition = statement.get("Condition")
        if not isinstance(condition, Mapping):
            continue
        block = condition.get("Bool")
        if isinstance(block, Mapping) and str(block.get("aws:SecureTransport")).lower() == "false":
            return True
    return False


def managed_policy_name(arn: str) -> str:
    """``AdministratorAccess`` from ``arn:aws:iam::aws:policy/AdministratorAccess``."""
    return arn.rsplit("/", 1)[-1]


def is_aws_managed_admin(arn: str) -> bool:
    """True for the AWS managed administrator / full-IAM policies."""
    return ":iam::aws:policy/" in arn and managed_policy_name(arn) in ADMIN_MANAGED_POLICIES
