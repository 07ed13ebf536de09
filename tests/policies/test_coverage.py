"""Coverage of the services issue 9 brings in: Lambda, CloudTrail and the VPC network types are
*guarded* (they hold no data but decide who or what reaches it), Secrets Manager, SQS and the
ElastiCache users are data-bearing; every one must be judged by some resource rule.

The rules for those types are written elsewhere, so these tests decide which types the registry
judges themselves (synthetic resources, ``judged_types`` replaced): a type no rule judges fails,
the same type with a rule passes.
"""

from __future__ import annotations

import pytest
from hipaa_guardrails.coverage import (
    GUARDED_TYPES,
    is_data_bearing,
    is_data_store,
    is_guarded,
    must_be_judged,
)
from hipaa_guardrails.rules.stack import data_types_covered

from tests.policies.fixtures import compliant_stack
from tests.policies.support import Node, run_stack
from tools.plan import Plan

COVERED = "hipaa-stack-data-types-covered"

GUARDED = sorted(
    GUARDED_TYPES
    | {
        "aws:lambda/function:Function",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:lambda/permission:Permission",
        "aws:lambda/functionUrl:FunctionUrl",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
    }
)
DATA = [
    # CloudTrail carries the audit records: data-bearing (and guarded besides).
    "aws:cloudtrail/trail:Trail",
    "aws:cloudtrail/eventDataStore:EventDataStore",
    "aws:secretsmanager/secret:Secret",
    "aws:sqs/queue:Queue",
    "aws:elasticache/replicationGroup:ReplicationGroup",
    "aws:elasticache/user:User",
]
SUPPORTING = [
    "aws:lambda/alias:Alias",
    "aws:lambda/layerVersion:LayerVersion",
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    "aws:cloudtrail/organizationDelegatedAdminAccount:OrganizationDelegatedAdminAccount",
    "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
    "aws:secretsmanager/secretRotation:SecretRotation",
    # A version's value is under its secret's key; a user group only lists user ids.
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:elasticache/userGroup:UserGroup",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:sqs/redrivePolicy:RedrivePolicy",
    "aws:elasticache/parameterGroup:ParameterGroup",
    "aws:elasticache/subnetGroup:SubnetGroup",
]


@pytest.fixture
def judged(monkeypatch):
    """Make the registry judge exactly the compliant stack's types plus the given ones."""

    def set_judged(*extra: str, without: tuple[str, ...] = ()) -> None:
        base = frozenset(n.type for n in compliant_stack()) - set(without)
        monkeypatch.setattr(data_types_covered, "judged_types", lambda: base | set(extra))

    set_judged()
    return set_judged


def _newcomer_stack(type_: str) -> list[Node]:
    """The compliant stack (which may hold the type already) plus one new resource of it."""
    return [*compliant_stack(), Node(type_, "newcomer", {})]


@pytest.mark.parametrize("type_", GUARDED)
def test_guarded_type_without_a_rule_fails_and_with_one_passes(type_, judged):
    judged(without=(type_,))
    nodes = _newcomer_stack(type_)
    outcome = run_stack(COVERED, nodes)
    # Every violation is about that type (the compliant stack's own resources of it included).
    assert all(v.startswith(f"{type_} (") for v in outcome.violations)
    assert [v for v in outcome.violations if v.startswith(f"{type_} (newcomer)")] == [
        f"{type_} (newcomer) decides who or what reaches the data (code, network or audit "
        "trail) but no guardrail of this pack judges that type; add rules for it before it "
        "ships [45 CFR 164.308(a)(1)(ii)(B), 164.312(a)(2)(iv)]"
    ]
    judged(type_)
    assert run_stack(COVERED, nodes).passed


@pytest.mark.parametrize("type_", DATA)
def test_new_data_type_without_a_rule_fails_and_with_one_passes(type_, judged):
    judged(without=(type_,))
    nodes = _newcomer_stack(type_)
    violations = run_stack(COVERED, nodes).violations
    assert all(v.startswith(f"{type_} (") for v in violations)
    assert any(
        v.startswith(f"{type_} (newcomer) holds or carries data but no guardrail")
        for v in violations
    )
    judged(type_)
    assert run_stack(COVERED, nodes).passed


@pytest.mark.parametrize("type_", SUPPORTING)
def test_reviewed_supporting_types_need_no_rule(type_, judged):
    assert run_stack(COVERED, [*compliant_stack(), Node(type_, "helper", {})]).passed
    assert not must_be_judged(type_)


@pytest.mark.parametrize(
    ("type_", "guarded", "bearing", "store"),
    [
        ("aws:lambda/function:Function", True, False, False),
        # A trail carries audit records (data-bearing) but keeps none at rest (transit).
        ("aws:cloudtrail/trail:Trail", True, True, False),
        ("aws:ec2/securityGroup:SecurityGroup", True, False, False),
        ("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", True, False, False),
        ("aws:ec2/instance:Instance", False, False, False),
        # Routes decide where traffic leaves the subnets (an internet or NAT path).
        ("aws:ec2/routeTable:RouteTable", True, False, False),
        ("aws-native:lambda:Function", True, False, False),
        ("aws:sqs/queue:Queue", False, True, True),
        ("aws:secretsmanager/secret:Secret", False, True, True),
        ("aws:elasticache/user:User", False, True, True),
        ("aws:lambda/alias:Alias", False, False, False),
    ],
)
def test_classification(type_, guarded, bearing, store):
    assert (is_guarded(type_), is_data_bearing(type_), is_data_store(type_)) == (
        guarded,
        bearing,
        store,
    )
    assert must_be_judged(type_) is (guarded or bearing)


def test_reviewed_types_in_pack_config_cover_a_guarded_type(judged):
    nodes = [*compliant_stack(), Node("aws:ec2/natGateway:NatGateway", "nat", {})]
    assert run_stack(COVERED, nodes, {"reviewedTypes": ["aws:ec2/natGateway:NatGateway"]}).passed


@pytest.mark.parametrize("plan_name", ["dev_plan", "prod_plan"])
def test_every_type_the_stacks_plan_is_judged_by_the_real_registry(
    plan_name: str, request: pytest.FixtureRequest
):
    plan: Plan = request.getfixturevalue(plan_name)
    types = {r.type for r in plan.resources}
    needing = {t for t in types if must_be_judged(t)}
    assert "aws:dynamodb/table:Table" in needing
    assert needing <= data_types_covered.judged_types()
