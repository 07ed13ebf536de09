"""Stack-wide rules: data stores protected, and no data-bearing type left without guardrails."""

from __future__ import annotations

import pytest
from hipaa_guardrails.coverage import is_data_bearing, is_data_store

from tests.policies.fixtures import TABLE, compliant_stack, replace
from tests.policies.support import Node, run_stack

PROTECTED = "hipaa-stack-data-resources-protected"
COVERED = "hipaa-stack-data-types-covered"


def test_protected_data_stores_pass():
    assert run_stack(PROTECTED, compliant_stack()).passed


def test_unprotected_table_is_flagged_with_its_urn():
    outcome = run_stack(PROTECTED, replace(compliant_stack(), "app-table", protect=False))
    assert outcome.violations == [
        "aws:dynamodb/table:Table app-table keeps data but is not protected, so `pulumi destroy` "
        "or a replacement could delete it [45 CFR 164.312(c)(1), 164.308(a)(7)(ii)(B)]"
    ]
    assert outcome.urns == ["urn:pulumi:dev::medeez-platform::aws:dynamodb/table:Table::app-table"]


def test_unprotected_keys_and_vaults_are_flagged():
    nodes = [Node(n.type, n.name, n.props, n.deps, protect=False) for n in compliant_stack()]
    flagged = sorted(v.split(" ")[1] for v in run_stack(PROTECTED, nodes).violations)
    # Topics, plans, selections, alarms, roles, budgets and trails keep no data: not flagged.
    assert flagged == [
        "app-table",
        "backup-key",
        "cache-application",
        "cache-application-secret",
        "cache-default",
        "cache-group",
        "dr-vault",
        "exports",
        "exports-logs",
        "failures",
        "flow-logs",  # log groups keep records; the network's other types keep none
        "table-key",
        "vault",
    ]


def test_protection_not_required_by_pack_config():
    nodes = replace(compliant_stack(), "app-table", protect=False)
    outcome = run_stack(PROTECTED, nodes, {"required": False})
    assert outcome.not_applicable == "protection is not required by this stack's pack config"


def test_every_known_type_is_covered():
    assert run_stack(COVERED, compliant_stack()).passed


@pytest.mark.parametrize(
    "type_",
    [
        "aws-native:dynamodb:Table",
        "aws:dynamodb/globalTable:GlobalTable",
        "aws:dynamodb/tableItem:TableItem",
        "aws:rds/proxy:Proxy",
        "aws:efs/fileSystem:FileSystem",
        "aws:docdb/cluster:Cluster",
        "aws:opensearch/domain:Domain",
        "aws:cloudtrail/eventDataStore:EventDataStore",
        "aws:memorydb/cluster:Cluster",
        "aws:kinesis/stream:Stream",
    ],
)
def test_unjudged_data_bearing_type_is_flagged(type_):
    nodes = [*compliant_stack(), Node(type_, "newcomer", TABLE)]
    outcome = run_stack(COVERED, nodes)
    assert len(outcome.violations) == 1
    assert f"{type_} (newcomer) holds or carries data but no guardrail" in outcome.violations[0]


def test_reviewed_type_in_pack_config_is_accepted():
    nodes = [*compliant_stack(), Node("aws:efs/fileSystem:FileSystem", "files", {})]
    assert run_stack(COVERED, nodes, {"reviewedTypes": ["aws:efs/fileSystem:FileSystem"]}).passed


@pytest.mark.parametrize(
    ("type_", "bearing", "store"),
    [
        ("aws:dynamodb/table:Table", True, True),
        ("aws:dynamodb/contributorInsights:ContributorInsights", False, False),
        ("aws:kms/key:Key", True, True),
        ("aws:kms/alias:Alias", False, False),
        ("aws:sns/topic:Topic", True, False),
        ("aws:cloudtrail/trail:Trail", True, False),
        ("aws:s3/bucketLogging:BucketLogging", False, False),
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", False, False),
        ("aws:cloudwatch/logGroup:LogGroup", True, True),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", False, False),
        ("aws:iam/role:Role", False, False),
        ("pulumi:pulumi:Stack", False, False),
        ("medeez:data:AppTable", False, False),
    ],
)
def test_data_classification(type_, bearing, store):
    assert is_data_bearing(type_) is bearing
    assert is_data_store(type_) is store
