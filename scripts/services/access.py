"""The access roles on the local endpoint: the permissions boundary, and per role its trust,
boundary, session limit and managed policy, all from ``stackspec.definitions.access``.

moto stores roles and policies but does not evaluate their conditions (README, "Tenant
isolation"): what setup builds here is compared, not enforced; ``make isolation-check`` proves
the documents themselves.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code
from scripts.services.base import (
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.access import AccessDefinition, Arns, RoleDefinition
from stackspec.naming import KeyPurpose

NAME = "access"


def _arns(ctx: SetupContext | CheckContext, table_arn: str, phi_key_arn: str) -> Arns:
    # The stream consumer's grants name its key; the database login needs the RDS instance's
    # resource id, which the local environment does not have (its database is the local
    # PostgreSQL with passwords), so the local role has no rds-db:connect statement.
    return Arns(
        partition=ctx.identity.partition,
        account_id=ctx.identity.account,
        region=ctx.stack.config.region,
        table_arn=table_arn,
        phi_key_arn=phi_key_arn,
        consumer_key_arn=ctx.key_arns.get(KeyPurpose.CONSUMER),
        cache_key_arn=ctx.key_arns.get(KeyPurpose.CACHE),
    )


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.access
    phi_key = ctx.key_arns.get(KeyPurpose.PHI)
    if ctx.table_arn is None or phi_key is None:
        ctx.result.add("iam access roles", definition.prefix, "skipped", "no table or PHI key")
        return
    arns = _arns(ctx, ctx.table_arn, phi_key)
    boundary_arn = _ensure_policy(
        ctx,
        definition.boundary_name,
        definition.boundary_description,
        definition.boundary_policy(arns),
        definition,
    )
    for purpose, role in definition.roles.items():
        policy_arns = [
            _ensure_policy(
                ctx, name, definition.policy_description(purpose, name), document, definition
            )
            for name, document in definition.policy_documents(purpose, arns).items()
        ]
        _ensure_role(ctx, role, definition.trust_policy(purpose, arns), boundary_arn, policy_arns)


def _ensure_policy(
    ctx: SetupContext,
    name: str,
    description: str,
    document: dict[str, Any],
    definition: AccessDefinition,
) -> str:
    iam = ctx.clients("iam")
    arn = f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:policy/{name}"
    text = json.dumps(document, sort_keys=True)
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        if policy_document(version["PolicyVersion"]["Document"]) != document:
            _drop_oldest_version(iam, arn)
            iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
            ctx.result.add("iam policy", name, "updated")
        else:
            ctx.result.add("iam policy", name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_policy(
            PolicyName=name,
            PolicyDocument=text,
            Description=description,
            Tags=tag_list(definition.tags),
        )
        ctx.result.add("iam policy", name, "created")
    return arn


def _drop_oldest_version(iam: Any, arn: str) -> None:
    """IAM keeps at most five versions of a policy; make room for one more."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    if len(versions) >= 5:
        oldest = min(
            (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
        )
        iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"])


def _ensure_role(
    ctx: SetupContext,
    role: RoleDefinition,
    trust: dict[str, Any],
    boundary_arn: str,
    policy_arns: list[str],
) -> None:
    iam = ctx.clients("iam")
    changes: list[str] = []
    outcome: Outcome = "unchanged"
    try:
        live = iam.get_role(RoleName=role.name)["Role"]
        if policy_document(live.get("AssumeRolePolicyDocument")) != trust:
            iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=json.dumps(trust))
            changes.append("trust policy")
        if (live.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") != boundary_arn:
            iam.put_role_permissions_boundary(RoleName=role.name, PermissionsBoundary=boundary_arn)
            changes.append("permissions boundary")
        if live.get("MaxSessionDuration") != role.max_session_seconds:
            iam.update_role(RoleName=role.name, MaxSessionDuration=role.max_session_seconds)
            changes.append("max session")
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description=role.description,
            MaxSessionDuration=role.max_session_seconds,
            PermissionsBoundary=boundary_arn,
            Tags=tag_list(ctx.stack.access.tags),
        )
        outcome = "created"
    attached = _attached(iam, role.name)
    for policy_arn in policy_arns:
        if policy_arn not in attached:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=policy_arn)
            changes.append(policy_arn.rsplit("/", 1)[-1])
    if changes and outcome != "created":
        outcome = "updated"
    ctx.result.add("iam role", role.name, outcome, ", ".join(changes))


def _attached(iam: Any, role_name: str) -> set[str]:
    return {
        p["PolicyArn"]
        for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role_name)
        for p in page.get("AttachedPolicies", [])
    }


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.access
    ctx.guard("access.boundary", lambda: _policy_row(ctx, "access.boundary", None))
    for purpose in definition.roles:
        ctx.guard(f"access.{purpose}", lambda p=purpose: _role_row(ctx, p))  # type: ignore[misc]


def _live_arns(ctx: CheckContext) -> Arns:
    table_arn = (ctx.table or {}).get("TableArn")
    phi_key = ctx.key_arns.get(KeyPurpose.PHI)
    if not table_arn or not phi_key:
        raise Skipped("the table or the PHI key is missing (their rows FAIL)")
    return _arns(ctx, str(table_arn), phi_key)


def _document(ctx: CheckContext, name: str) -> dict[str, Any] | None:
    iam = ctx.clients("iam")
    arn = f"arn:{ctx.identity.partition}:iam::{ctx.identity.account}:policy/{name}"
    try:
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        return None
    version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    document: dict[str, Any] = policy_document(version["PolicyVersion"]["Document"])
    return document


def _policy_row(ctx: CheckContext, check_id: str, purpose: Any) -> None:
    definition = ctx.stack.access
    arns = _live_arns(ctx)
    if purpose is None:
        name, wanted = definition.boundary_name, definition.boundary_policy(arns)
    else:
        name = definition.roles[purpose].policy_name
        wanted = definition.role_policy(purpose, arns)
    live = _document(ctx, name)
    if live is None:
        ctx.fail(check_id, f"policy {name}", f"no policy {name}")
        return
    ctx.add(
        check_id,
        f"policy {name} as the stack defines it",
        f"policy {name}"
        + (" as the stack defines it" if live == wanted else " with another document"),
    )


def _role_row(ctx: CheckContext, purpose: Any) -> None:
    """The role's trust, boundary, session limit and policy document are the stack's."""
    definition = ctx.stack.access
    role = definition.roles[purpose]
    check_id = f"access.{purpose}"
    arns = _live_arns(ctx)
    boundary = arns.policy(definition.boundary_name)
    expected = [
        "trust as defined",
        f"boundary {definition.boundary_name}",
        f"max session {role.max_session_seconds}s",
        *(f"{name} as defined" for name in definition.policy_names(purpose).values()),
    ]
    iam = ctx.clients("iam")
    try:
        live = iam.get_role(RoleName=role.name)["Role"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
        ctx.fail(check_id, expected, f"no role {role.name}")
        return
    found = [
        "trust as defined"
        if policy_document(live.get("AssumeRolePolicyDocument"))
        == definition.trust_policy(purpose, arns)
        else "another trust policy",
        "boundary "
        + str((live.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", "none")).rsplit(
            "/", 1
        )[-1],
        f"max session {live.get('MaxSessionDuration')}s",
    ]
    attached = _attached(iam, role.name)
    for name, wanted in definition.policy_documents(purpose, arns).items():
        if arns.policy(name) not in attached:
            found.append(f"{name} not attached")
        else:
            document = _document(ctx, name)
            found.append(f"{name} " + ("as defined" if document == wanted else "differs"))
    if (live.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn") != boundary:
        found[1] = f"boundary {found[1].removeprefix('boundary ')} (expected {boundary})"
    ctx.add(check_id, expected, found)
