"""Per-clinic PHI keys: created when a clinic is onboarded, scheduled for deletion (and disabled)
when it is offboarded. See docs/data-model.md, "Per-clinic keys and crypto-shredding".

A clinic key is a symmetric customer-managed KMS key with the stack PHI key's policy (every
cryptographic call must carry a ``clinicId`` encryption context), rotation on, the stack's tags
plus ``clinicId=<clinic>`` (what the tenant role's ``aws:ResourceTag/clinicId`` condition
matches), and the alias ``StackNames.clinic_key_alias``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from stackspec.config.stack import StackConfig
from stackspec.definitions.keys import KeyDefinition, clinic_key_definition
from stackspec.naming import KeyPurpose


class ClinicKeyError(Exception):
    """A clinic key could not be created, found or retired; the message says which and why."""


@dataclass(frozen=True)
class ClinicKey:
    clinic_id: str
    alias: str
    key_id: str
    arn: str
    state: str
    created: bool = False


def _account_of(kms: Any, cfg: StackConfig) -> tuple[str, str]:
    """(partition, account) from the stack PHI key's ARN (it exists wherever clinics are
    onboarded: the beacon keys are wrapped under it)."""
    alias = cfg.names.key_alias(KeyPurpose.PHI)
    try:
        arn = str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except ClientError as exc:
        raise ClinicKeyError(f"cannot read the stack PHI key {alias}: {exc}") from None
    parts = arn.split(":")
    return parts[1], parts[4]


def describe_clinic_key(kms: Any, cfg: StackConfig, clinic_id: str) -> ClinicKey | None:
    """The clinic's key, or None when its alias does not exist."""
    alias = cfg.names.clinic_key_alias(clinic_id)
    try:
        meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NotFoundException":
            return None
        raise ClinicKeyError(f"cannot read clinic key {alias}: {exc}") from None
    return ClinicKey(clinic_id, alias, meta["KeyId"], meta["Arn"], meta.get("KeyState", ""))


def ensure_clinic_key(kms: Any, cfg: StackConfig, clinic_id: str) -> ClinicKey:
    """The clinic's key, created (policy, tags, rotation, alias) when it does not exist yet."""
    existing = describe_clinic_key(kms, cfg, clinic_id)
    if existing is not None:
        return existing
    definition: KeyDefinition = clinic_key_definition(cfg, clinic_id)
    partition, account = _account_of(kms, cfg)
    try:
        meta = kms.create_key(
            Description=definition.description,
            KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT",
            Policy=json.dumps(definition.policy(partition=partition, account_id=account)),
            Tags=[{"TagKey": k, "TagValue": v} for k, v in sorted(definition.tags.items())],
        )["KeyMetadata"]
        if definition.rotation_enabled:
            kms.enable_key_rotation(
                KeyId=meta["KeyId"], RotationPeriodInDays=definition.rotation_period_days
            )
        kms.create_alias(AliasName=definition.alias, TargetKeyId=meta["KeyId"])
    except ClientError as exc:
        raise ClinicKeyError(f"cannot create clinic key {definition.alias}: {exc}") from None
    return ClinicKey(
        clinic_id, definition.alias, meta["KeyId"], meta["Arn"], meta["KeyState"], created=True
    )


def retire_clinic_key(
    kms: Any, key: ClinicKey, *, window_days: int, disable: bool
) -> dict[str, Any]:
    """Schedule the key's deletion after ``window_days`` (the undo period) and, with ``disable``,
    disable it first so KMS refuses it now (AWS already refuses a key pending deletion; moto does
    not). Returns what KMS answered: the deletion date and the key's state."""
    try:
        if disable and key.state == "Enabled":
            kms.disable_key(KeyId=key.key_id)
        answer = {}
        if key.state != "PendingDeletion":
            answer = kms.schedule_key_deletion(KeyId=key.key_id, PendingWindowInDays=window_days)
        meta = kms.describe_key(KeyId=key.key_id)["KeyMetadata"]
    except ClientError as exc:
        raise ClinicKeyError(f"cannot retire clinic key {key.alias}: {exc}") from None
    return {
        "keyState": meta.get("KeyState"),
        "deletionDate": str(answer.get("DeletionDate") or meta.get("DeletionDate") or ""),
        "enabled": bool(meta.get("Enabled")),
    }
