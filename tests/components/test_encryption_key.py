"""KMS keys: rotation, deletion window, alias and a least-privilege key policy per consumer."""

from __future__ import annotations

import json

import pytest

from stackspec.config.stack import load_stack_config
from stackspec.definitions.keys import key_definitions
from stackspec.naming import KeyPurpose
from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
ROOT = f"arn:aws:iam::{MOCK_ACCOUNT_ID}:root"


def policy_of(plan: Plan, key_name: str) -> dict:
    return json.loads(plan.named(key_name).inputs["policy"])


def test_dev_and_prod_keys_and_aliases(dev_plan: Plan, prod_plan: Plan) -> None:
    dev_aliases = {r.inputs["name"] for r in dev_plan.of_type(ALIAS)}
    assert dev_aliases == {
        "alias/medeez-dev-table",
        "alias/medeez-dev-phi",
        "alias/medeez-dev-alerts",
        "alias/medeez-dev-backup",
        "alias/medeez-dev-audit",
        "alias/medeez-dev-logs",
        "alias/medeez-dev-cache",
        "alias/medeez-dev-audit-db",
        "alias/medeez-dev-consumer",
    }
    prod_aliases = {(r.inputs["name"], r.inputs.get("region")) for r in prod_plan.of_type(ALIAS)}
    assert prod_aliases == {
        ("alias/medeez-prod-table", None),
        ("alias/medeez-prod-phi", None),
        ("alias/medeez-prod-alerts", None),
        ("alias/medeez-prod-backup", None),
        ("alias/medeez-prod-backup-dr", "us-west-2"),
        ("alias/medeez-prod-audit", None),
        ("alias/medeez-prod-logs", None),
        ("alias/medeez-prod-cache", None),
        ("alias/medeez-prod-audit-db", None),
        ("alias/medeez-prod-consumer", None),
    }


@pytest.mark.parametrize(("plan_name", "window"), [("dev_plan", 7), ("prod_plan", 30)])
def test_every_key_is_symmetric_rotating_with_the_configured_window(
    plan_name: str, window: int, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(plan_name)
    keys = plan.of_type(KEY)
    assert keys
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["rotationPeriodInDays"] == 365, key.name
        assert key.inputs["deletionWindowInDays"] == window, key.name
        assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
        assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"


def test_alias_targets_its_own_key(prod_plan: Plan) -> None:
    for alias in prod_plan.of_type(ALIAS):
        key = prod_plan.named(alias.name.removesuffix("-alias") + "-key")
        assert alias.inputs["targetKeyId"] == key.state["keyId"]
        assert alias.parent == key.parent


def test_table_and_vault_keys_grant_only_root_administration(prod_plan: Plan) -> None:
    for name in ("table-key-key", "backup-vault-key-key", "backup-dr-vault-key-key"):
        assert policy_of(prod_plan, name)["Statement"] == [
            {
                "Sid": "AccountRootAdministersViaIam",
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "kms:*",
                "Resource": "*",
            }
        ], name


def test_alerts_key_lets_publishing_services_use_it_and_nothing_more(prod_plan: Plan) -> None:
    statements = policy_of(prod_plan, "alerts-key-key")["Statement"]
    assert statements[1] == {
        "Sid": "ServicesPublishToEncryptedTopic",
        "Effect": "Allow",
        "Principal": {
            "Service": [
                "backup.amazonaws.com",
                "budgets.amazonaws.com",
                "cloudwatch.amazonaws.com",
            ]
        },
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    assert len(statements) == 2


def test_phi_key_denies_crypto_without_a_clinic_encryption_context(prod_plan: Plan) -> None:
    statements = policy_of(prod_plan, "phi-key-key")["Statement"]
    assert statements[1] == {
        "Sid": "RequireClinicIdEncryptionContext",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"Null": {"kms:EncryptionContext:clinicId": "true"}},
    }


def test_logs_key_lets_cloudwatch_logs_use_it_for_this_accounts_log_groups_only(
    prod_plan: Plan,
) -> None:
    statements = policy_of(prod_plan, "logs-key-key")["Statement"]
    assert statements[1] == {
        "Sid": "CloudWatchLogsEncryptsLogGroups",
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": [
            "kms:Encrypt*",
            "kms:Decrypt*",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
            "kms:Describe*",
        ],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:aws:logs:us-east-1:{MOCK_ACCOUNT_ID}:log-group:*"
                )
            }
        },
    }
    assert len(statements) == 2


def test_key_policy_uses_the_partition_and_account_it_is_given() -> None:
    table_key = key_definitions(load_stack_config("dev"))[KeyPurpose.TABLE]
    policy = table_key.policy(partition="aws-us-gov", account_id="222233334444")
    assert policy["Statement"][0]["Principal"] == {"AWS": "arn:aws-us-gov:iam::222233334444:root"}


def test_keys_are_protected_in_prod_only(dev_plan: Plan, prod_plan: Plan) -> None:
    assert all(not (k.protect or k.retain_on_delete) for k in dev_plan.of_type(KEY))
    assert all(k.protect and k.retain_on_delete for k in prod_plan.of_type(KEY))
    assert all(a.protect and a.retain_on_delete for a in prod_plan.of_type(ALIAS))


def test_the_consumer_key_is_used_only_through_lambda_and_sqs(dev_plan: Plan) -> None:
    key = dev_plan.named("consumer-key-key")
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountUsesKeyThroughServices"]["Condition"] == {
        "StringEquals": {
            "kms:CallerAccount": "111122223333",
            "kms:ViaService": ["lambda.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com"],
        }
    }
    function = dev_plan.named("stream-consumer-function")
    queue = dev_plan.named("stream-consumer-failures")
    assert function.inputs["kmsKeyArn"] == queue.inputs["kmsMasterKeyId"] == key.state["arn"]
