"""The audit database: RDS for PostgreSQL 16 on its own key, private, TLS 1.2+, IAM auth,
pgaudit, logs to encrypted log groups, enhanced monitoring, an RDS-managed master secret, the
recommended alarms, and in the backup plan."""

from __future__ import annotations

import json

import pytest

from auditlog import schema
from stackspec.config.stack import load_stack_config
from stackspec.definitions.audit_database import audit_database_definition
from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan

TAGS = {
    "dev": {
        "CostCenter": "engineering",
        "DataClassification": "phi",
        "Environment": "dev",
        "ManagedBy": "pulumi",
        "Owner": "platform-team",
        "Project": "medeez-platform",
    },
    "prod": {
        "CostCenter": "clinical-operations",
        "DataClassification": "phi",
        "Environment": "prod",
        "ManagedBy": "pulumi",
        "Owner": "platform-team",
        "Project": "medeez-platform",
    },
}
#: What differs between the stacks (Pulumi.<stack>.yaml).
SIZED = {
    "dev": {
        "instanceClass": "db.t4g.micro",
        "allocatedStorage": 20,
        "maxAllocatedStorage": 50,
        "multiAz": False,
        "backupRetentionPeriod": 7,
        "monitoringInterval": 60,
    },
    "prod": {
        "instanceClass": "db.r6g.large",
        "allocatedStorage": 100,
        "maxAllocatedStorage": 500,
        "multiAz": True,
        "backupRetentionPeriod": 35,
        "monitoringInterval": 15,
    },
}


@pytest.fixture(params=["dev", "prod"])
def plan(request: pytest.FixtureRequest) -> Plan:
    return request.getfixturevalue(f"{request.param}_plan")


def test_instance_inputs_are_exactly_the_definition(plan: Plan) -> None:
    env = plan.stack
    instance = plan.named("audit-db-instance")
    key_arn = plan.named("audit-db-key-key").state["arn"]
    expected = {
        "identifier": f"medeez-{env}-audit",
        "engine": "postgres",
        "engineVersion": "16.11",
        "dbName": f"medeez_{env}_audit",
        "username": "medeez_admin",
        "manageMasterUserPassword": True,
        "masterUserSecretKmsKeyId": key_arn,
        "port": 5432,
        "storageType": "gp3",
        "storageEncrypted": True,
        "kmsKeyId": key_arn,
        "dbSubnetGroupName": f"medeez-{env}-audit",
        "vpcSecurityGroupIds": [plan.named("network-database-sg").id],
        "publiclyAccessible": False,
        "parameterGroupName": f"medeez-{env}-audit-postgres16",
        "iamDatabaseAuthenticationEnabled": True,
        "caCertIdentifier": "rds-ca-rsa2048-g1",
        "backupWindow": "03:00-03:30",
        "maintenanceWindow": "sun:04:00-sun:04:30",
        "autoMinorVersionUpgrade": True,
        "allowMajorVersionUpgrade": False,
        "copyTagsToSnapshot": True,
        "deletionProtection": True,
        "skipFinalSnapshot": False,
        "finalSnapshotIdentifier": f"medeez-{env}-audit-final",
        "deleteAutomatedBackups": False,
        "enabledCloudwatchLogsExports": ["postgresql", "upgrade"],
        "performanceInsightsEnabled": True,
        "performanceInsightsKmsKeyId": key_arn,
        "performanceInsightsRetentionPeriod": 7,
        "monitoringRoleArn": (
            f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/medeez-{env}-audit-db-monitoring"
        ),
        "tags": TAGS[env],
        **SIZED[env],
    }
    assert instance.inputs == expected
    assert "password" not in instance.inputs
    assert (instance.protect, instance.retain_on_delete) == ((env == "prod",) * 2)


def test_own_key_lets_only_rds_and_secrets_manager_of_this_account_use_it(plan: Plan) -> None:
    key = plan.named("audit-db-key-key")
    assert plan.named("audit-db-key-alias").inputs["name"] == f"alias/medeez-{plan.stack}-audit-db"
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert set(statements) == {"AccountRootAdministersViaIam", "AccountUsesKeyThroughServices"}
    via = statements["AccountUsesKeyThroughServices"]
    assert via["Principal"] == {"AWS": "*"}
    assert via["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": MOCK_ACCOUNT_ID,
            "kms:ViaService": [
                "rds.us-east-1.amazonaws.com",
                "secretsmanager.us-east-1.amazonaws.com",
            ],
        }
    }
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect is (plan.stack == "prod")


def test_parameter_group_forces_tls_and_loads_pgaudit(plan: Plan) -> None:
    group = plan.named("audit-db-parameters").inputs
    assert group["family"] == "postgres16"
    assert group["name"] == f"medeez-{plan.stack}-audit-postgres16"
    assert {(p["name"], p["value"], p["applyMethod"]) for p in group["parameters"]} == {
        ("rds.force_ssl", "1", "immediate"),
        ("ssl_min_protocol_version", "TLSv1.2", "immediate"),
        ("shared_preload_libraries", "pgaudit,pg_stat_statements", "pending-reboot"),
        ("pgaudit.log", "ddl,role", "immediate"),
        ("log_connections", "1", "immediate"),
        ("log_disconnections", "1", "immediate"),
    }


def test_placed_in_the_private_subnets_behind_the_database_tier(plan: Plan) -> None:
    group = plan.named("audit-db-subnets")
    subnets = sorted(plan.of_type("aws:ec2/subnet:Subnet"), key=lambda s: s.name)
    assert group.inputs["name"] == f"medeez-{plan.stack}-audit"
    assert group.inputs["subnetIds"] == [s.id for s in subnets]
    assert len(subnets) == {"dev": 2, "prod": 3}[plan.stack]
    assert group.inputs["tags"] == TAGS[plan.stack]


def test_log_groups_exist_before_the_instance_encrypted_and_retained(plan: Plan) -> None:
    instance = plan.named("audit-db-instance")
    retention = {"dev": 365, "prod": 2192}[plan.stack]
    for log in ("postgresql", "upgrade"):
        group = plan.named(f"audit-db-log-{log}")
        assert group.inputs["name"] == f"/aws/rds/instance/medeez-{plan.stack}-audit/{log}"
        assert group.inputs["retentionInDays"] == retention
        assert group.inputs["kmsKeyId"] == plan.named("logs-key-key").state["arn"]
        assert group.urn in instance.dependencies
        assert group.protect is (plan.stack == "prod")


def test_enhanced_monitoring_role_trusts_only_rds_monitoring_of_this_account(plan: Plan) -> None:
    role = plan.named("audit-db-monitoring-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID}}
    attachment = plan.named("audit-db-monitoring-policy")
    assert attachment.inputs["policyArn"] == (
        "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    )
    assert attachment.urn in plan.named("audit-db-instance").dependencies


def test_recommended_alarms_notify_the_alert_topic(plan: Plan) -> None:
    topic = f"arn:aws:sns:us-east-1:{MOCK_ACCOUNT_ID}:medeez-{plan.stack}-alerts"
    alarms = {
        r.inputs["metricName"]: r.inputs
        for r in plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if r.inputs.get("namespace") == "AWS/RDS"
    }
    assert sorted(alarms) == sorted(
        [
            "CPUUtilization",
            "DatabaseConnections",
            "DBLoad",
            "FreeStorageSpace",
            "FreeableMemory",
            "MaximumUsedTransactionIDs",
            "ReadLatency",
            "WriteLatency",
        ]
    )
    for alarm in alarms.values():
        assert alarm["dimensions"] == {"DBInstanceIdentifier": f"medeez-{plan.stack}-audit"}
        assert alarm["alarmActions"] == alarm["okActions"] == alarm["insufficientDataActions"]
        assert alarm["alarmActions"] == [topic]
    gib = {"dev": 20, "prod": 100}[plan.stack] * 2**30
    assert alarms["FreeStorageSpace"]["threshold"] == gib * 10 / 100
    assert alarms["FreeStorageSpace"]["comparisonOperator"] == "LessThanThreshold"
    memory = {"dev": 128, "prod": 4096}[plan.stack]
    assert alarms["FreeableMemory"]["threshold"] == memory * 2**20
    assert alarms["ReadLatency"]["threshold"] == 0.02
    assert alarms["ReadLatency"]["extendedStatistic"] == "p90"
    assert alarms["MaximumUsedTransactionIDs"]["threshold"] == 1_000_000_000
    assert alarms["CPUUtilization"]["threshold"] == 90
    assert alarms["DatabaseConnections"]["threshold"] == {"dev": 80, "prod": 200}[plan.stack]


def test_instance_is_in_the_backup_plan_and_the_role_can_use_its_key(plan: Plan) -> None:
    selection = plan.named("backup-selection")
    arn = f"arn:aws:rds:us-east-1:{MOCK_ACCOUNT_ID}:db:medeez-{plan.stack}-audit"
    assert arn in selection.inputs["resources"]
    assert plan.named("audit-db-instance").urn in selection.property_dependencies["resources"]
    keys_policy = json.loads(plan.named("backup-keys-policy").inputs["policy"])
    assert plan.named("audit-db-key-key").state["arn"] in keys_policy["Statement"][0]["Resource"]
    settings = plan.named("backup-region-settings").inputs
    assert settings["resourceTypeOptInPreference"] == {"DynamoDB": True, "RDS": True}


def test_outputs_name_the_endpoint_resource_id_and_managed_secret(plan: Plan) -> None:
    outputs = plan.outputs
    assert outputs["auditDatabaseAddress"].startswith(f"medeez-{plan.stack}-audit.")
    assert outputs["auditDatabasePort"] == 5432
    assert outputs["auditDatabaseResourceId"].startswith("db-")
    assert outputs["auditDatabaseMasterSecretArn"].startswith(
        f"arn:aws:secretsmanager:us-east-1:{MOCK_ACCOUNT_ID}:secret:rds!"
    )


def test_definition_names_the_auditlog_roles_and_database() -> None:
    definition = audit_database_definition(load_stack_config("dev"))
    assert (definition.owner_user, definition.ingest_user, definition.reader_user) == schema.ROLES
    assert definition.database_name == schema.database_name("dev")
    assert (
        definition.rds_db_connect_arn(
            partition="aws",
            region="us-east-1",
            account_id=MOCK_ACCOUNT_ID,
            resource_id="db-ABC",
            user=definition.ingest_user,
        )
        == f"arn:aws:rds-db:us-east-1:{MOCK_ACCOUNT_ID}:dbuser:db-ABC/audit_ingest"
    )
