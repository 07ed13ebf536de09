"""The stack's KMS keys on the local endpoint: alias, description, key policy and rotation."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from scripts.aws_target import error_code
from scripts.services.base import (
    NOT_EMULATED,
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.keys import KeyDefinition

NAME = "keys"


def ensure(ctx: SetupContext) -> None:
    for definition in ctx.stack.keys.values():
        ctx.key_arns[definition.purpose] = _ensure_key(ctx, definition)


def _ensure_key(ctx: SetupContext, definition: KeyDefinition) -> str:
    kms = ctx.clients("kms", definition.region)
    alias = definition.alias
    policy = definition.policy(partition=ctx.identity.partition, account_id=ctx.identity.account)
    changes: list[str] = []
    try:
        meta = kms.describe_key(KeyId=alias)["KeyMetadata"]
        arn = str(meta["Arn"])
        outcome: Outcome = "unchanged"
        if meta.get("Description") != definition.description:
            kms.update_key_description(KeyId=arn, Description=definition.description)
            changes.append("description")
        live_policy = kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"]
        if policy_document(live_policy) != policy:
            kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
            changes.append("key policy")
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
        arn = str(
            kms.create_key(
                Description=definition.description,
                KeyUsage="ENCRYPT_DECRYPT",
                KeySpec="SYMMETRIC_DEFAULT",
                Policy=json.dumps(policy),
                Tags=tag_list(definition.tags, "TagKey", "TagValue"),
            )["KeyMetadata"]["Arn"]
        )
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
        outcome = "created"
    if (
        definition.rotation_enabled
        and not kms.get_key_rotation_status(KeyId=arn)["KeyRotationEnabled"]
    ):
        kms.enable_key_rotation(KeyId=arn, RotationPeriodInDays=definition.rotation_period_days)
        changes.append("rotation")
    if changes and outcome != "created":
        outcome = "updated"
    detail = (
        f"rotation every {definition.rotation_period_days} days"
        if definition.rotation_enabled
        else "no rotation"
    )
    if changes and outcome == "updated":
        detail += f"; set {', '.join(changes)}"
    ctx.result.add("kms key", f"{alias} ({definition.region})", outcome, detail)
    return arn


def check(ctx: CheckContext) -> None:
    for definition in ctx.stack.keys.values():
        check_key(ctx, definition)


def check_key(ctx: CheckContext, definition: KeyDefinition) -> None:
    purpose, alias, region = definition.purpose, definition.alias, definition.region
    kms = ctx.clients("kms", region)
    ctx.key_arns[purpose] = None
    expected = f"{alias} -> enabled customer-managed symmetric key"
    meta: dict[str, object] = {}

    def alias_row() -> None:
        target = None
        for page in kms.get_paginator("list_aliases").paginate():
            for entry in page.get("Aliases", []):
                if entry.get("AliasName") == alias:
                    target = entry.get("TargetKeyId")
        if target is None:
            ctx.fail(f"kms.{purpose}.alias", expected, f"no alias {alias} in {region}")
            return
        meta.update(kms.describe_key(KeyId=target)["KeyMetadata"])
        ctx.key_arns[purpose] = str(meta["Arn"])
        found = f"{meta.get('KeyState')} {meta.get('KeyManager')} {meta.get('KeySpec')}"
        ok = (
            meta.get("KeyState") == "Enabled"
            and meta.get("KeyManager") == "CUSTOMER"
            and meta.get("KeySpec") == "SYMMETRIC_DEFAULT"
        )
        ctx.add(f"kms.{purpose}.alias", "Enabled CUSTOMER SYMMETRIC_DEFAULT", found, ok)

    ctx.guard(f"kms.{purpose}.alias", alias_row, expected)

    def rotation_rows() -> None:
        arn = ctx.key_arns[purpose]
        if arn is None:
            raise Skipped(f"key {alias} not found")
        status = kms.get_key_rotation_status(KeyId=arn)
        enabled = bool(status.get("KeyRotationEnabled"))
        ctx.add(
            f"kms.{purpose}.rotation",
            "enabled" if definition.rotation_enabled else "disabled",
            "enabled" if enabled else "disabled",
        )
        period = status.get("RotationPeriodInDays")
        check = f"kms.{purpose}.rotation-period"
        want = f"{definition.rotation_period_days} days"
        if not (definition.rotation_enabled and enabled):
            ctx.skip(check, "rotation is off", want)
        elif period is None:
            ctx.skip(
                check, f"{NOT_EMULATED}: the endpoint does not report RotationPeriodInDays", want
            )
        else:
            ctx.add(check, want, f"{period} days")

    ctx.guard(f"kms.{purpose}.rotation", rotation_rows)

    def description_row() -> None:
        if ctx.key_arns[purpose] is None:
            raise Skipped(f"key {alias} not found")
        ctx.add(f"kms.{purpose}.description", definition.description, meta.get("Description"))

    ctx.guard(f"kms.{purpose}.description", description_row, definition.description)

    def policy_row() -> None:
        arn = ctx.key_arns[purpose]
        if arn is None:
            raise Skipped(f"key {alias} not found")
        want = definition.policy(partition=ctx.identity.partition, account_id=ctx.identity.account)
        live = policy_document(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
        sids = [str(s.get("Sid")) for s in want["Statement"]]
        if live == want:
            ctx.add(f"kms.{purpose}.policy", sids, sids)
        else:
            found = [str(s.get("Sid")) for s in (live or {}).get("Statement", [])]
            ctx.fail(
                f"kms.{purpose}.policy", sids, found, "the key policy differs from the stack's"
            )

    ctx.guard(f"kms.{purpose}.policy", policy_row)
