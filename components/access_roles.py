"""The IAM roles around the data (tenant, operations, deploy, stream consumer, cache
invalidator), each with its managed policy and the stack's permissions boundary, as
``stackspec.definitions.access`` defines them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from stackspec.definitions.access import AccessDefinition, Arns, RolePurpose


@dataclass(frozen=True, kw_only=True)
class AccessRolesArgs:
    """Inputs of :class:`AccessRoles`."""

    definition: AccessDefinition
    """Roles, trust, policies and boundary (``stackspec.definitions.access``)."""
    table_arn: pulumi.Input[str]
    """The app table: item, index, stream and export grants are on it."""
    phi_key_arn: pulumi.Input[str]
    """The PHI key: the tenant role uses it only with its clinic's encryption context."""
    consumer_key_arn: pulumi.Input[str] | None = None
    """The stream consumer's key; with it the stream-consumer role gets what its function needs
    (VPC interfaces, the failure queue, the key through Lambda and SQS)."""
    audit_db_resource_id: pulumi.Input[str] | None = None
    """The audit database's resource id; with it the stream-consumer role may connect as the
    ingest user."""
    cache_key_arn: pulumi.Input[str] | None = None
    """The cache's key; with it (and the consumer's key) the cache-invalidator role gets what its
    function needs (VPC interfaces, the failure queue, its cache user's password secret)."""


class AccessRoles(pulumi.ComponentResource):
    """One role, one managed policy and one attachment per purpose, all under one boundary."""

    boundary: aws.iam.Policy
    roles: dict[RolePurpose, aws.iam.Role]
    role_arns: dict[RolePurpose, pulumi.Output[str]]

    def __init__(
        self, name: str, args: AccessRolesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medeez:data:AccessRoles", name, None, opts)
        definition = args.definition
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        identity = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        region = aws.get_region_output(opts=invoke)
        arns = pulumi.Output.all(
            partition.partition,
            identity.account_id,
            region.region,
            args.table_arn,
            args.phi_key_arn,
            args.consumer_key_arn,
            args.audit_db_resource_id,
            args.cache_key_arn,
        ).apply(
            lambda v: Arns(
                partition=v[0],
                account_id=v[1],
                region=v[2],
                table_arn=v[3],
                phi_key_arn=v[4],
                consumer_key_arn=v[5],
                audit_db_resource_id=v[6],
                cache_key_arn=v[7],
            )
        )

        def render(document: Any) -> pulumi.Output[str]:
            return arns.apply(lambda a: json.dumps(document(a), sort_keys=True))

        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=definition.boundary_name,
            description=definition.boundary_description,
            policy=render(definition.boundary_policy),
            tags=dict(definition.tags),
            opts=child,
        )
        self.roles = {}
        for purpose, role_definition in definition.roles.items():
            role = aws.iam.Role(
                f"{name}-{purpose}",
                name=role_definition.name,
                description=role_definition.description,
                assume_role_policy=render(lambda a, p=purpose: definition.trust_policy(p, a)),
                max_session_duration=role_definition.max_session_seconds,
                permissions_boundary=self.boundary.arn,
                tags=dict(definition.tags),
                opts=child,
            )
            for part, policy_name in definition.policy_names(purpose).items():
                # The main policy keeps its resource name; the deploy role's parts get theirs.
                stem = f"{name}-{purpose}-{part}" if part else f"{name}-{purpose}"
                policy = aws.iam.Policy(
                    f"{stem}-policy",
                    name=policy_name,
                    description=definition.policy_description(purpose, policy_name),
                    policy=render(
                        lambda a, p=purpose, n=policy_name: definition.policy_documents(p, a)[n]
                    ),
                    tags=dict(definition.tags),
                    opts=child,
                )
                aws.iam.RolePolicyAttachment(
                    f"{stem}-attachment",
                    role=role.name,
                    policy_arn=policy.arn,
                    opts=child,
                )
            self.roles[purpose] = role
        self.role_arns = {purpose: role.arn for purpose, role in self.roles.items()}
        self.register_outputs(
            {
                "boundaryArn": self.boundary.arn,
                **{
                    f"{purpose.replace('-', '_')}_role_arn": arn
                    for purpose, arn in self.role_arns.items()
                },
            }
        )
