"""The local environment end to end: setup -> seed -> validate, in process and over HTTP against a
real moto_server; and drift: break one thing at a time and validate-setup reports exactly that row.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from datalayer.synthetic import DatasetShape, generate_dataset
from scripts.aws_target import Clients
from scripts.seed_data import seed
from scripts.servers.postgres import free_port
from scripts.services.monitoring import alarm_request
from scripts.setup_database import setup_local
from scripts.validate_setup import Report, validate
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions.monitoring import alarm_definitions
from tests.moto_env import isolate_from_real_aws

REPO = Path(__file__).resolve().parents[1]

#: Checks moto 5.2.5 cannot answer: a correct local dev environment SKIPs exactly these.
DEV_SKIPS = {
    "kms.table.rotation-period",
    "kms.phi.rotation-period",
    "kms.alerts.rotation-period",
    "kms.backup.rotation-period",
    "kms.audit.rotation-period",
    "kms.cache.rotation-period",
    "kms.audit-db.rotation-period",
    "kms.logs.rotation-period",
    "table.max-throughput",
    "table.contributor-insights",
    "backup.region-settings",
    "backup.selection",
    "recovery.vault-notifications",
    "recovery.restore-testing-plan",
    "recovery.restore-testing-selection",
    "budget.subscribers",
    # moto implements neither ElastiCache user groups nor parameter groups.
    "cache.user_group",
    "cache.parameter_group",
    # The audit database: fields moto does not report, and no local PostgreSQL in these flows
    # (tests/scripts/test_audit_database_local.py runs one).
    "audit-db.instance.EnablePerformanceInsights",
    "audit-db.instance.PerformanceInsightsKMSKeyId",
    "audit-db.instance.PerformanceInsightsRetentionPeriod",
    "audit-db.postgres.major",
    "audit-db.postgres.log_connections",
    "audit-db.postgres.log_disconnections",
    "audit-db.postgres.roles",
    # The stream consumer: the mapping is the local poller (moto would invoke Docker and drop
    # the stream records), no local VPC, and moto does not return LoggingConfig.
    "kms.consumer.rotation-period",
    "consumer.mapping",
    "consumer.function-vpc",
    "consumer.function-logging",
    # The cache invalidator, for the same reasons.
    "invalidator.mapping",
    "invalidator.function-vpc",
    "invalidator.function-logging",
}


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    isolate_from_real_aws(monkeypatch, managed_policies=True)
    with mock_aws():
        yield


def local_clients(cfg: StackConfig) -> Clients:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=cfg.region
    )
    return Clients(session, emulator=True)


def failing(report: Report) -> set[str]:
    return {row.check for row in report.rows if row.status == "FAIL"}


def test_setup_seed_validate_in_process(moto: None):
    cfg = load_stack_config("dev")
    clients = local_clients(cfg)
    setup_local(cfg, clients)
    dataset = generate_dataset(
        7, date(2026, 11, 24), DatasetShape(clinics=1, patients_per_clinic=3)
    )
    summary = seed(clients, cfg, dataset, progress=False)
    assert summary["patients"] == 3

    report = validate(cfg, clients, target="moto")

    assert failing(report) == set()
    assert {r.check for r in report.rows if r.status == "SKIP"} == DEV_SKIPS
    # The seeded items are where the table design says: one Query on GSI1, no Scan.
    found = clients("dynamodb").query(
        TableName=cfg.names.table,
        IndexName="ByEntityType",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={
            ":pk": {"S": f"CLINIC#{dataset.clinics[0].clinic_id}#ENTITY#PATIENT"}
        },
    )
    assert found["Count"] == 3


# --- over HTTP, the way `make local` runs it -----------------------------------------------------


def test_make_local_steps_against_moto_server(tmp_path: Path):
    port = free_port()
    state = tmp_path / "state"
    endpoint = f"http://127.0.0.1:{port}"
    # The local steps' environment: only the emulator's dummy credentials and its endpoint.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and key != "MOTO_IAM_LOAD_MANAGED_POLICIES"
    }
    env.update(MOTO_PORT=str(port), LOCAL_STATE_DIR=str(state), AWS_ENDPOINT_URL=endpoint)
    # moto_server alone: the audit servers and make local's audit step are covered by
    # tests/scripts/test_local_audit_servers.py.
    env["LOCAL_AUDIT"] = "0"

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
        )

    python = sys.executable
    started = run(str(REPO / "scripts" / "start-local.sh"))
    assert started.returncode == 0, started.stderr
    try:
        first = run(python, "-m", "scripts.setup_database", "--stack", "dev", "--format", "json")
        assert first.returncode == 0, first.stderr
        outcomes = {a["resource"]: a["outcome"] for a in json.loads(first.stdout)["actions"]}
        assert outcomes["dynamodb table"] == "created"
        # start-local.sh loads AWS managed policies, so the role gets them as in AWS.
        role = next(
            a
            for a in json.loads(first.stdout)["actions"]
            if (a["resource"], a["name"]) == ("iam role", "medeez-dev-backup")
        )
        assert role["detail"] == (
            "AWSBackupServiceRolePolicyForBackup, AWSBackupServiceRolePolicyForRestores, "
            "medeez-dev-backup-keys"
        )

        second = run(python, "-m", "scripts.setup_database", "--stack", "dev")
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines()[-1].startswith(
            f"nothing to change: local endpoint {endpoint} already matches stack dev"
        )

        seeded = run(
            python, "-m", "scripts.seed_data", "--stack", "dev", "--clinics", "1",
            "--patients", "2", "--no-progress",
        )  # fmt: skip
        assert seeded.returncode == 0, seeded.stderr

        checked = run(python, "-m", "scripts.validate_setup", "--stack", "dev", "--format", "json")
        assert checked.returncode == 0, checked.stdout
        rows = json.loads(checked.stdout)["checks"]
        assert {r["check"] for r in rows if r["status"] == "FAIL"} == set()
        assert {r["check"] for r in rows if r["status"] == "SKIP"} == DEV_SKIPS
    finally:
        stopped = run(str(REPO / "scripts" / "stop-local.sh"))
    assert stopped.returncode == 0
    assert not (state / "moto.pid").exists()


# --- drift: one thing broken, exactly one row fails ----------------------------------------------

Break = Callable[[StackConfig, Clients], None]


def _arn(clients: Clients, alias: str, region: str | None = None) -> str:
    return str(clients("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["Arn"])


def _topic(clients: Clients, cfg: StackConfig) -> str:
    return f"arn:aws:sns:{cfg.region}:123456789012:{cfg.names.topic}"


def pitr_off(cfg: StackConfig, clients: Clients) -> None:
    clients("dynamodb").update_continuous_backups(
        TableName=cfg.names.table,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )


def pitr_period_shortened(cfg: StackConfig, clients: Clients) -> None:
    clients("dynamodb").update_continuous_backups(
        TableName=cfg.names.table,
        PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": 3,
        },
    )


def ttl_off(cfg: StackConfig, clients: Clients) -> None:
    clients("dynamodb").update_time_to_live(
        TableName=cfg.names.table,
        TimeToLiveSpecification={"Enabled": False, "AttributeName": cfg.table.ttl_attribute},
    )


def deletion_protection_off(cfg: StackConfig, clients: Clients) -> None:
    clients("dynamodb").update_table(TableName=cfg.names.table, DeletionProtectionEnabled=False)


def tag_changed(cfg: StackConfig, clients: Clients) -> None:
    ddb = clients("dynamodb")
    arn = ddb.describe_table(TableName=cfg.names.table)["Table"]["TableArn"]
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "DataClassification", "Value": "public"}])


def gsi_dropped(cfg: StackConfig, clients: Clients) -> None:
    clients("dynamodb").update_table(
        TableName=cfg.names.table,
        GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "ExternalIDs"}}],
    )


def table_key_alias_moved(cfg: StackConfig, clients: Clients) -> None:
    # The alias now names another key: the table is encrypted with a key the alias no longer
    # resolves to.
    clients("kms").update_alias(
        AliasName=cfg.names.key_alias("table"),
        TargetKeyId=_arn(clients, cfg.names.key_alias("phi")),
    )


def key_rotation_off(cfg: StackConfig, clients: Clients) -> None:
    clients("kms").disable_key_rotation(KeyId=_arn(clients, cfg.names.key_alias("phi")))


def alias_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("kms").delete_alias(AliasName=cfg.names.key_alias("backup"))


def alarm_without_actions(cfg: StackConfig, clients: Clients) -> None:
    spec = next(s for s in alarm_definitions(cfg) if s.key == "latency-Query")
    request = alarm_request(spec, _topic(clients, cfg), {})
    request.update(AlarmActions=[], OKActions=[])
    clients("cloudwatch").put_metric_alarm(**request)


def alarm_threshold_raised(cfg: StackConfig, clients: Clients) -> None:
    spec = next(s for s in alarm_definitions(cfg) if s.key == "table-write-throttles")
    request = alarm_request(spec, _topic(clients, cfg), {})
    request["Threshold"] = 1000.0
    clients("cloudwatch").put_metric_alarm(**request)


def alarm_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("cloudwatch").delete_alarms(AlarmNames=[f"{cfg.names.prefix}-backup-missing"])


def cache_user_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("elasticache").delete_user(UserId=cfg.names.cache_user_id("application"))


def cache_alarm_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("cloudwatch").delete_alarms(AlarmNames=[f"{cfg.names.cache_node(1)}-evictions"])


def cache_secret_on_wrong_key(cfg: StackConfig, clients: Clients) -> None:
    clients("secretsmanager").update_secret(
        SecretId=cfg.names.cache_secret("admin"),
        KmsKeyId=_arn(clients, cfg.names.key_alias("table")),
    )


def _failure_queue(cfg: StackConfig, clients: Clients) -> str:
    name = f"{cfg.names.stream_consumer_failures}"
    return str(clients("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def failure_queue_on_sqs_managed_keys(cfg: StackConfig, clients: Clients) -> None:
    sqs, url = clients("sqs"), _failure_queue(cfg, clients)
    # moto drops a queue's policy on any SetQueueAttributes that omits it: send it again.
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    sqs.set_queue_attributes(
        QueueUrl=url,
        Attributes={"KmsMasterKeyId": "", "SqsManagedSseEnabled": "true", **policy},
    )


def failure_queue_policy_removed(cfg: StackConfig, clients: Clients) -> None:
    clients("sqs").set_queue_attributes(
        QueueUrl=_failure_queue(cfg, clients), Attributes={"Policy": ""}
    )


def consumer_memory_changed(cfg: StackConfig, clients: Clients) -> None:
    clients("lambda").update_function_configuration(
        FunctionName=cfg.names.stream_consumer, MemorySize=1024
    )


def consumer_concurrency_removed(cfg: StackConfig, clients: Clients) -> None:
    clients("lambda").delete_function_concurrency(FunctionName=cfg.names.stream_consumer)


def consumer_alarm_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("cloudwatch").delete_alarms(AlarmNames=[f"{cfg.names.prefix}-stream-consumer-errors"])


def invalidator_user_changed(cfg: StackConfig, clients: Clients) -> None:
    # The function logs in as another cache user: its environment drifted from the definition.
    lam = clients("lambda")
    name = cfg.names.cache_invalidator
    variables = lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {**variables, "CACHE_USER": "app"}}
    )


def invalidator_queue_retention_shortened(cfg: StackConfig, clients: Clients) -> None:
    sqs = clients("sqs")
    url = sqs.get_queue_url(QueueName=cfg.names.cache_invalidator_failures)["QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])["Attributes"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MessageRetentionPeriod": "60", **policy})


def topic_unencrypted(cfg: StackConfig, clients: Clients) -> None:
    clients("sns").set_topic_attributes(
        TopicArn=_topic(clients, cfg), AttributeName="KmsMasterKeyId", AttributeValue=""
    )


def topic_on_wrong_key(cfg: StackConfig, clients: Clients) -> None:
    clients("sns").set_topic_attributes(
        TopicArn=_topic(clients, cfg),
        AttributeName="KmsMasterKeyId",
        AttributeValue=_arn(clients, cfg.names.key_alias("table")),
    )


def subscription_removed(cfg: StackConfig, clients: Clients) -> None:
    sns = clients("sns")
    (subscription,) = sns.list_subscriptions_by_topic(TopicArn=_topic(clients, cfg))[
        "Subscriptions"
    ]
    sns.unsubscribe(SubscriptionArn=subscription["SubscriptionArn"])


def budget_notification_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("budgets").delete_notification(
        AccountId="123456789012",
        BudgetName=cfg.names.budget,
        Notification={
            "NotificationType": "FORECASTED",
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": 100.0,
            "ThresholdType": "PERCENTAGE",
        },
    )


def vault_unlocked(cfg: StackConfig, clients: Clients) -> None:
    clients("backup").delete_backup_vault_lock_configuration(BackupVaultName=cfg.names.vault)


def dr_vault_unlocked(cfg: StackConfig, clients: Clients) -> None:
    clients("backup", cfg.dr_region).delete_backup_vault_lock_configuration(
        BackupVaultName=cfg.names.dr_vault
    )


def phi_key_policy_opened(cfg: StackConfig, clients: Clients) -> None:
    # The deny that binds every PHI ciphertext to a clinic is gone: any caller may decrypt
    # without the clinicId encryption context.
    kms = clients("kms")
    arn = _arn(clients, cfg.names.key_alias("phi"))
    policy = json.loads(kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if s["Effect"] != "Deny"]
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))


def key_description_changed(cfg: StackConfig, clients: Clients) -> None:
    clients("kms").update_key_description(
        KeyId=_arn(clients, cfg.names.key_alias("alerts")), Description="scratch"
    )


def topic_policy_removed(cfg: StackConfig, clients: Clients) -> None:
    # Publishing without TLS is allowed again (the default topic policy).
    clients("sns").set_topic_attributes(
        TopicArn=_topic(clients, cfg),
        AttributeName="Policy",
        AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )


def dashboard_replaced(cfg: StackConfig, clients: Clients) -> None:
    clients("cloudwatch").put_dashboard(
        DashboardName=cfg.names.dashboard, DashboardBody=json.dumps({"widgets": []})
    )


def role_trusts_any_account(cfg: StackConfig, clients: Clients) -> None:
    # Without aws:SourceAccount, AWS Backup acting for any account could assume the role.
    clients("iam").update_assume_role_policy(
        RoleName=cfg.names.backup_role,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "backup.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )


def role_key_grant_detached(cfg: StackConfig, clients: Clients) -> None:
    clients("iam").detach_role_policy(
        RoleName=cfg.names.backup_role,
        PolicyArn=f"arn:aws:iam::123456789012:policy/{cfg.names.backup_role}-keys",
    )


def _audit_bucket(cfg: StackConfig) -> str:
    return cfg.names.audit_bucket("123456789012")


def audit_bucket_public(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").delete_public_access_block(Bucket=_audit_bucket(cfg))


def audit_bucket_lock_shortened(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").put_object_lock_configuration(
        Bucket=_audit_bucket(cfg),
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )


def audit_bucket_policy_removed(cfg: StackConfig, clients: Clients) -> None:
    # Plain HTTP is accepted again.
    clients("s3").delete_bucket_policy(Bucket=_audit_bucket(cfg))


def trail_table_data_events_dropped(cfg: StackConfig, clients: Clients) -> None:
    # Someone narrows the trail to management events: table reads go unrecorded.
    clients("cloudtrail").put_event_selectors(
        TrailName=cfg.names.trail,
        AdvancedEventSelectors=[
            {
                "Name": "Management events",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            }
        ],
    )


def trail_stopped(cfg: StackConfig, clients: Clients) -> None:
    clients("cloudtrail").stop_logging(Name=cfg.names.trail)


def audit_bucket_lifecycle_removed(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").delete_bucket_lifecycle(Bucket=_audit_bucket(cfg))


def audit_bucket_access_logging_off(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").put_bucket_logging(Bucket=_audit_bucket(cfg), BucketLoggingStatus={})


def access_log_bucket_versioning_suspended(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").put_bucket_versioning(
        Bucket=cfg.names.audit_access_log_bucket("123456789012"),
        VersioningConfiguration={"Status": "Suspended"},
    )


def audit_bucket_on_table_key(cfg: StackConfig, clients: Clients) -> None:
    clients("s3").put_bucket_encryption(
        Bucket=_audit_bucket(cfg),
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": _arn(clients, cfg.names.key_alias("table")),
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )


def report_plan_deleted(cfg: StackConfig, clients: Clients) -> None:
    clients("backup").delete_report_plan(ReportPlanName=cfg.names.report_plan("restore_jobs"))


def tenant_policy_opened(cfg: StackConfig, clients: Clients) -> None:
    arn = f"arn:aws:iam::123456789012:policy/{cfg.names.role_policy('tenant')}"
    clients("iam").create_policy_version(
        PolicyArn=arn,
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": "*"}],
            }
        ),
        SetAsDefault=True,
    )


def tenant_boundary_removed(cfg: StackConfig, clients: Clients) -> None:
    clients("iam").delete_role_permissions_boundary(RoleName=cfg.names.role("tenant"))


def operations_session_lengthened(cfg: StackConfig, clients: Clients) -> None:
    clients("iam").update_role(RoleName=cfg.names.role("operations"), MaxSessionDuration=43200)


def deploy_trusts_any_repository(cfg: StackConfig, clients: Clients) -> None:
    role = clients("iam").get_role(RoleName=cfg.names.role("deploy"))["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    condition = trust["Statement"][0]["Condition"]
    condition["StringLike"] = {"token.actions.githubusercontent.com:sub": "repo:*"}
    del condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
    clients("iam").update_assume_role_policy(
        RoleName=cfg.names.role("deploy"), PolicyDocument=json.dumps(trust)
    )


def _vpc(cfg: StackConfig, clients: Clients) -> str:
    vpcs = clients("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [cfg.names.vpc]}])
    return str(vpcs["Vpcs"][0]["VpcId"])


def _group(cfg: StackConfig, clients: Clients, name: str) -> str:
    filters = [
        {"Name": "vpc-id", "Values": [_vpc(cfg, clients)]},
        {"Name": "group-name", "Values": [name]},
    ]
    return str(
        clients("ec2").describe_security_groups(Filters=filters)["SecurityGroups"][0]["GroupId"]
    )


ANYWHERE_POSTGRES = [
    {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
]


def subnet_maps_public_ips(cfg: StackConfig, clients: Clients) -> None:
    ec2 = clients("ec2")
    filters = [{"Name": "tag:Name", "Values": [cfg.names.subnet(0)]}]
    subnet = ec2.describe_subnets(Filters=filters)["Subnets"][0]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})


def default_group_opened(cfg: StackConfig, clients: Clients) -> None:
    clients("ec2").authorize_security_group_ingress(
        GroupId=_group(cfg, clients, "default"), IpPermissions=ANYWHERE_POSTGRES
    )


def database_open_to_anywhere(cfg: StackConfig, clients: Clients) -> None:
    clients("ec2").authorize_security_group_ingress(
        GroupId=_group(cfg, clients, cfg.names.security_group("database")),
        IpPermissions=ANYWHERE_POSTGRES,
    )


def internet_gateway_attached(cfg: StackConfig, clients: Clients) -> None:
    ec2 = clients("ec2")
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=_vpc(cfg, clients))


def gateway_endpoint_opened(cfg: StackConfig, clients: Clients) -> None:
    ec2 = clients("ec2")
    filters = [
        {"Name": "vpc-id", "Values": [_vpc(cfg, clients)]},
        {"Name": "service-name", "Values": [f"com.amazonaws.{cfg.region}.dynamodb"]},
    ]
    endpoint = ec2.describe_vpc_endpoints(Filters=filters)["VpcEndpoints"][0]["VpcEndpointId"]
    open_policy = {
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    }
    ec2.modify_vpc_endpoint(VpcEndpointId=endpoint, PolicyDocument=json.dumps(open_policy))


def flow_log_deleted(cfg: StackConfig, clients: Clients) -> None:
    ec2 = clients("ec2")
    filters = [{"Name": "resource-id", "Values": [_vpc(cfg, clients)]}]
    ids = [f["FlowLogId"] for f in ec2.describe_flow_logs(Filters=filters)["FlowLogs"]]
    ec2.delete_flow_logs(FlowLogIds=ids)


def flow_log_retention_shortened(cfg: StackConfig, clients: Clients) -> None:
    clients("logs").put_retention_policy(logGroupName=cfg.names.flow_log_group, retentionInDays=7)


def _build_with(section: str, change: dict[str, Any]) -> Callable[[StackConfig], StackConfig]:
    """A config that differs from the stack's in one setting of ``section``: the environment is
    built from it, then validated against the real stack config. (For what moto cannot change
    after creation: GSI projections, stream view, backup plans.)"""

    def variant(cfg: StackConfig) -> StackConfig:
        changed = getattr(cfg, section).model_copy(update=change)
        return cfg.model_copy(update={section: changed})

    return variant


def _dev_projections_with_prod_by_status() -> dict[str, Any]:
    dev, prod = load_stack_config("dev"), load_stack_config("prod")
    return {**dev.table.projections, "ByStatus": prod.table.projections["ByStatus"]}


DRIFTS: list[tuple[str, str, Break | None, Callable[[StackConfig], StackConfig] | None, str]] = [
    ("dev", "PITR off", pitr_off, None, "table.pitr"),
    ("dev", "PITR window shortened", pitr_period_shortened, None, "table.pitr"),
    ("dev", "TTL off", ttl_off, None, "table.ttl"),
    ("dev", "deletion protection off", deletion_protection_off, None, "table.deletion-protection"),
    ("dev", "a tag changed", tag_changed, None, "table.tags"),
    ("dev", "a GSI dropped", gsi_dropped, None, "table.gsi.ExternalIDs"),
    # The alias now resolves to the PHI key: the table, the key's own rows and the backup role's
    # key grant all disagree with it.
    (
        "dev",
        "table key alias moved",
        table_key_alias_moved,
        None,
        "table.sse kms.table.description kms.table.policy backup.role",
    ),
    ("dev", "PHI key rotation off", key_rotation_off, None, "kms.phi.rotation"),
    ("dev", "a subnet maps public IPs", subnet_maps_public_ips, None, "network.subnets"),
    (
        "dev",
        "default security group opened",
        default_group_opened,
        None,
        "network.default-security-group",
    ),
    (
        "dev",
        "database open to anywhere",
        database_open_to_anywhere,
        None,
        "network.security-group.database",
    ),
    (
        "dev",
        "internet gateway attached",
        internet_gateway_attached,
        None,
        "network.no-internet-path",
    ),
    ("dev", "gateway endpoint opened", gateway_endpoint_opened, None, "network.endpoint.dynamodb"),
    ("prod", "flow log deleted", flow_log_deleted, None, "network.flow-log"),
    (
        "dev",
        "flow log retention shortened",
        flow_log_retention_shortened,
        None,
        "network.flow-log-group",
    ),
    (
        "dev",
        "an interface endpoint missing",
        None,
        _build_with("network", {"interface_endpoints": ("sts",)}),
        "network.endpoint.secretsmanager",
    ),
    ("dev", "backup key alias deleted", alias_deleted, None, "kms.backup.alias"),
    ("dev", "an alarm without actions", alarm_without_actions, None, "alarm.latency-Query"),
    (
        "dev",
        "an alarm threshold raised",
        alarm_threshold_raised,
        None,
        "alarm.table-write-throttles",
    ),
    ("dev", "an alarm deleted", alarm_deleted, None, "alarm.backup-missing"),
    ("dev", "cache user deleted", cache_user_deleted, None, "cache.user.application"),
    ("dev", "cache alarm deleted", cache_alarm_deleted, None, "cache.alarms"),
    ("dev", "cache secret on the table key", cache_secret_on_wrong_key, None, "cache.secret.admin"),
    (
        "dev",
        "cache built on another node type",
        None,
        _build_with("cache", {"node_type": "cache.t4g.small"}),
        "cache.replication_group",
    ),
    ("dev", "topic unencrypted", topic_unencrypted, None, "sns.topic-encryption"),
    (
        "dev",
        "failure queue on SQS-managed keys",
        failure_queue_on_sqs_managed_keys,
        None,
        "consumer.queue-encryption",
    ),
    (
        "dev",
        "failure queue policy removed",
        failure_queue_policy_removed,
        None,
        "consumer.queue-policy",
    ),
    ("dev", "consumer memory changed", consumer_memory_changed, None, "consumer.function"),
    (
        "prod",
        "consumer concurrency removed",
        consumer_concurrency_removed,
        None,
        "consumer.function-concurrency",
    ),
    ("dev", "consumer alarm deleted", consumer_alarm_deleted, None, "consumer.alarms"),
    ("dev", "invalidator user changed", invalidator_user_changed, None, "invalidator.function"),
    (
        "dev",
        "invalidator queue retention shortened",
        invalidator_queue_retention_shortened,
        None,
        "invalidator.queue-retention",
    ),
    ("dev", "topic on the wrong key", topic_on_wrong_key, None, "sns.topic-encryption"),
    ("dev", "alert subscription removed", subscription_removed, None, "sns.subscriptions"),
    (
        "dev",
        "budget notification deleted",
        budget_notification_deleted,
        None,
        "budget.notifications",
    ),
    (
        "dev",
        "budget limit raised",
        None,
        _build_with("budget", {"monthly_limit_usd": 5000.0}),
        "budget",
    ),
    ("prod", "vault lock removed", vault_unlocked, None, "backup.vault-lock"),
    ("prod", "DR vault lock removed", dr_vault_unlocked, None, "backup.dr-vault-lock"),
    ("dev", "PHI key policy opened", phi_key_policy_opened, None, "kms.phi.policy"),
    (
        "prod",
        "audit bucket public access block removed",
        audit_bucket_public,
        None,
        "audit.bucket.public-access-block",
    ),
    (
        "prod",
        "audit bucket lock shortened",
        audit_bucket_lock_shortened,
        None,
        "audit.bucket.object-lock",
    ),
    (
        "prod",
        "audit bucket policy removed",
        audit_bucket_policy_removed,
        None,
        "audit.bucket.policy",
    ),
    (
        "prod",
        "audit bucket on the table key",
        audit_bucket_on_table_key,
        None,
        "audit.bucket.encryption",
    ),
    (
        "dev",
        "trail no longer records the table's data events",
        trail_table_data_events_dropped,
        None,
        "trail.event-selectors",
    ),
    ("prod", "trail stopped logging", trail_stopped, None, "trail.logging"),
    (
        "dev",
        "audit bucket lifecycle removed",
        audit_bucket_lifecycle_removed,
        None,
        "audit.bucket.lifecycle",
    ),
    (
        "prod",
        "audit bucket access logging off",
        audit_bucket_access_logging_off,
        None,
        "audit.bucket.logging",
    ),
    (
        "dev",
        "access-log bucket versioning suspended",
        access_log_bucket_versioning_suspended,
        None,
        "audit.access-log-bucket.versioning",
    ),
    (
        "prod",
        "restore-job report plan deleted",
        report_plan_deleted,
        None,
        "recovery.report-plan.restore-jobs",
    ),
    ("dev", "key description changed", key_description_changed, None, "kms.alerts.description"),
    ("dev", "topic policy removed", topic_policy_removed, None, "sns.topic-policy"),
    ("dev", "dashboard replaced", dashboard_replaced, None, "cloudwatch.dashboard"),
    ("dev", "backup role trusts any account", role_trusts_any_account, None, "backup.role"),
    ("dev", "backup role's key grant detached", role_key_grant_detached, None, "backup.role"),
    ("dev", "tenant policy opened to Scan", tenant_policy_opened, None, "access.tenant"),
    ("dev", "tenant role's boundary removed", tenant_boundary_removed, None, "access.tenant"),
    (
        "prod",
        "operations sessions lengthened",
        operations_session_lengthened,
        None,
        "access.operations",
    ),
    (
        "dev",
        "deploy role trusts any repository",
        deploy_trusts_any_repository,
        None,
        "access.deploy",
    ),
    (
        "dev",
        "budget filtered on another tag value",
        None,
        _build_with("budget", {"cost_allocation_tag": "CostCenter"}),
        "budget",
    ),
    (
        "dev",
        "a GSI's projection different",
        None,
        _build_with("table", {"projections": _dev_projections_with_prod_by_status()}),
        "table.gsi.ByStatus.projection",
    ),
    (
        "dev",
        "stream view narrowed",
        None,
        _build_with("table", {"stream_view_type": "KEYS_ONLY"}),
        "table.stream",
    ),
    (
        "dev",
        "TTL on another attribute",
        None,
        _build_with("table", {"ttl_attribute": "ttl"}),
        "table.ttl",
    ),
    (
        "dev",
        "backup retention shortened",
        None,
        _build_with("backup", {"retention_days": 1}),
        "backup.plan",
    ),
    (
        "prod",
        "copy retention shortened",
        None,
        _build_with(
            "backup",
            {
                "cross_region_copy": load_stack_config("prod").backup.cross_region_copy.model_copy(
                    update={"retention_days": 7}
                )
            },
        ),
        "backup.copy-rule",
    ),
]


@pytest.mark.parametrize(
    ("stack", "what", "breaker", "variant", "check"),
    DRIFTS,
    ids=[d[1] for d in DRIFTS],
)
def test_one_drift_fails_exactly_its_row(
    moto: None,
    stack: str,
    what: str,
    breaker: Break | None,
    variant: Callable[[StackConfig], StackConfig] | None,
    check: str,
):
    cfg = load_stack_config(stack)
    clients = local_clients(cfg)
    setup_local(variant(cfg) if variant else cfg, clients)
    assert failing(validate(cfg, clients, target="moto")) == ({check} if variant else set()), (
        "the environment must be right before it is broken"
    )
    if breaker:
        breaker(cfg, clients)

    report = validate(cfg, clients, target="moto")

    checks = set(check.split())
    assert failing(report) == checks, what
    for check_id in checks:
        row = report.row(check_id)
        assert row.found
        assert row.expected != row.found
