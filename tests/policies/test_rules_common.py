"""What every rule must do: pass its compliant baseline, ignore other resource types, and honour
(and always report) exemptions."""

from __future__ import annotations

import datetime as dt

import pytest
from hipaa_guardrails import exemptions
from hipaa_guardrails import resource_types as t
from hipaa_guardrails.registry import all_rules
from hipaa_guardrails.spec import Scope

from tests.policies import fixtures as f
from tests.policies.support import (
    DELETE,
    Node,
    mutate,
    report_exemptions,
    run_resource,
    run_stack,
    urn,
)

#: rule -> (type, violating props); the compliant props are fixtures.BASELINES[type].
RESOURCE_SUBJECTS = {
    "hipaa-backup-restore-copy-deleted": (
        t.BACKUP_RESTORE_TESTING_SELECTION,
        mutate(f.RESTORE_TESTING_SELECTION, "validationWindowHours", 168),
    ),
    "hipaa-s3-object-lock-retention": (
        t.S3_OBJECT_LOCK,
        mutate(f.OBJECT_LOCK, "rule.defaultRetention.days", 30),
    ),
    "hipaa-s3-object-lock-compliance-mode": (
        t.S3_OBJECT_LOCK,
        mutate(f.OBJECT_LOCK, "rule.defaultRetention.mode", "GOVERNANCE"),
    ),
    "hipaa-cloudtrail-encrypted-with-kms": (
        t.CLOUDTRAIL_TRAIL,
        mutate(f.TRAIL, "kmsKeyId", DELETE),
    ),
    "hipaa-cloudtrail-log-file-validation": (
        t.CLOUDTRAIL_TRAIL,
        mutate(f.TRAIL, "enableLogFileValidation", False),
    ),
    "hipaa-cloudtrail-multi-region": (
        t.CLOUDTRAIL_TRAIL,
        mutate(f.TRAIL, "isMultiRegionTrail", False),
    ),
    "hipaa-cloudtrail-management-events": (
        t.CLOUDTRAIL_TRAIL,
        mutate(f.TRAIL, "advancedEventSelectors.0.fieldSelectors.0.equals", ["Data"]),
    ),
    "hipaa-dynamodb-pitr-enabled": (t.TABLE, mutate(f.TABLE, "pointInTimeRecovery", DELETE)),
    "hipaa-dynamodb-encrypted-with-cmk": (t.TABLE, mutate(f.TABLE, "serverSideEncryption", DELETE)),
    "hipaa-dynamodb-on-demand-or-autoscaled": (t.TABLE, mutate(f.TABLE, "billingMode", DELETE)),
    "hipaa-dynamodb-deletion-protection-enabled": (
        t.TABLE,
        mutate(f.TABLE, "deletionProtectionEnabled", False),
    ),
    "hipaa-dynamodb-stream-view-allowed": (t.TABLE, mutate(f.TABLE, "streamViewType", "NEW_IMAGE")),
    "hipaa-dynamodb-ttl-spares-retained-attributes": (
        t.TABLE,
        mutate(f.TABLE, "ttl.attributeName", "createdAt"),
    ),
    "hipaa-kms-key-rotation-enabled": (t.KMS_KEY, mutate(f.KEY, "enableKeyRotation", False)),
    "hipaa-kms-key-deletion-guarded": (t.KMS_KEY, mutate(f.KEY, "deletionWindowInDays", 7)),
    "hipaa-kms-key-policy-safe": (t.KMS_KEY, mutate(f.KEY, "bypassPolicyLockoutSafetyCheck", True)),
    "hipaa-kms-key-policy-explicit": (t.KMS_KEY, mutate(f.KEY, "policy", DELETE)),
    "hipaa-backup-plan-daily-with-retention": (
        t.BACKUP_PLAN,
        mutate(f.PLAN, "rules.0.lifecycle.deleteAfter", 1),
    ),
    "hipaa-backup-copy-retention": (
        t.BACKUP_PLAN,
        mutate(f.PLAN, "rules.0.copyActions.0.lifecycle.deleteAfter", 1),
    ),
    "hipaa-backup-vault-encrypted-with-cmk": (t.BACKUP_VAULT, mutate(f.VAULT, "kmsKeyArn", DELETE)),
    "hipaa-cloudwatch-alarm-actions-enabled": (
        t.METRIC_ALARM,
        mutate(f.ALARM, "actionsEnabled", False),
    ),
    "hipaa-cloudwatch-log-group-retention": (
        t.LOG_GROUP,
        mutate(f.LOG_GROUP, "retentionInDays", DELETE),
    ),
    "hipaa-cloudwatch-log-group-encrypted": (t.LOG_GROUP, mutate(f.LOG_GROUP, "kmsKeyId", DELETE)),
    "hipaa-sns-topic-encrypted-with-cmk": (t.SNS_TOPIC, mutate(f.TOPIC, "kmsMasterKeyId", DELETE)),
    "hipaa-sns-topic-policy-not-public": (
        t.SNS_TOPIC_POLICY,
        mutate(f.TOPIC_POLICY, "policy", '{"Statement": {"Effect": "Allow", "Principal": "*"}}'),
    ),
    "hipaa-sns-topic-publish-same-account": (
        t.SNS_TOPIC_POLICY,
        mutate(
            f.TOPIC_POLICY,
            "policy",
            f.as_json(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                            "Action": "sns:Publish",
                            "Resource": f.TOPIC_ARN,
                        }
                    ]
                }
            ),
        ),
    ),
    "hipaa-iam-no-admin-or-full-access": (
        t.IAM_POLICY,
        mutate(f.MANAGED_POLICY, "policy", '{"Statement": [{"Effect": "Allow", "Action": "*"}]}'),
    ),
    "hipaa-iam-no-user-policies": (t.IAM_USER_POLICY, {"user": "alice", "policy": "{}"}),
    "hipaa-iam-no-inline-policies": (t.IAM_ROLE_POLICY, f.ROLE_POLICY),
    "hipaa-iam-data-access-scoped": (
        t.IAM_ROLE_POLICY,
        mutate(
            f.ROLE_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}',
        ),
    ),
    "hipaa-iam-trust-policy-scoped": (t.IAM_ROLE, mutate(f.ROLE, "assumeRolePolicy", DELETE)),
    "hipaa-iam-no-privilege-escalation": (
        t.IAM_POLICY,
        mutate(
            f.MANAGED_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}',
        ),
    ),
    "hipaa-iam-no-credentials-exposure": (
        t.IAM_POLICY,
        mutate(
            f.MANAGED_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "sts:GetSessionToken", '
            '"Resource": "*"}]}',
        ),
    ),
    "hipaa-iam-no-unconstrained-permissions-management": (
        t.IAM_POLICY,
        mutate(
            f.MANAGED_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "s3:PutBucketPolicy", "Resource": "*"}]}',
        ),
    ),
    "hipaa-iam-no-unconstrained-write": (
        t.IAM_POLICY,
        mutate(
            f.MANAGED_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "s3:DeleteBucket", "Resource": "*"}]}',
        ),
    ),
    "hipaa-iam-oidc-trust-sub-scoped": (
        t.IAM_ROLE,
        mutate(
            f.ROLE,
            "assumeRolePolicy",
            f.as_json(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {
                                "Federated": "arn:aws:iam::111122223333:oidc-provider/"
                                "token.actions.githubusercontent.com"
                            },
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com"
                                }
                            },
                        }
                    ]
                }
            ),
        ),
    ),
    "hipaa-iam-role-permissions-boundary": (
        t.IAM_ROLE,
        mutate(f.ROLE, "assumeRolePolicy", f.as_json(f.APP_TRUST)),
    ),
    "hipaa-iam-tenant-leading-keys": (
        t.IAM_ROLE_POLICY,
        mutate(
            f.ROLE_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Action": "dynamodb:Query", '
            '"Resource": "arn:aws:dynamodb:us-east-1:1:table/medeez-dev-app"}]}',
        ),
    ),
    "hipaa-rds-storage-encrypted-with-cmk": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "storageEncrypted", False),
    ),
    "hipaa-rds-not-public": (t.RDS_INSTANCE, mutate(f.DB_INSTANCE, "publiclyAccessible", True)),
    "hipaa-rds-backups-retained": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "backupRetentionPeriod", 1),
    ),
    "hipaa-rds-deletion-protection-enabled": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "deletionProtection", False),
    ),
    "hipaa-rds-logs-exported": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "enabledCloudwatchLogsExports", []),
    ),
    "hipaa-rds-iam-auth-enabled": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "iamDatabaseAuthenticationEnabled", False),
    ),
    "hipaa-rds-multi-az": (t.RDS_INSTANCE, mutate(f.DB_INSTANCE, "multiAz", False)),
    "hipaa-rds-auto-minor-version-upgrade": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "autoMinorVersionUpgrade", False),
    ),
    "hipaa-rds-enhanced-monitoring": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "monitoringInterval", 0),
    ),
    "hipaa-rds-performance-insights-encrypted-with-cmk": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "performanceInsightsKmsKeyId", DELETE),
    ),
    "hipaa-rds-copy-tags-to-snapshot": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "copyTagsToSnapshot", False),
    ),
    "hipaa-rds-managed-master-password": (
        t.RDS_INSTANCE,
        mutate(f.DB_INSTANCE, "password", "hunter2"),
    ),
    "hipaa-rds-parameter-group-tls": (
        t.RDS_PARAMETER_GROUP,
        mutate(f.DB_PARAMETER_GROUP, "parameters.0.value", "0"),
    ),
    "hipaa-rds-parameter-group-audit-logging": (
        t.RDS_PARAMETER_GROUP,
        mutate(f.DB_PARAMETER_GROUP, "parameters.4.value", "0"),
    ),
    "hipaa-secretsmanager-secret-encrypted-with-cmk": (
        t.SECRETSMANAGER_SECRET,
        mutate(f.SECRET, "kmsKeyId", DELETE),
    ),
    "hipaa-elasticache-backups-retained": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "snapshotRetentionLimit", 1),
    ),
    "hipaa-elasticache-encrypted-at-rest-with-cmk": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "atRestEncryptionEnabled", False),
    ),
    "hipaa-elasticache-in-transit-encrypted-with-auth": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "userGroupIds", DELETE),
    ),
    "hipaa-elasticache-multi-az-failover": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "multiAzEnabled", False),
    ),
    "hipaa-elasticache-transit-required-with-rbac": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "transitEncryptionMode", "preferred"),
    ),
    "hipaa-elasticache-slow-log-delivered": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "logDeliveryConfigurations", []),
    ),
    "hipaa-elasticache-engine-pinned": (
        t.ELASTICACHE_REPLICATION_GROUP,
        mutate(f.REPLICATION_GROUP, "engineVersion", DELETE),
    ),
    "hipaa-elasticache-user-password-required": (
        t.ELASTICACHE_USER,
        mutate(f.CACHE_USER, "noPasswordRequired", True),
    ),
    "hipaa-elasticache-user-access-restricted": (
        t.ELASTICACHE_USER,
        mutate(f.CACHE_USER, "accessString", "on ~* +@all"),
    ),
    "hipaa-lambda-permission-not-public": (
        t.LAMBDA_PERMISSION,
        mutate(f.LAMBDA_PERMISSION, "principal", "*"),
    ),
    "hipaa-lambda-stream-consumer-failure-destination": (
        t.LAMBDA_EVENT_SOURCE_MAPPING,
        mutate(f.EVENT_SOURCE_MAPPING, "destinationConfig", DELETE),
    ),
    "hipaa-lambda-environment-encrypted-with-cmk": (
        t.LAMBDA_FUNCTION,
        mutate(f.LAMBDA_FUNCTION, "kmsKeyArn", DELETE),
    ),
    "hipaa-lambda-function-inside-vpc": (
        t.LAMBDA_FUNCTION,
        mutate(f.LAMBDA_FUNCTION, "vpcConfig", DELETE),
    ),
    "hipaa-lambda-reserved-concurrency": (
        t.LAMBDA_FUNCTION,
        mutate(f.LAMBDA_FUNCTION, "reservedConcurrentExecutions", DELETE),
    ),
    "hipaa-lambda-runtime-supported": (
        t.LAMBDA_FUNCTION,
        mutate(f.LAMBDA_FUNCTION, "runtime", "python3.8"),
    ),
    "hipaa-sqs-queue-encrypted-with-cmk": (
        t.SQS_QUEUE,
        mutate(f.QUEUE, "kmsMasterKeyId", DELETE),
    ),
    "hipaa-sqs-queue-policy-not-public": (
        t.SQS_QUEUE_POLICY,
        mutate(
            f.QUEUE_POLICY,
            "policy",
            '{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"}]}',
        ),
    ),
    "hipaa-vpc-security-group-no-open-egress": (
        t.SECURITY_GROUP_EGRESS_RULE,
        mutate(f.EGRESS_RULE, "cidrIpv4", "0.0.0.0/0"),
    ),
    "hipaa-vpc-security-group-no-public-ingress": (
        t.SECURITY_GROUP_INGRESS_RULE,
        mutate(f.INGRESS_RULE, "cidrIpv4", "0.0.0.0/0"),
    ),
    "hipaa-vpc-subnet-no-public-ip": (t.SUBNET, mutate(f.SUBNET, "mapPublicIpOnLaunch", True)),
    "hipaa-vpc-no-internet-gateway": (
        t.ROUTE_TABLE,
        mutate(f.ROUTE_TABLE, "routes", [{"cidrBlock": "0.0.0.0/0", "gatewayId": "igw-0a1b2c3d"}]),
    ),
    "hipaa-vpc-interface-endpoint-private-dns": (
        t.VPC_ENDPOINT,
        mutate(f.INTERFACE_ENDPOINT, "privateDnsEnabled", False),
    ),
}

#: Compliant resources for rules whose violating subject is a type without a baseline.
COMPLIANT = {
    "hipaa-iam-no-user-policies": (t.IAM_POLICY_ATTACHMENT, {"roles": ["r"], "policyArn": "a"}),
    "hipaa-iam-no-inline-policies": (t.IAM_POLICY, f.MANAGED_POLICY),
}

#: rule -> (violating stack, name of the resource the finding is about; None for the stack)
STACK_SUBJECTS = {
    "hipaa-backup-restore-tested": (
        f.without(f.compliant_stack(), "restore-testing-table"),
        "app-table",
    ),
    "hipaa-backup-restore-results-routed": (
        f.without(f.compliant_stack(), "vault-notifications"),
        "vault",
    ),
    "hipaa-backup-audit-framework": (
        f.replace(f.compliant_stack(), "framework", props={**f.FRAMEWORK, "controls": []}),
        "framework",
    ),
    "hipaa-dynamodb-in-backup-plan": (f.without(f.compliant_stack(), "selection"), "app-table"),
    "hipaa-backup-vault-locked": (f.without(f.compliant_stack(), "vault-lock"), "vault"),
    "hipaa-backup-cross-region-copy": (
        f.replace(f.compliant_stack(), "plan", props=mutate(f.PLAN, "rules.0.copyActions", DELETE)),
        "plan",
    ),
    "hipaa-cloudwatch-alarms-route-to-encrypted-topic": (
        f.replace(f.compliant_stack(), "throttles", props=mutate(f.ALARM, "alarmActions", [])),
        "throttles",
    ),
    "hipaa-budgets-route-to-encrypted-topic": (
        f.replace(f.compliant_stack(), "budget", props=mutate(f.BUDGET, "notifications", [])),
        "budget",
    ),
    "hipaa-sns-topic-tls-only": (f.without(f.compliant_stack(), "alerts-policy"), "alerts"),
    "hipaa-sqs-queue-tls-only": (f.without(f.compliant_stack(), "failures-policy"), "failures"),
    "hipaa-stack-data-resources-protected": (
        f.replace(f.compliant_stack(), "app-table", protect=False),
        "app-table",
    ),
    "hipaa-s3-bucket-encrypted-with-kms": (
        f.without(f.compliant_stack(), "exports-sse"),
        "exports",
    ),
    "hipaa-s3-bucket-public-access-blocked": (
        f.without(f.compliant_stack(), "exports-pab"),
        "exports",
    ),
    "hipaa-s3-bucket-versioned": (f.without(f.compliant_stack(), "exports-versioning"), "exports"),
    "hipaa-s3-bucket-tls-only": (f.without(f.compliant_stack(), "exports-policy"), "exports"),
    "hipaa-s3-bucket-tls-minimum-version": (
        f.without(f.compliant_stack(), "exports-policy"),
        "exports",
    ),
    "hipaa-s3-bucket-acls-disabled": (
        f.without(f.compliant_stack(), "exports-ownership"),
        "exports",
    ),
    "hipaa-s3-bucket-access-logging": (
        # the logging now serves another bucket: exports-logs is still a log target
        f.replace(
            f.compliant_stack(),
            "exports-logging",
            props={**f.LOGGING, "bucket": "someone-else"},
            deps={"targetBucket": ["exports-logs"]},
        ),
        "exports",
    ),
    "hipaa-s3-bucket-lifecycle": (
        f.without(f.compliant_stack(), "exports-lifecycle"),
        "exports",
    ),
    "hipaa-cloudtrail-table-data-events": (f.without(f.compliant_stack(), "trail"), "app-table"),
    "hipaa-elasticache-default-user-disabled": (
        f.replace(
            f.compliant_stack(),
            "cache-default",
            props={**f.DEFAULT_CACHE_USER, "accessString": "on ~* +@all"},
        ),
        "cache-users",
    ),
    "hipaa-elasticache-parameter-group-family": (
        f.replace(
            f.compliant_stack(),
            "cache-parameters",
            props={**f.CACHE_PARAMETER_GROUP, "family": "redis7"},
        ),
        "cache-group",
    ),
    "hipaa-rds-in-backup-plan": (
        [*f.compliant_stack(), Node(t.RDS_INSTANCE, "audit-db", f.DB_INSTANCE)],
        "audit-db",
    ),
    "hipaa-rds-alarm-set": (
        [*f.compliant_stack(), Node(t.RDS_INSTANCE, "audit-db", f.DB_INSTANCE)],
        "audit-db",
    ),
    "hipaa-stack-data-types-covered": (
        [*f.compliant_stack(), Node("aws:efs/fileSystem:FileSystem", "files", {})],
        "files",
    ),
    "hipaa-vpc-flow-logs-enabled": (f.without(f.compliant_stack(), "flow-log"), "vpc"),
    "hipaa-vpc-flow-log-destination-encrypted": (
        f.replace(
            f.compliant_stack(),
            "flow-log",
            deps={"vpcId": ["vpc"], "iamRoleArn": ["flow-logs-role"]},
        ),
        "flow-log",
    ),
    "hipaa-vpc-default-security-group-closed": (
        f.without(f.compliant_stack(), "default-sg"),
        "vpc",
    ),
}

RESOURCE_RULES = [r.name for r in all_rules() if r.scope is Scope.RESOURCE]
STACK_RULES = [r.name for r in all_rules() if r.scope is Scope.STACK]
EXPIRES = "2027-03-31"


def exemption(resource: str, expires: str = EXPIRES) -> dict:
    return {
        "exemptions": [
            {
                "resource": resource,
                "reason": "Legacy import, migrated off by the end of Q1 (see ticket).",
                "ticket": "SEC-142",
                "expires": expires,
            }
        ]
    }


@pytest.fixture
def today(monkeypatch):
    def set_today(day: str) -> None:
        monkeypatch.setattr(exemptions, "today", lambda: dt.date.fromisoformat(day))

    set_today("2026-11-24")
    return set_today


def test_every_rule_has_test_subjects():
    assert sorted(RESOURCE_SUBJECTS) == sorted(RESOURCE_RULES)
    assert sorted(STACK_SUBJECTS) == sorted(STACK_RULES)


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_compliant_baseline_passes(rule):
    type_, _ = RESOURCE_SUBJECTS[rule]
    type_, props = COMPLIANT.get(rule, (type_, f.BASELINES.get(type_)))
    outcome = run_resource(rule, type_, props)
    assert outcome.violations == []
    assert outcome.deferred is None


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_violating_subject_is_reported(rule):
    type_, props = RESOURCE_SUBJECTS[rule]
    outcome = run_resource(rule, type_, props)
    assert len(outcome.violations) >= 1
    citation = next(r for r in all_rules() if r.name == rule).citation
    assert all(v.endswith(f"[{citation}]") for v in outcome.violations)


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_other_resource_types_are_not_applicable(rule):
    _, props = RESOURCE_SUBJECTS[rule]
    outcome = run_resource(rule, "aws:ec2/instance:Instance", props)
    assert outcome.violations == []
    assert outcome.not_applicable is not None
    assert outcome.not_applicable.startswith("judges ")


@pytest.mark.parametrize("rule", STACK_RULES)
def test_compliant_stack_passes(rule):
    outcome = run_stack(rule, f.compliant_stack())
    assert outcome.violations == []
    assert outcome.not_applicable is None


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_exempted_resource_is_not_blocked_but_reported(rule, today):
    type_, props = RESOURCE_SUBJECTS[rule]
    finding = "; ".join(run_resource(rule, type_, props).violations)
    exemptions.LEDGER.drain()

    outcome = run_resource(rule, type_, props, exemption("subject"))
    assert outcome.violations == []
    assert outcome.not_applicable == (
        f"EXEMPTED (ticket SEC-142, expires {EXPIRES}: Legacy import, migrated off by the end "
        "of Q1 (see ticket).)"
    )
    report = report_exemptions()
    assert report.violations == [
        f"EXEMPTED: {rule} on subject (ticket SEC-142, expires {EXPIRES}: Legacy import, "
        f"migrated off by the end of Q1 (see ticket).). Suppressed finding: {finding}"
    ]
    assert report.urns == [urn(type_, "subject")]


@pytest.mark.parametrize("rule", RESOURCE_RULES)
def test_expired_exemption_blocks_again_and_says_so(rule, today):
    type_, props = RESOURCE_SUBJECTS[rule]
    today("2027-04-01")
    outcome = run_resource(rule, type_, props, exemption("subject"))
    assert len(outcome.violations) >= 1
    [notice] = report_exemptions().violations
    assert notice.startswith(f"EXPIRED EXEMPTION: {rule} on subject (ticket SEC-142")
    assert "Not honoured any more" in notice


def test_exemption_holds_through_its_last_day(today):
    type_, props = RESOURCE_SUBJECTS["hipaa-dynamodb-pitr-enabled"]
    today(EXPIRES)
    outcome = run_resource("hipaa-dynamodb-pitr-enabled", type_, props, exemption("subject"))
    assert outcome.violations == []
    assert outcome.not_applicable is not None
    assert outcome.not_applicable.startswith("EXEMPTED")


def test_exemption_names_one_resource_only(today):
    type_, props = RESOURCE_SUBJECTS["hipaa-dynamodb-pitr-enabled"]
    outcome = run_resource(
        "hipaa-dynamodb-pitr-enabled", type_, props, exemption("another-table"), name="subject"
    )
    assert len(outcome.violations) == 1
    [notice] = report_exemptions().violations
    assert notice.startswith("UNUSED EXEMPTION: hipaa-dynamodb-pitr-enabled on another-table")


def test_exemption_by_urn(today):
    type_, props = RESOURCE_SUBJECTS["hipaa-dynamodb-pitr-enabled"]
    outcome = run_resource(
        "hipaa-dynamodb-pitr-enabled", type_, props, exemption(urn(type_, "subject"))
    )
    assert outcome.violations == []


def test_exemption_with_impossible_date_is_reported_not_honoured(today):
    type_, props = RESOURCE_SUBJECTS["hipaa-dynamodb-pitr-enabled"]
    outcome = run_resource(
        "hipaa-dynamodb-pitr-enabled", type_, props, exemption("subject", expires="2027-02-30")
    )
    assert any(
        "invalid pack config: hipaa-dynamodb-pitr-enabled.exemptions[0].expires: '2027-02-30' "
        "is not a calendar date" in v
        for v in outcome.violations
    )
    assert any("pointInTimeRecovery.enabled is not set" in v for v in outcome.violations)


@pytest.mark.parametrize("rule", STACK_RULES)
def test_exempted_stack_finding_is_not_blocked_but_reported(rule, today):
    nodes, name = STACK_SUBJECTS[rule]
    plain = run_stack(rule, nodes)
    assert len(plain.violations) >= 1
    exemptions.LEDGER.drain()
    outcome = run_stack(rule, nodes, exemption(name))
    assert outcome.violations == []
    notices = report_exemptions().violations
    assert notices
    assert all(n.startswith(f"EXEMPTED: {rule} on {name} (ticket SEC-142") for n in notices)


def test_config_deviation_is_reported():
    type_ = t.TABLE
    run_resource("hipaa-dynamodb-pitr-enabled", type_, f.TABLE, {"minRecoveryPeriodDays": 7.0})
    assert report_exemptions().violations == [
        "CONFIG DEVIATION: hipaa-dynamodb-pitr-enabled runs with minRecoveryPeriodDays = 7 "
        "(secure default 35), as set in this stack's pack config"
    ]


def test_reporter_is_not_applicable_when_nothing_to_report():
    assert report_exemptions().not_applicable == "no exemptions or config deviations"


def test_invalid_exemption_is_not_reported_on_resources_the_rule_does_not_judge(today):
    outcome = run_resource(
        "hipaa-dynamodb-pitr-enabled",
        "aws:ec2/instance:Instance",
        {},
        exemption("subject", expires="2027-02-30"),
    )
    assert outcome.violations == []
    assert outcome.not_applicable is not None


def test_invalid_exemption_on_a_stack_rule_is_reported(today):
    outcome = run_stack(
        "hipaa-dynamodb-in-backup-plan",
        f.without(f.compliant_stack(), "selection"),
        exemption("app-table", expires="2027-13-01"),
    )
    assert len(outcome.violations) == 2
    assert "'2027-13-01' is not a calendar date" in outcome.violations[0]
    assert "is not selected by any AWS Backup selection" in outcome.violations[1]


def test_several_findings_on_one_exempted_resource_make_one_notice(today):
    rule = "hipaa-kms-key-deletion-guarded"
    key = {**f.KEY, "isEnabled": False, "deletionWindowInDays": 7}
    assert len(run_resource(rule, t.KMS_KEY, key).violations) == 2
    exemptions.LEDGER.drain()
    run_resource(rule, t.KMS_KEY, key, exemption("subject"))
    run_resource(rule, t.KMS_KEY, key, exemption("subject"))  # analyzed again: still one notice
    [notice] = report_exemptions().violations
    assert "Suppressed finding: isEnabled is false" in notice
    assert "; deletionWindowInDays is 7" in notice
