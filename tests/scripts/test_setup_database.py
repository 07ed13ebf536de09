"""setup_database: the local environment is built exactly from the stack config, idempotently, and
nothing is ever created against AWS."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from scripts import setup_database
from scripts.aws_target import Clients
from scripts.services.backup import ensure_backup_selection
from scripts.services.base import SetupResult
from scripts.services.table import create_table_request
from scripts.setup_database import SetupError, setup_local, wait_until_ready
from stackspec.config.stack import StackConfig
from stackspec.definitions import stack_definition
from stackspec.definitions.backup import BackupDefinition
from stackspec.definitions.monitoring import alarm_definitions
from stackspec.definitions.table import table_definition

#: The AWS managed policies the backup role carries (beside the stack's own key grant).
BACKUP_ROLE_POLICIES = tuple(BackupDefinition.managed_policy_arns("aws").values())


def _key_arn(clients: Clients, alias: str, region: str | None = None) -> str:
    return str(clients("kms", region).describe_key(KeyId=alias)["KeyMetadata"]["Arn"])


def _outcomes(result: SetupResult) -> dict[str, str]:
    return {f"{a.resource}: {a.name}": a.outcome for a in result.actions}


def test_table_is_created_exactly_as_the_table_spec_declares(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    ddb = clients("dynamodb")
    table = ddb.describe_table(TableName="medeez-dev-app")["Table"]
    table_key = _key_arn(clients, "alias/medeez-dev-table")
    request = create_table_request(table_definition(dev), table_key)

    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == request["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        request["AttributeDefinitions"], key=str
    )
    live_indexes = {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]
    }
    assert live_indexes == {
        i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in request["GlobalSecondaryIndexes"]
    }
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"] == {
        "Status": "ENABLED",
        "SSEType": "KMS",
        "KMSMasterKeyArn": table_key,
    }
    assert table["StreamSpecification"] == {
        "StreamEnabled": True,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    assert table["DeletionProtectionEnabled"] is True
    pitr = ddb.describe_continuous_backups(TableName="medeez-dev-app")[
        "ContinuousBackupsDescription"
    ]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["RecoveryPeriodInDays"] == 7  # Pulumi.dev.yaml
    ttl = ddb.describe_time_to_live(TableName="medeez-dev-app")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiresAt"}
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags} == dev.tags.as_dict()


def test_prod_projections_reach_the_local_table(prod: StackConfig, clients_for):
    clients = clients_for(prod)
    setup_local(prod, clients)
    table = clients("dynamodb").describe_table(TableName="medeez-prod-app")["Table"]
    projections = {i["IndexName"]: i["Projection"] for i in table["GlobalSecondaryIndexes"]}
    assert projections["ByEntityType"] == {"ProjectionType": "KEYS_ONLY"}
    assert projections["ByProviderTime"]["ProjectionType"] == "INCLUDE"
    assert "appointmentType" in projections["ByProviderTime"]["NonKeyAttributes"]


def test_keys_have_the_stack_aliases_and_rotation(prod: StackConfig, clients_for):
    clients = clients_for(prod)
    setup_local(prod, clients)
    for purpose, region in [
        ("table", "us-east-1"),
        ("phi", "us-east-1"),
        ("alerts", "us-east-1"),
        ("backup", "us-east-1"),
        ("backup-dr", "us-west-2"),  # prod copies backups cross-region
    ]:
        kms = clients("kms", region)
        meta = kms.describe_key(KeyId=f"alias/medeez-prod-{purpose}")["KeyMetadata"]
        assert meta["KeyManager"] == "CUSTOMER"
        assert meta["KeySpec"] == "SYMMETRIC_DEFAULT"
        assert kms.get_key_rotation_status(KeyId=meta["Arn"])["KeyRotationEnabled"] is True


def test_dev_has_no_dr_key_or_vault(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    west_aliases = clients("kms", "us-west-2").list_aliases()["Aliases"]
    assert not [a for a in west_aliases if a["AliasName"].startswith("alias/medeez-")]
    assert clients("backup", "us-west-2").list_backup_vaults()["BackupVaultList"] == []


def test_topic_is_encrypted_and_every_alarm_notifies_it(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    sns = clients("sns")
    (topic,) = sns.list_topics()["Topics"]
    topic_arn = topic["TopicArn"]
    assert topic_arn.endswith(":medeez-dev-alerts")
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attributes["KmsMasterKeyId"] == _key_arn(clients, "alias/medeez-dev-alerts")
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subscriptions] == [
        ("email", "platform-alerts-dev@medeez.example")
    ]

    alarms = clients("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]
    definition = stack_definition(dev)
    specs = {
        spec.name: spec
        for spec in (
            *alarm_definitions(dev),
            *definition.cache.alarms,
            *definition.audit_database.alarms,
            *definition.stream_consumer.alarms,
            *definition.cache_invalidator.alarms,
        )
    }
    assert {a["AlarmName"] for a in alarms} == set(specs)
    for alarm in alarms:
        spec = specs[alarm["AlarmName"]]
        assert alarm["AlarmActions"] == [topic_arn]
        assert alarm["OKActions"] == [topic_arn]
        assert alarm["Threshold"] == spec.threshold
        assert alarm["EvaluationPeriods"] == spec.evaluation_periods
        assert alarm["TreatMissingData"] == spec.treat_missing_data
    system_errors = next(a for a in alarms if a["AlarmName"] == "medeez-dev-system-errors")
    assert [m["Id"] for m in system_errors["Metrics"]][-1] == "total"


def test_backup_vault_plan_and_copy_rule_follow_the_config(
    prod: StackConfig, managed_policies, clients_for
):
    clients = clients_for(prod)
    result = setup_local(prod, clients)
    backup = clients("backup")
    vault = backup.describe_backup_vault(BackupVaultName="medeez-prod-backup")
    assert vault["EncryptionKeyArn"] == _key_arn(clients, "alias/medeez-prod-backup")
    assert (vault["Locked"], vault["MinRetentionDays"], vault["MaxRetentionDays"]) == (
        True,
        7,
        400,
    )
    dr_vault = clients("backup", "us-west-2").describe_backup_vault(
        BackupVaultName="medeez-prod-backup-dr"
    )
    assert dr_vault["EncryptionKeyArn"] == _key_arn(
        clients, "alias/medeez-prod-backup-dr", "us-west-2"
    )
    (plan,) = backup.list_backup_plans()["BackupPlansList"]
    assert plan["BackupPlanName"] == "medeez-prod-backup-plan"
    (rule,) = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"]
    assert rule["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert (rule["StartWindowMinutes"], rule["CompletionWindowMinutes"]) == (60, 360)
    assert rule["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rule["CopyActions"] == [
        {
            "DestinationBackupVaultArn": dr_vault["BackupVaultArn"],
            "Lifecycle": {"DeleteAfterDays": 35},
        }
    ]
    role = clients("iam").list_attached_role_policies(RoleName="medeez-prod-backup")
    assert sorted(p["PolicyArn"] for p in role["AttachedPolicies"]) == sorted(
        [*BACKUP_ROLE_POLICIES, "arn:aws:iam::123456789012:policy/medeez-prod-backup-keys"]
    )
    # moto implements no backup-selection API: reported, not hidden.
    selection = next(a for a in result.actions if a.resource == "backup selection")
    assert selection.outcome == "skipped"
    assert "not emulated locally" in selection.detail


def test_budget_has_the_configured_limit_and_notifications(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    budgets = clients("budgets")
    budget = budgets.describe_budget(AccountId="123456789012", BudgetName="medeez-dev-monthly-cost")
    assert budget["Budget"]["BudgetLimit"] == {"Amount": "100.00", "Unit": "USD"}
    assert budget["Budget"]["CostFilters"] == {"TagKeyValue": ["user:Environment$dev"]}
    notifications = budgets.describe_notifications_for_budget(
        AccountId="123456789012", BudgetName="medeez-dev-monthly-cost"
    )["Notifications"]
    assert sorted((n["NotificationType"], n["Threshold"]) for n in notifications) == [
        ("ACTUAL", 80.0),
        ("ACTUAL", 100.0),
        ("FORECASTED", 100.0),
    ]


def test_second_run_changes_nothing_and_says_so(dev: StackConfig, managed_policies, clients_for):
    clients = clients_for(dev)
    first = setup_local(dev, clients)
    assert first.changed
    # 9 keys, table, topic, 1 subscription, alarms, dashboard, vault, key-grant policy, role,
    # plan, budget (region settings and the selection are not emulated: skipped); the access
    # roles: the boundary, 5 role policies and the deploy role's 4 more, 5 roles; the audit
    # bucket, its access-log bucket and the trail; the audit database: parameter group,
    # monitoring role, 2 log groups, subnet group, instance, alarms; the network (VPC,
    # subnets, route tables, groups, rules, endpoints, flow logs and their role); the stream
    # consumer: queue, log group, function, alarms; the cache: 2 log groups, 4 secrets, 4
    # users, the replication group, its alarms; the cache invalidator: queue, log group,
    # function, alarms.
    assert first.count("created") == 89
    second = setup_local(dev, clients)
    assert not second.changed
    assert {a.outcome for a in second.actions} == {"unchanged", "skipped"}
    assert second.summary().startswith("nothing to change:")
    assert len(clients("dynamodb").list_tables()["TableNames"]) == 1
    medeez_aliases = [
        a for a in clients("kms").list_aliases()["Aliases"] if "medeez" in a["AliasName"]
    ]
    # table, PHI, alerts, backup, cache, audit, logs, audit database, stream consumer.
    assert len(medeez_aliases) == 9


def test_setup_puts_back_settings_that_drifted(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    ddb = clients("dynamodb")
    ddb.update_continuous_backups(
        TableName="medeez-dev-app",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False},
    )
    ddb.update_time_to_live(
        TableName="medeez-dev-app",
        TimeToLiveSpecification={"Enabled": False, "AttributeName": "expiresAt"},
    )
    clients("kms").disable_key_rotation(KeyId=_key_arn(clients, "alias/medeez-dev-phi"))
    ddb.update_table(TableName="medeez-dev-app", DeletionProtectionEnabled=False)

    again = _outcomes(setup_local(dev, clients))

    assert again["dynamodb table: medeez-dev-app"] == "updated"
    assert again["kms key: alias/medeez-dev-phi (us-east-1)"] == "updated"
    pitr = ddb.describe_continuous_backups(TableName="medeez-dev-app")[
        "ContinuousBackupsDescription"
    ]["PointInTimeRecoveryDescription"]
    assert (pitr["PointInTimeRecoveryStatus"], pitr["RecoveryPeriodInDays"]) == ("ENABLED", 7)
    ttl = ddb.describe_time_to_live(TableName="medeez-dev-app")["TimeToLiveDescription"]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ddb.describe_table(TableName="medeez-dev-app")["Table"]["DeletionProtectionEnabled"]


def test_refuses_to_create_anything_without_the_emulator_credentials(dev: StackConfig, moto):
    real_looking = boto3.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region_name="us-east-1",
    )
    clients = Clients(real_looking, emulator=True)
    with pytest.raises(SetupError, match="refusing to create resources"):
        setup_local(dev, clients)
    assert clients("dynamodb").list_tables()["TableNames"] == []


# --- backup selection: moto lacks it, so the real request/response path runs under Stubber -----


def _stubbed_backup() -> tuple[object, Stubber]:
    client = boto3.client(
        "backup",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return client, Stubber(client)


PLAN_ID = "plan-1234"
ROLE = "arn:aws:iam::123456789012:role/medeez-dev-backup"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/medeez-dev-app"


def test_backup_selection_is_created_when_missing():
    client, stubber = _stubbed_backup()
    stubber.add_response(
        "list_backup_selections", {"BackupSelectionsList": []}, {"BackupPlanId": PLAN_ID}
    )
    stubber.add_response(
        "create_backup_selection",
        {"SelectionId": "sel-1", "BackupPlanId": PLAN_ID},
        {
            "BackupPlanId": PLAN_ID,
            "BackupSelection": {
                "SelectionName": "medeez-dev-table",
                "IamRoleArn": ROLE,
                "Resources": [TABLE],
            },
        },
    )
    result = SetupResult("dev", "stub", "local")
    with stubber:
        ensure_backup_selection(
            client,
            plan_id=PLAN_ID,
            selection_name="medeez-dev-table",
            role_arn=ROLE,
            table_arn=TABLE,
            result=result,
            emulator=False,
        )
    stubber.assert_no_pending_responses()
    assert [(a.name, a.outcome) for a in result.actions] == [("medeez-dev-table", "created")]


def test_existing_backup_selection_is_left_alone():
    client, stubber = _stubbed_backup()
    stubber.add_response(
        "list_backup_selections",
        {
            "BackupSelectionsList": [
                {
                    "SelectionId": "sel-1",
                    "SelectionName": "medeez-dev-table",
                    "BackupPlanId": PLAN_ID,
                    "IamRoleArn": ROLE,
                }
            ]
        },
        {"BackupPlanId": PLAN_ID},
    )
    result = SetupResult("dev", "stub", "local")
    with stubber:  # a create call here would fail: no response is queued for it
        ensure_backup_selection(
            client,
            plan_id=PLAN_ID,
            selection_name="medeez-dev-table",
            role_arn=ROLE,
            table_arn=TABLE,
            result=result,
            emulator=False,
        )
    assert [a.outcome for a in result.actions] == ["unchanged"]


def test_a_real_backup_error_is_not_mistaken_for_a_missing_emulation():
    client, stubber = _stubbed_backup()
    stubber.add_client_error(
        "list_backup_selections",
        service_error_code="AccessDeniedException",
        service_message="not authorized",
        http_status_code=403,
    )
    with stubber, pytest.raises(Exception, match="AccessDenied"):
        ensure_backup_selection(
            client,
            plan_id=PLAN_ID,
            selection_name="medeez-dev-table",
            role_arn=ROLE,
            table_arn=TABLE,
            result=SetupResult("dev", "stub", "local"),
            emulator=True,
        )


# --- against AWS: create nothing, wait until ACTIVE ----------------------------------------------


def test_aws_mode_waits_for_table_and_gsis_without_creating_anything(dev: StackConfig):
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    stubber = Stubber(client)

    def table(index_status: str) -> dict[str, object]:
        return {
            "Table": {
                "TableName": "medeez-dev-app",
                "TableStatus": "ACTIVE",
                "GlobalSecondaryIndexes": [
                    {"IndexName": "ByEntityType", "IndexStatus": "ACTIVE"},
                    {"IndexName": "ByStatus", "IndexStatus": index_status},
                ],
            }
        }

    stubber.add_response("describe_table", table("CREATING"))  # the table_exists waiter
    stubber.add_response("describe_table", table("CREATING"))
    stubber.add_response("describe_table", table("ACTIVE"))
    clients = Clients(boto3.Session(region_name="us-east-1"))
    clients.use("dynamodb", client)
    slept: list[float] = []
    with stubber:
        result = wait_until_ready(dev, clients, sleep=slept.append)
    stubber.assert_no_pending_responses()  # and no other call was made: nothing created
    assert slept == [5]
    assert [(a.outcome, a.detail) for a in result.actions] == [
        ("ready", "ACTIVE with 2 ACTIVE GSIs")
    ]


def test_aws_mode_cli_creates_nothing_when_the_table_is_missing(moto, capsys):
    # AWS mode, asked for explicitly (here answered by moto in process).
    assert setup_database.main(["--stack", "dev", "--timeout", "1", "--target", "aws"]) == 1
    err = capsys.readouterr().err
    assert "table medeez-dev-app is not ACTIVE" in err
    assert "pulumi up" in err
    session = boto3.Session(region_name="us-east-1")
    assert session.client("dynamodb").list_tables()["TableNames"] == []
    aliases = session.client("kms").list_aliases()["Aliases"]
    assert not [a for a in aliases if "medeez" in a["AliasName"]]


def test_aws_mode_cli_reports_ready_for_a_deployed_table(dev: StackConfig, clients_for, capsys):
    setup_local(dev, clients_for(dev))  # stands in for what `pulumi up` deployed
    assert setup_database.main(["--stack", "dev", "--format", "json", "--target", "aws"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["mode"] == "aws"
    assert payload["changed"] is False
    assert payload["actions"] == [
        {
            "resource": "dynamodb table",
            "name": "medeez-dev-app",
            "outcome": "ready",
            "detail": "ACTIVE with 5 ACTIVE GSIs",
        }
    ]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "staging"], "unknown stack 'staging': no Pulumi.staging.yaml; stacks: dev"),
        (["--stack", "dev", "--endpoint-url", "127.0.0.1:5000"], "is not usable"),
        (["--stack", "dev", "--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(argv, message, capsys):
    assert setup_database.main(argv) == 2
    assert message in capsys.readouterr().err


def test_connection_info_names_endpoint_table_and_phi_key(capsys):
    argv = ["--stack", "dev", "--endpoint-url", "http://127.0.0.1:5000", "--connection-info"]
    assert setup_database.main(argv) == 0
    out = capsys.readouterr().out
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:5000" in out
    assert "export MEDEEZ_TABLE_NAME=medeez-dev-app" in out
    assert "export MEDEEZ_PHI_KEY_ID=alias/medeez-dev-phi" in out
    assert "AWS_ACCESS_KEY_ID=testing" in out


def test_unreachable_local_endpoint_is_one_clear_line(capsys):
    argv = ["--stack", "dev", "--endpoint-url", "http://127.0.0.1:9"]  # discard port: closed
    assert setup_database.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err == "setup: nothing answers at http://127.0.0.1:9; start it with `make local-up`"


def test_role_without_the_emulators_managed_policies_says_so(dev: StackConfig, clients_for):
    # moto_server started by hand (without MOTO_IAM_LOAD_MANAGED_POLICIES) lacks AWS managed
    # policies: the role is still created, and the gap is named.
    result = setup_local(dev, clients_for(dev))
    role = next(
        a for a in result.actions if (a.resource, a.name) == ("iam role", "medeez-dev-backup")
    )
    assert role.outcome == "created"
    assert role.detail == (
        "managed policies not known to the emulator: AWSBackupServiceRolePolicyForBackup, "
        "AWSBackupServiceRolePolicyForRestores"
    )


def test_a_drifted_backup_plan_the_emulator_cannot_update_is_reported(
    dev: StackConfig, clients_for
):
    clients = clients_for(dev)
    shorter = dev.model_copy(update={"backup": dev.backup.model_copy(update={"retention_days": 1})})
    setup_local(shorter, clients)
    plan = next(a for a in setup_local(dev, clients).actions if a.resource == "backup plan")
    assert plan.outcome == "drifted"
    assert plan.detail == "differs from the config, and the emulator cannot update backup plans"


def test_a_table_shape_only_re_creation_fixes_is_reported_as_drifted(
    dev: StackConfig, prod: StackConfig, clients_for
):
    clients = clients_for(dev)
    other_shape = dev.model_copy(
        update={
            "table": dev.table.model_copy(
                update={"projections": prod.table.projections, "stream_view_type": "KEYS_ONLY"}
            )
        }
    )
    setup_local(other_shape, clients)
    result = setup_local(dev, clients)
    table = next(a for a in result.actions if a.resource == "dynamodb table")
    assert table.outcome == "drifted"
    assert table.detail == (
        "cannot change in place: index ByEntityType projection; index ByProviderTime projection; "
        "index ByStatus projection; index ExternalIDs projection; stream"
    )
    assert result.drifted
    assert "make local-down local-up" in result.summary()


def test_an_interrupted_setup_says_what_stays_and_exits_130(monkeypatch, capsys):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(setup_database, "main", interrupted)
    assert setup_database.run(["--stack", "dev"]) == 130
    assert capsys.readouterr().err == (
        "setup: interrupted; what was already created stays, and a second run picks up where "
        "this one stopped (exit 130)\n"
    )
