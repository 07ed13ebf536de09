"""AWS Backup: advanced DynamoDB backup per region, vaults on their own keys, the plan and its
copy rule, the selection by table ARN, the service role, vault lock."""

from __future__ import annotations

import json

from tools.plan import Plan

REGION_SETTINGS = "aws:backup/regionSettings:RegionSettings"
VAULT = "aws:backup/vault:Vault"
PLAN = "aws:backup/plan:Plan"
SELECTION = "aws:backup/selection:Selection"
LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def test_region_settings_opt_dynamodb_into_advanced_backup_in_both_regions(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    prod = {r.inputs.get("region"): r.inputs for r in prod_plan.of_type(REGION_SETTINGS)}
    assert set(prod) == {None, "us-west-2"}
    for inputs in prod.values():
        # RDS is opted in too: the plan selects the audit database.
        assert inputs["resourceTypeOptInPreference"] == {"DynamoDB": True, "RDS": True}
        assert inputs["resourceTypeManagementPreference"] == {"DynamoDB": True}
    [dev] = dev_plan.of_type(REGION_SETTINGS)
    assert "region" not in dev.inputs


def test_each_vault_is_encrypted_with_its_own_key_in_its_region(prod_plan: Plan) -> None:
    vault = prod_plan.named("backup-vault")
    dr_vault = prod_plan.named("backup-dr-vault")
    assert vault.inputs["name"] == "medeez-prod-backup"
    assert vault.inputs["kmsKeyArn"] == prod_plan.named("backup-vault-key-key").state["arn"]
    assert dr_vault.inputs["name"] == "medeez-prod-backup-dr"
    assert dr_vault.inputs["region"] == "us-west-2"
    dr_key = prod_plan.named("backup-dr-vault-key-key")
    assert dr_key.inputs["region"] == "us-west-2"
    assert dr_vault.inputs["kmsKeyArn"] == dr_key.state["arn"]
    assert dr_key.state["arn"].startswith("arn:aws:kms:us-west-2:")


def test_prod_plan_rule_copies_to_the_dr_vault_with_its_own_lifecycle(prod_plan: Plan) -> None:
    [plan] = prod_plan.of_type(PLAN)
    [rule] = plan.inputs["rules"]
    assert rule["ruleName"] == "daily"
    assert rule["targetVaultName"] == "medeez-prod-backup"
    assert rule["schedule"] == "cron(0 5 * * ? *)"
    assert (rule["startWindow"], rule["completionWindow"]) == (60, 360)
    assert rule["lifecycle"] == {"deleteAfter": 35}
    dr_vault_arn = prod_plan.named("backup-dr-vault").state["arn"]
    assert (
        dr_vault_arn == "arn:aws:backup:us-west-2:111122223333:backup-vault:medeez-prod-backup-dr"
    )
    assert rule["copyActions"] == [
        {"destinationVaultArn": dr_vault_arn, "lifecycle": {"deleteAfter": 35}}
    ]
    assert rule["recoveryPointTags"]["Environment"] == "prod"


def test_dev_has_no_cross_region_resources(dev_plan: Plan) -> None:
    [plan] = dev_plan.of_type(PLAN)
    [rule] = plan.inputs["rules"]
    assert "copyActions" not in rule
    assert rule["lifecycle"] == {"deleteAfter": 7}
    assert [v.inputs["name"] for v in dev_plan.of_type(VAULT)] == ["medeez-dev-backup"]
    assert dev_plan.of_type(LOCK) == []
    assert not [r for r in dev_plan.resources if r.inputs.get("region") == "us-west-2"]


def test_selection_picks_the_table_by_arn_with_the_backup_role(prod_plan: Plan) -> None:
    [selection] = prod_plan.of_type(SELECTION)
    table = prod_plan.named("app-table")
    database = prod_plan.named("audit-db-instance")
    assert selection.inputs["resources"] == [table.state["arn"], database.state["arn"]]
    assert selection.inputs["iamRoleArn"] == prod_plan.named("backup-role").state["arn"]
    assert selection.inputs["planId"] == prod_plan.named("backup-plan").id
    assert table.urn in selection.property_dependencies["resources"]


def test_backup_role_trusts_only_this_accounts_backup_service(prod_plan: Plan) -> None:
    role = prod_plan.named("backup-role")
    assert role.inputs["name"] == "medeez-prod-backup"
    assert json.loads(role.inputs["assumeRolePolicy"])["Statement"] == [
        {
            "Sid": "BackupServiceOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "backup.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}},
        }
    ]
    backup = prod_plan.named("backup")
    attachments = [a for a in prod_plan.descendants(backup) if a.type == ATTACHMENT]
    assert sorted(a.inputs["policyArn"] for a in attachments) == [
        "arn:aws:iam::111122223333:policy/medeez-prod-backup-keys",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
    ]


def test_backup_role_may_use_the_table_and_database_keys_and_both_vault_keys(
    dev_plan: Plan, prod_plan: Plan
) -> None:
    keys_policy = prod_plan.named("backup-keys-policy")
    assert keys_policy.inputs["name"] == "medeez-prod-backup-keys"
    attachment = prod_plan.named("backup-role-keys")
    assert attachment.inputs == {
        "role": "medeez-prod-backup",
        "policyArn": keys_policy.state["arn"],
    }
    assert keys_policy.state["arn"] == "arn:aws:iam::111122223333:policy/medeez-prod-backup-keys"
    policy = json.loads(keys_policy.inputs["policy"])
    [statement] = policy["Statement"]
    assert statement["Resource"] == sorted(
        prod_plan.named(k).state["arn"]
        for k in (
            "table-key-key",
            "audit-db-key-key",
            "backup-vault-key-key",
            "backup-dr-vault-key-key",
        )
    )
    assert "kms:CreateGrant" in statement["Action"]
    assert "kms:*" not in statement["Action"]
    dev_policy = json.loads(dev_plan.named("backup-keys-policy").inputs["policy"])
    assert len(dev_policy["Statement"][0]["Resource"]) == 3


def test_prod_locks_both_vaults_in_governance_mode(prod_plan: Plan) -> None:
    locks = {r.inputs["backupVaultName"]: r.inputs for r in prod_plan.of_type(LOCK)}
    assert set(locks) == {"medeez-prod-backup", "medeez-prod-backup-dr"}
    for inputs in locks.values():
        assert (inputs["minRetentionDays"], inputs["maxRetentionDays"]) == (7, 400)
        # Governance mode: no changeableForDays, so the lock can still be lifted by an admin.
        assert "changeableForDays" not in inputs
    assert locks["medeez-prod-backup-dr"]["region"] == "us-west-2"


def test_only_data_bearing_backup_resources_are_protected(prod_plan: Plan) -> None:
    below = prod_plan.descendants(prod_plan.named("backup"))
    protected = {r.name for r in below if r.protect and r.retain_on_delete}
    assert protected == {
        "backup-vault",
        "backup-dr-vault",
        "backup-vault-lock",
        "backup-dr-vault-lock",
        "backup-vault-key",
        "backup-vault-key-key",
        "backup-vault-key-alias",
        "backup-dr-vault-key",
        "backup-dr-vault-key-key",
        "backup-dr-vault-key-alias",
    }
