"""AccessRoles against the dev and prod plans: five roles, each with its managed policy and the
shared permissions boundary, with the trust and grants issue 10 asks for."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pytest

from stackspec.definitions.access import MANAGED_POLICY_MAX_CHARS
from stackspec.definitions.deploy_grants import DEPLOY_PARTS
from tools.plan import Plan

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/policy:Policy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
TAG = "${aws:PrincipalTag/clinicId}"
ACCOUNT = "111122223333"
DEV_FUNCTIONS = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:medeez-dev-*"


def children(plan: Plan) -> list[Any]:
    return plan.descendants(plan.named("access"))


def doc(resource: Any, key: str = "policy") -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(resource.inputs[key])
    return parsed


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in document["Statement"] if s["Sid"] == sid)


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_five_roles_each_with_its_policy_under_one_boundary(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    env = plan.stack
    below = children(plan)
    roles = {r.inputs["name"]: r for r in below if r.type == ROLE}
    assert set(roles) == {
        f"medeez-{env}-tenant",
        f"medeez-{env}-operations",
        f"medeez-{env}-deploy",
        f"medeez-{env}-stream-consumer",
        f"medeez-{env}-cache-invalidator",
    }
    policies = sorted(r.inputs["name"] for r in below if r.type == POLICY)
    deploy_parts = [f"medeez-{env}-deploy-{p}-access" for p in DEPLOY_PARTS]
    assert policies == sorted(
        [f"medeez-{env}-boundary", *(f"{name}-access" for name in roles), *deploy_parts]
    )
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/medeez-{env}-boundary"
    for role in roles.values():
        assert role.inputs["permissionsBoundary"] == boundary
        assert role.inputs["maxSessionDuration"] == 3600
    attached = {(a.inputs["role"], a.inputs["policyArn"]) for a in below if a.type == ATTACHMENT}
    assert attached == {
        (name, f"arn:aws:iam::{ACCOUNT}:policy/{name}-access") for name in roles
    } | {(f"medeez-{env}-deploy", f"arn:aws:iam::{ACCOUNT}:policy/{p}") for p in deploy_parts}


def test_tenant_items_are_confined_to_the_session_clinic(dev_plan: Plan) -> None:
    tenant = doc(dev_plan.named("access-tenant-policy"))
    items = statement(tenant, "ItemsOfTheSessionClinicOnly")
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/medeez-dev-app"
    assert items["Resource"] == [table, f"{table}/index/*"]
    assert items["Condition"] == {
        "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"CLINIC#{TAG}", f"CLINIC#{TAG}#*"]},
        "Null": {"dynamodb:LeadingKeys": "false", "aws:PrincipalTag/clinicId": "false"},
    }
    granted = {
        a
        for s in tenant["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not {a for a in granted if "Scan" in a or "PartiQL" in a}
    phi = statement(tenant, "PhiKeyWithTheSessionClinicContextOnly")
    assert phi["Resource"] == dev_plan.outputs["phiKeyArn"]
    assert phi["Condition"] == {"StringEquals": {"kms:EncryptionContext:clinicId": TAG}}


def test_tenant_trust_takes_only_the_application_with_one_clinic_tag(dev_plan: Plan) -> None:
    trust = doc(dev_plan.named("access-tenant"), "assumeRolePolicy")["Statement"]
    assert len(trust) == 1
    assert trust[0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trust[0]["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-app-runtime"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["clinicId"]},
        "Null": {"aws:RequestTag/clinicId": "false"},
        "StringLike": {"aws:RequestTag/clinicId": "?*"},
    }


def test_operations_is_mfa_only_and_never_the_application(prod_plan: Plan) -> None:
    trust = doc(prod_plan.named("access-operations"), "assumeRolePolicy")
    allow = statement(trust, "OperatorsOfThisAccountWithMfa")
    assert allow["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    deny = statement(trust, "NeverTheApplication")
    assert deny["Effect"] == "Deny"
    assert deny["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        f"arn:aws:iam::{ACCOUNT}:role/medeez-prod-app-runtime",
        f"arn:aws:iam::{ACCOUNT}:role/medeez-prod-tenant",
    ]
    grants = doc(prod_plan.named("access-operations-policy"))
    writes = [
        a
        for s in grants["Statement"]
        for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
        if a.split(":")[1].startswith(("Put", "Update", "Delete", "BatchWrite"))
    ]
    assert writes == []


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_deploy_trusts_github_oidc_for_this_repository_environment_only(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    trust = doc(plan.named("access-deploy"), "assumeRolePolicy")["Statement"]
    assert trust == [
        {
            "Sid": "GitHubActionsOfThisRepositoryEnvironment",
            "Effect": "Allow",
            "Principal": {
                "Federated": (
                    f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
                )
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": (
                        f"repo:medeez/medeez-platform:environment:{plan.stack}"
                    ),
                }
            },
        }
    ]


def test_stream_consumer_reads_the_stream_and_writes_nothing(dev_plan: Plan) -> None:
    grants = doc(dev_plan.named("access-stream-consumer-policy"))["Statement"]
    actions = {
        a for s in grants for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {a for a in actions if a.startswith("dynamodb:")} == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    stream = statement({"Statement": grants}, "ReadTheTableStream")
    assert (
        stream["Resource"] == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/medeez-dev-app/stream/*"
    )


def test_boundary_keeps_roles_from_lifting_it(dev_plan: Plan) -> None:
    boundary = doc(dev_plan.named("access-boundary"))
    arn = f"arn:aws:iam::{ACCOUNT}:policy/medeez-dev-boundary"
    assert statement(boundary, "NoBoundaryEdits")["Resource"] == arn
    new_roles = statement(boundary, "NewRolesCarryThisBoundary")
    assert new_roles["Condition"] == {"StringNotEquals": {"iam:PermissionsBoundary": arn}}
    scans = statement(boundary, "CrossTenantReadsOnlyByOperations")
    assert scans["Effect"] == "Deny"
    assert scans["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-operations"}
    }


def test_stream_consumer_role_has_exactly_what_its_function_needs(prod_plan: Plan) -> None:
    policy = doc(prod_plan.named("access-stream-consumer-policy"))
    region_account = f"us-east-1:{ACCOUNT}"
    key = prod_plan.named("consumer-key-key").state["arn"]
    resource_id = prod_plan.outputs["auditDatabaseResourceId"]
    assert {s["Sid"]: (s["Effect"], s["Action"], s["Resource"]) for s in policy["Statement"]} == {
        "ReadTheTableStream": (
            "Allow",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            f"arn:aws:dynamodb:{region_account}:table/medeez-prod-app/stream/*",
        ),
        "ListStreams": ("Allow", "dynamodb:ListStreams", "*"),
        "OwnLogs": (
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            f"arn:aws:logs:{region_account}:log-group:/aws/lambda/medeez-prod-stream-consumer:*",
        ),
        "DescribeVpcNetworkInterfaces": (
            "Allow",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "*",
        ),
        "ManageVpcNetworkInterfaces": (
            "Allow",
            [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            [
                f"arn:aws:ec2:{region_account}:network-interface/*",
                f"arn:aws:ec2:{region_account}:subnet/*",
                f"arn:aws:ec2:{region_account}:security-group/*",
            ],
        ),
        "NotFromTheFunctionCode": (
            "Deny",
            [
                "ec2:CreateNetworkInterface",
                "ec2:DeleteNetworkInterface",
                "ec2:AssignPrivateIpAddresses",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "*",
        ),
        "SendFailedBatches": (
            "Allow",
            "sqs:SendMessage",
            f"arn:aws:sqs:{region_account}:medeez-prod-stream-consumer-failures",
        ),
        "ConsumerKeyThroughLambdaAndSqs": ("Allow", ["kms:Decrypt", "kms:GenerateDataKey"], key),
        "ConnectAsAuditIngest": (
            "Allow",
            "rds-db:connect",
            f"arn:aws:rds-db:{region_account}:dbuser:{resource_id}/audit_ingest",
        ),
    }
    deny = statement(policy, "NotFromTheFunctionCode")
    assert deny["Condition"] == {
        "ArnEquals": {
            "lambda:SourceFunctionArn": (
                f"arn:aws:lambda:{region_account}:function:medeez-prod-stream-consumer"
            )
        }
    }
    assert statement(policy, "ConsumerKeyThroughLambdaAndSqs")["Condition"] == {
        "StringEquals": {
            "kms:ViaService": ["lambda.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"]
        }
    }
    # Nothing on the table itself: the consumer writes no item.
    actions = [
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert not [a for a in actions if a.startswith("dynamodb:") and "Item" in a]


# --- the deploy role: what `pulumi up` needs on the newer services, scoped to the stack ---------


def deploy_statements(plan: Plan) -> list[dict[str, Any]]:
    policies = [
        r
        for r in children(plan)
        if r.type == POLICY and r.inputs["name"].startswith(f"medeez-{plan.stack}-deploy-")
    ]
    assert len(policies) == 1 + len(DEPLOY_PARTS)
    return [s for p in policies for s in doc(p)["Statement"]]


def granting(statements: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements if s["Effect"] == "Allow" and action in as_list(s["Action"])]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def only_grant(plan: Plan, action: str) -> dict[str, Any]:
    [grant] = granting(deploy_statements(plan), action)
    return grant


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_planned_policy_document_fits_a_managed_policy(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    sizes = {
        r.inputs["name"]: len("".join(r.inputs["policy"].split()))
        for r in children(plan)
        if r.type == POLICY and r.inputs["name"] != f"medeez-{plan.stack}-boundary"
    }
    assert len(sizes) == 5 + len(DEPLOY_PARTS)  # the access roles and the deploy parts
    assert max(sizes.values()) <= MANAGED_POLICY_MAX_CHARS, sizes


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_deploy_creates_the_audit_database_only_under_the_stack_prefix(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    rds = f"arn:aws:rds:us-east-1:{ACCOUNT}"
    own = f"medeez-{plan.stack}-*"
    grant = only_grant(plan, "rds:CreateDBInstance")
    assert grant["Resource"] == [
        f"{rds}:db:{own}",
        f"{rds}:pg:{own}",
        f"{rds}:subgrp:{own}",
        f"{rds}:snapshot:{own}",
        f"{rds}:og:default:*",
    ]
    assert "Condition" not in grant
    for action in ("rds:DeleteDBInstance", "rds:CreateDBParameterGroup", "rds:CreateDBSubnetGroup"):
        assert only_grant(plan, action) == grant
    # The master secret RDS manages: only when RDS makes the call.
    secret = next(s for s in granting(deploy_statements(plan), "secretsmanager:RotateSecret"))
    assert secret["Resource"] == f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:rds!*"
    assert secret["Condition"] == {
        "ForAnyValue:StringEquals": {"aws:CalledVia": ["rds.amazonaws.com"]}
    }


def test_deploy_passes_only_the_stacks_service_roles_to_their_services(dev_plan: Plan) -> None:
    passes = granting(deploy_statements(dev_plan), "iam:PassRole")
    role = f"arn:aws:iam::{ACCOUNT}:role/medeez-dev-"
    assert sorted(
        (s["Resource"], s["Condition"]["StringEquals"]["iam:PassedToService"]) for s in passes
    ) == [
        (f"{role}audit-db-monitoring", "monitoring.rds.amazonaws.com"),
        (f"{role}backup", "backup.amazonaws.com"),
        (f"{role}cache-invalidator", "lambda.amazonaws.com"),
        (f"{role}stream-consumer", "lambda.amazonaws.com"),
        (f"{role}vpc-flow-logs", "vpc-flow-logs.amazonaws.com"),
    ]
    assert all(set(s["Condition"]) == {"StringEquals"} for s in passes)
    # ...and nothing else: no wildcard action or resource reaches PassRole.
    for s in deploy_statements(dev_plan):
        if s not in passes:
            assert not any(a in ("iam:*", "iam:Pass*", "*") for a in as_list(s["Action"]))
            assert "iam:PassRole" not in as_list(s["Action"])


def test_deploy_creates_network_only_with_the_stack_tag(dev_plan: Plan) -> None:
    statements = deploy_statements(dev_plan)
    [create, change] = granting(statements, "ec2:CreateVpc")
    assert create["Condition"] == {"StringEquals": {"aws:RequestTag/Environment": "dev"}}
    assert change["Condition"] == {"StringEquals": {"aws:ResourceTag/Environment": "dev"}}
    assert create["Resource"][0] == f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/*"
    # Deletes only on what carries the stack's tag; reads alone on every resource.
    assert granting(statements, "ec2:DeleteVpc") == [change]
    [reads] = [s for s in statements if s["Resource"] == "*" and "ec2:Describe*" in s["Action"]]
    assert reads["Action"] == ["ec2:Describe*", "ec2:GetManagedPrefixListEntries"]
    # The untagged default group: revoke and tag only while untagged, and only with the tag.
    [close] = [s for s in statements if s["Sid"] == "CloseTheDefaultGroup"]
    assert close["Condition"] == {"Null": {"aws:ResourceTag/Environment": "true"}}
    assert close["Action"] == ["ec2:RevokeSecurityGroupIngress", "ec2:RevokeSecurityGroupEgress"]
    [tag] = [s for s in statements if s["Sid"] == "TagTheDefaultGroup"]
    assert tag["Condition"] == {
        "Null": {"aws:ResourceTag/Environment": "true"},
        "StringEquals": {"aws:RequestTag/Environment": "dev"},
    }


@pytest.mark.parametrize(
    ("action", "resource", "condition"),
    [
        (
            "elasticache:CreateReplicationGroup",
            f"arn:aws:elasticache:us-east-1:{ACCOUNT}:replicationgroup:medeez-dev-*",
            None,
        ),
        (
            "elasticache:CreateUser",
            f"arn:aws:elasticache:us-east-1:{ACCOUNT}:user:medeez-dev-*",
            None,
        ),
        (
            "secretsmanager:PutSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:medeez-dev/*",
            None,
        ),
        (
            "lambda:CreateFunction",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:medeez-dev-*",
            None,
        ),
        (
            "lambda:PublishLayerVersion",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:medeez-dev-*",
            None,
        ),
        (
            "lambda:CreateEventSourceMapping",
            "*",
            {"ArnLike": {"lambda:FunctionArn": DEV_FUNCTIONS}},
        ),
        (
            "lambda:PutFunctionConcurrency",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:medeez-dev-*",
            None,
        ),
        ("sqs:CreateQueue", f"arn:aws:sqs:us-east-1:{ACCOUNT}:medeez-dev-*", None),
        (
            "logs:CreateLogGroup",
            f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/medeez-dev-*",
            None,
        ),
        (
            "cloudtrail:CreateTrail",
            f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/medeez-dev-*",
            None,
        ),
        ("s3:PutBucketObjectLockConfiguration", "arn:aws:s3:::medeez-dev-*", None),
        ("s3:PutLifecycleConfiguration", "arn:aws:s3:::medeez-dev-*", None),
        ("s3:PutBucketLogging", "arn:aws:s3:::medeez-dev-*", None),
        (
            "kms:CreateGrant",
            f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*",
            {
                "Bool": {"kms:GrantIsForAWSResource": "true"},
                "StringEquals": {
                    "kms:ViaService": [
                        f"{s}.us-east-1.amazonaws.com"
                        for s in ("rds", "elasticache", "lambda", "secretsmanager")
                    ]
                },
            },
        ),
    ],
)
def test_each_new_service_create_is_granted_and_scoped(
    dev_plan: Plan, action: str, resource: str, condition: dict[str, Any] | None
) -> None:
    grant = only_grant(dev_plan, action)
    assert resource in as_list(grant["Resource"])
    assert grant.get("Condition") == condition
    assert all(
        r == "*"
        or "medeez-dev" in r
        or r.endswith(("key/*", "og:default:*", ":log-group:/medeez/dev/vpc-flow-logs*"))
        for r in as_list(grant["Resource"])
    )


def test_deploy_reads_no_object_and_stops_no_trail(dev_plan: Plan) -> None:
    actions = {a for s in deploy_statements(dev_plan) for a in as_list(s["Action"])}
    assert not any(
        a.startswith(("s3:GetObject", "s3:PutObject", "s3:DeleteObject")) for a in actions
    )
    assert "cloudtrail:StopLogging" not in actions
    assert not any(a.endswith(":*") for a in actions)


def test_cache_invalidator_role_has_exactly_what_its_function_needs(prod_plan: Plan) -> None:
    policy = doc(prod_plan.named("access-cache-invalidator-policy"))
    region_account = f"us-east-1:{ACCOUNT}"
    consumer_key = prod_plan.named("consumer-key-key").state["arn"]
    cache_key = prod_plan.named("cache-key-key").state["arn"]
    function = f"arn:aws:lambda:{region_account}:function:medeez-prod-cache-invalidator"
    interfaces = [
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    ]
    assert {
        s["Sid"]: (s["Effect"], s["Action"], s["Resource"], s.get("Condition"))
        for s in policy["Statement"]
    } == {
        "ReadTheTableStream": (
            "Allow",
            ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
            f"arn:aws:dynamodb:{region_account}:table/medeez-prod-app/stream/*",
            None,
        ),
        "ListStreams": ("Allow", "dynamodb:ListStreams", "*", None),
        "OwnLogs": (
            "Allow",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            f"arn:aws:logs:{region_account}:log-group:/aws/lambda/medeez-prod-cache-invalidator:*",
            None,
        ),
        "DescribeVpcNetworkInterfaces": (
            "Allow",
            ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "*",
            None,
        ),
        "ManageVpcNetworkInterfaces": (
            "Allow",
            interfaces,
            [
                f"arn:aws:ec2:{region_account}:network-interface/*",
                f"arn:aws:ec2:{region_account}:subnet/*",
                f"arn:aws:ec2:{region_account}:security-group/*",
            ],
            None,
        ),
        "NotFromTheFunctionCode": (
            "Deny",
            interfaces,
            "*",
            {"ArnEquals": {"lambda:SourceFunctionArn": function}},
        ),
        "SendFailedBatches": (
            "Allow",
            "sqs:SendMessage",
            f"arn:aws:sqs:{region_account}:medeez-prod-cache-invalidator-failures",
            None,
        ),
        "ConsumerKeyThroughLambdaAndSqs": (
            "Allow",
            ["kms:Decrypt", "kms:GenerateDataKey"],
            consumer_key,
            {
                "StringEquals": {
                    "kms:ViaService": [
                        "lambda.us-east-1.amazonaws.com",
                        "sqs.us-east-1.amazonaws.com",
                    ]
                }
            },
        ),
        "ReadOwnCacheUserPassword": (
            "Allow",
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:{region_account}:secret:medeez-prod/cache/invalidator-??????",
            None,
        ),
        "CacheKeyThroughSecretsManager": (
            "Allow",
            "kms:Decrypt",
            cache_key,
            {"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}},
        ),
    }
    # Its own secret only: of the cache users' secrets as planned, the pattern matches one.
    pattern = statement(policy, "ReadOwnCacheUserPassword")["Resource"]
    secrets = prod_plan.outputs["cacheUserSecretArns"]
    assert {r for r, arn in secrets.items() if fnmatch.fnmatchcase(arn, pattern)} == {"invalidator"}
