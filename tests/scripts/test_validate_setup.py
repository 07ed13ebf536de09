"""validate_setup: one honest row per check, exit codes, output formats, and the checks moto cannot
answer exercised through botocore's Stubber."""

from __future__ import annotations

import json
import os
import signal

import boto3
import pytest
from botocore.stub import Stubber

from scripts import validate_setup
from scripts.aws_target import Clients
from scripts.services import backup, budget, keys
from scripts.services.backup import check_backup_selection
from scripts.services.base import CheckContext, Identity, ReadOnlyClients, Report, Row
from scripts.setup_database import setup_local
from scripts.validate_setup import validate
from stackspec.config.stack import StackConfig
from stackspec.definitions import stack_definition
from stackspec.naming import KeyPurpose


def _context(cfg: StackConfig, clients: Clients, account: str | None = None) -> CheckContext:
    ctx = CheckContext(stack=stack_definition(cfg), clients=ReadOnlyClients(clients))
    if account is not None:
        ctx.identity = Identity(clients, account=account, partition="aws")
    return ctx


#: What moto 5.2.5 cannot answer, and so what a correct local environment SKIPs (dev).
DEV_SKIPS = {
    "kms.table.rotation-period",
    "kms.phi.rotation-period",
    "kms.alerts.rotation-period",
    "kms.backup.rotation-period",
    "kms.audit.rotation-period",
    "kms.cache.rotation-period",
    "kms.audit-db.rotation-period",
    "kms.logs.rotation-period",
    "kms.consumer.rotation-period",
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
}
#: The audit database's rows that SKIP locally for their own reasons (fields
#: moto does not report, the local PostgreSQL not running or lacking TLS/pgaudit/rds_iam):
#: tests/scripts/test_audit_database_local.py pins each.
AUDIT_DB_SKIP_PREFIXES = ("audit-db.",)
#: The stream consumer's rows that SKIP locally, each with its own reason (not an emulator gap).
CONSUMER_SKIPS = {
    "consumer.mapping": "not created on moto: it would invoke the function on every write",
    "consumer.function-vpc": "no VPC locally",
    "consumer.function-logging": "not emulated locally: moto does not return LoggingConfig",
    # The cache invalidator, for the same reasons.
    "invalidator.mapping": "not created on moto: it would invoke the function on every write",
    "invalidator.function-vpc": "no VPC locally",
    "invalidator.function-logging": "not emulated locally: moto does not return LoggingConfig",
}


def _statuses(report: Report, status: str) -> set[str]:
    return {row.check for row in report.rows if row.status == status}


def test_fresh_local_environment_passes_and_skips_only_what_moto_lacks(
    dev: StackConfig, managed_policies, clients_for
):
    clients = clients_for(dev)
    setup_local(dev, clients)
    report = validate(dev, clients, target="moto")
    assert _statuses(report, "FAIL") == set()
    skipped = _statuses(report, "SKIP")
    assert {c for c in skipped if not c.startswith(AUDIT_DB_SKIP_PREFIXES)} == DEV_SKIPS | set(
        CONSUMER_SKIPS
    )
    for check in DEV_SKIPS:
        assert report.row(check).detail.startswith("not emulated locally: the endpoint does not")
    for check, reason in CONSUMER_SKIPS.items():
        assert report.row(check).detail.startswith(reason), check
    # One row per GSI and one per projection, one per alarm: nothing is folded away.
    assert len([r for r in report.rows if r.check.startswith("table.gsi.")]) == 10
    # The monitoring set (24) and the audit database's eight; the cache's and the consumer's
    # alarms have rows under their own services.
    assert len([r for r in report.rows if r.check.startswith("alarm.")]) == 24 + 8
    assert report.row("alarm.alert-topic-delivery-failures").found == (
        "medeez-dev-alert-topic-delivery-failures -> medeez-dev-alerts"
    )
    assert report.row("table.pitr").found == "ENABLED, 7 days"
    assert report.row("table.gsi.ByStatus.projection").found == "ALL"


def test_prod_checks_copy_rule_dr_vault_and_lock(prod: StackConfig, managed_policies, clients_for):
    clients = clients_for(prod)
    setup_local(prod, clients)
    report = validate(prod, clients, target="moto")
    assert _statuses(report, "FAIL") == set()
    assert report.row("backup.vault-lock").found == "locked 7..400 days"
    assert report.row("backup.dr-vault").status == "PASS"
    assert report.row("backup.copy-rule").found == (
        "arn:aws:backup:us-west-2:123456789012:backup-vault:medeez-prod-backup-dr keep 35 days"
    )
    assert report.row("table.gsi.ByProviderTime.projection").found == (
        "INCLUDE, appointmentType, clinicId, endTime, entityType, patientId, providerId, status"
    )
    assert report.row("alarm.copy-job-failures").status == "PASS"


def test_a_drifted_topic_delivery_alarm_fails_exactly_its_row(
    dev: StackConfig, managed_policies, clients_for
):
    clients = clients_for(dev)
    setup_local(dev, clients)
    cloudwatch = clients("cloudwatch")
    [live] = cloudwatch.describe_alarms(AlarmNames=["medeez-dev-alert-topic-delivery-failures"])[
        "MetricAlarms"
    ]
    assert (live["Namespace"], live["MetricName"]) == ("AWS/SNS", "NumberOfNotificationsFailed")
    cloudwatch.put_metric_alarm(
        **{
            k: live[k]
            for k in (
                "AlarmName",
                "Namespace",
                "MetricName",
                "Dimensions",
                "Statistic",
                "Period",
                "EvaluationPeriods",
                "ComparisonOperator",
                "TreatMissingData",
                "AlarmActions",
                "OKActions",
                "InsufficientDataActions",
            )
        },
        Threshold=50.0,
    )
    report = validate(dev, clients, target="moto")
    assert _statuses(report, "FAIL") == {"alarm.alert-topic-delivery-failures"}
    assert "Threshold: expected 1.0, found 50.0" in (
        report.row("alarm.alert-topic-delivery-failures").found
    )


def test_empty_account_fails_existence_rows_and_skips_their_dependents(
    dev: StackConfig, clients_for
):
    report = validate(dev, clients_for(dev), target="moto")
    failed = _statuses(report, "FAIL")
    assert "table.status" in failed
    assert report.row("table.status").found == "medeez-dev-app not found"
    assert report.row("kms.phi.alias").found == "no alias alias/medeez-dev-phi in us-east-1"
    assert report.row("table.pitr").status == "SKIP"
    assert report.row("table.pitr").detail == "table medeez-dev-app not found"
    assert report.row("sns.topic-encryption").detail == "topic medeez-dev-alerts not found"
    assert report.row("alarm.system-errors").found == "not found"
    assert report.row("budget").found == "not found"


def test_an_unreadable_service_fails_its_rows_with_the_error(dev: StackConfig, clients_for):
    clients = clients_for(dev)
    setup_local(dev, clients)
    kms = boto3.client(
        "kms", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(kms)
    stubber.add_client_error(
        "list_aliases", "AccessDeniedException", "no kms:ListAliases", http_status_code=400
    )
    clients.use("kms", kms)
    validator = _context(dev, clients)
    with stubber:
        keys.check_key(validator, validator.stack.keys[KeyPurpose.TABLE])
    (alias_row, rotation_row, _description_row, _policy_row) = validator.rows
    assert alias_row.status == "FAIL"
    assert alias_row.found == "could not read"
    assert alias_row.detail.startswith("AccessDeniedException:")
    # Against a real service an error is never turned into a SKIP.
    assert rotation_row == Row(
        "kms.table.rotation", "SKIP", "", "", "key alias/medeez-dev-table not found"
    )


# --- backup selection and region settings, which moto does not implement ---------------------


def _validator_with_backup(cfg: StackConfig) -> tuple[CheckContext, object, Stubber]:
    client = boto3.client(
        "backup", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    clients = Clients(boto3.Session(region_name="us-east-1"))
    clients.use("backup", client)
    validator = _context(cfg, clients, account="123456789012")
    validator.table = {"TableArn": "arn:aws:dynamodb:us-east-1:123456789012:table/medeez-dev-app"}
    return validator, client, Stubber(client)


def _selection_responses(stubber: Stubber, resources: list[str], role: str) -> None:
    stubber.add_response(
        "list_backup_selections",
        {
            "BackupSelectionsList": [
                {"SelectionId": "sel-1", "SelectionName": "medeez-dev-table", "BackupPlanId": "p1"}
            ]
        },
        {"BackupPlanId": "p1"},
    )
    stubber.add_response(
        "get_backup_selection",
        {
            "BackupSelection": {
                "SelectionName": "medeez-dev-table",
                "IamRoleArn": f"arn:aws:iam::123456789012:role/{role}",
                "Resources": resources,
            },
            "SelectionId": "sel-1",
            "BackupPlanId": "p1",
        },
        {"BackupPlanId": "p1", "SelectionId": "sel-1"},
    )


def test_backup_selection_covering_the_table_passes(dev: StackConfig):
    validator, client, stubber = _validator_with_backup(dev)
    _selection_responses(stubber, [validator.table["TableArn"]], "medeez-dev-backup")
    with stubber:
        check_backup_selection(validator, client, "p1")
    (row,) = validator.rows
    assert row.status == "PASS"
    assert row.found == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/medeez-dev-app via role medeez-dev-backup"
    )


def test_backup_selection_of_another_table_fails(dev: StackConfig):
    validator, client, stubber = _validator_with_backup(dev)
    other = "arn:aws:dynamodb:us-east-1:123456789012:table/legacy"
    _selection_responses(stubber, [other], "medeez-dev-backup")
    with stubber:
        check_backup_selection(validator, client, "p1")
    (row,) = validator.rows
    assert row.status == "FAIL"
    assert row.found == f"{other} via role medeez-dev-backup"


@pytest.mark.parametrize(
    ("management", "status"),
    [({"DynamoDB": True}, "PASS"), ({"DynamoDB": False}, "FAIL")],
)
def test_region_settings_need_advanced_dynamodb_backup(dev: StackConfig, management, status):
    validator, _, stubber = _validator_with_backup(dev)
    stubber.add_response(
        "describe_region_settings",
        {
            "ResourceTypeOptInPreference": {"DynamoDB": True},
            "ResourceTypeManagementPreference": management,
        },
    )
    with stubber:
        validator.guard(
            "backup.region-settings",
            lambda: backup.region_settings_row(validator, "backup.region-settings", "us-east-1"),
        )
    assert validator.rows[0].status == status


# --- command line ---------------------------------------------------------------------------


def test_cli_exit_0_and_json_rows_when_nothing_fails(
    dev: StackConfig, managed_policies, clients_for, cli_on_moto, capsys
):
    setup_local(dev, clients_for(dev))
    assert validate_setup.main(["--stack", "dev", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["stack"] == "dev"
    assert payload["counts"]["FAIL"] == 0
    row = next(r for r in payload["checks"] if r["check"] == "table.ttl")
    assert row == {
        "check": "table.ttl",
        "status": "PASS",
        "expected": "ENABLED on expiresAt",
        "found": "ENABLED on expiresAt",
        "detail": "",
    }


def test_cli_exit_1_and_a_readable_fail_row(
    dev: StackConfig, managed_policies, clients_for, cli_on_moto, capsys
):
    clients = clients_for(dev)
    setup_local(dev, clients)
    clients("dynamodb").update_table(TableName="medeez-dev-app", DeletionProtectionEnabled=False)
    assert validate_setup.main(["--stack", "dev"]) == 1
    lines = capsys.readouterr().out.splitlines()
    (fail,) = [line for line in lines if line.startswith("FAIL")]
    assert fail.split() == [
        "FAIL",
        "table.deletion-protection",
        "expected",
        "True;",
        "found",
        "False",
    ]
    audit_db_skips = 7  # fields moto does not report, no local PostgreSQL here, RDS-only settings
    skips = len(DEV_SKIPS) + len(CONSUMER_SKIPS) + audit_db_skips
    assert lines[-1].endswith(f"1 FAIL, {skips} SKIP")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "qa"], "validate: unknown stack 'qa': no Pulumi.qa.yaml; stacks: dev, prod"),
        (["--stack", "dev", "--endpoint-url", "ftp://x"], "endpoint URL 'ftp://x' is not usable"),
        (["--stack", "dev", "--wait", "-1"], "--wait must be 0 or more seconds, got -1"),
    ],
)
def test_usage_errors_exit_2(argv, message, capsys):
    assert validate_setup.main(argv) == 2
    assert message in capsys.readouterr().err


def test_missing_stack_argument_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        validate_setup.main([])
    assert exit_info.value.code == 2
    assert "--stack" in capsys.readouterr().err


def test_unreachable_endpoint_exits_1_with_a_hint(capsys):
    assert validate_setup.main(["--stack", "dev", "--endpoint-url", "http://127.0.0.1:9"]) == 1
    assert capsys.readouterr().err.strip() == (
        "validate: nothing answers at http://127.0.0.1:9; start it with `make local-up`"
    )


@pytest.mark.parametrize(
    ("emails", "status"),
    [(["platform-team@medeez.example"], "PASS"), ([], "FAIL")],
)
def test_budget_subscribers_are_checked_on_every_notification(
    dev: StackConfig, emails: list[str], status: str
):
    budgets = boto3.client(
        "budgets", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(budgets)
    clients = Clients(boto3.Session(region_name="us-east-1"))
    clients.use("budgets", budgets, "us-east-1")
    validator = _context(dev, clients, account="123456789012")
    validator.topic_arn = "arn:aws:sns:us-east-1:123456789012:medeez-dev-alerts"
    stubber.add_response(
        "describe_budget",
        {
            "Budget": {
                "BudgetName": "medeez-dev-monthly-cost",
                "BudgetLimit": {"Amount": "100.00", "Unit": "USD"},
                "CostFilters": {"TagKeyValue": ["user:Environment$dev"]},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            }
        },
    )
    stubber.add_response(
        "describe_notifications_for_budget",
        {
            "Notifications": [
                {
                    "NotificationType": kind,
                    "ComparisonOperator": "GREATER_THAN",
                    "Threshold": percent,
                    "ThresholdType": "PERCENTAGE",
                }
                for kind, percent in (("ACTUAL", 80.0), ("ACTUAL", 100.0), ("FORECASTED", 100.0))
            ]
        },
    )
    subscribers = [
        {"SubscriptionType": "SNS", "Address": validator.topic_arn},
        *({"SubscriptionType": "EMAIL", "Address": e} for e in emails),
    ]
    for _ in range(3):
        stubber.add_response("describe_subscribers_for_notification", {"Subscribers": subscribers})
    with stubber:
        budget.check(validator)
    stubber.assert_no_pending_responses()
    rows = {row.check: row for row in validator.rows}
    assert rows["budget"].status == "PASS"
    assert rows["budget"].found == (
        "limit=100 USD, period=MONTHLY, type=COST, filter=user:Environment$dev"
    )
    assert rows["budget.notifications"].status == "PASS"
    assert rows["budget.subscribers"].status == status
    if status == "FAIL":
        assert rows["budget.subscribers"].found == (
            "missing ACTUAL 80%: EMAIL:platform-team@medeez.example, "
            "ACTUAL 100%: EMAIL:platform-team@medeez.example, "
            "FORECASTED 100%: EMAIL:platform-team@medeez.example"
        )


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_an_interrupted_validate_is_one_line_and_128_plus_the_signal(
    monkeypatch, capsys, signum, code
):
    def interrupted(*_args, **_kwargs):
        os.kill(os.getpid(), signum)  # a real signal, delivered while validate works
        raise AssertionError("the signal should have stopped validate")

    monkeypatch.setattr(validate_setup, "main", interrupted)
    before = signal.getsignal(signal.SIGTERM)
    assert validate_setup.run(["--stack", "dev"]) == code
    assert capsys.readouterr().err == (
        f"validate: interrupted; nothing was changed (validate only reads) (exit {code})\n"
    )
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_an_organization_trail_is_reported_as_external_and_nothing_else_changes(
    dev: StackConfig, managed_policies, clients_for
):
    external = dev.model_copy(
        update={"trail": dev.trail.model_copy(update={"organization_trail": True})}
    )
    clients = clients_for(external)
    setup_local(external, clients)
    assert clients("cloudtrail").describe_trails()["trailList"] == []
    report = validate(external, clients, target="moto")
    assert _statuses(report, "FAIL") == set()
    row = report.row("trail")
    assert row.status == "SKIP"
    assert row.detail.startswith("external: an organization trail records this account")
    assert not [r for r in report.rows if r.check.startswith("trail.")]
    # The bucket is still built and checked: it holds the audit chain's digests.
    assert report.row("audit.bucket.object-lock").status == "PASS"
