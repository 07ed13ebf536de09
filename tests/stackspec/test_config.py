"""The stack config model: the committed stacks parse, malformed configs fail with one clear
message and nothing registered, and a new environment is one YAML file."""

from __future__ import annotations

import copy
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from stackspec.config.base import aws_region_names
from stackspec.config.stack import load_stack_config, parse_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import OFFLINE_SECRET_PLACEHOLDER, PROJECT_DIR, read_stack
from tools.mocks import RealisticMocks, RecordingMonitor
from tools.plan import PROGRAM, cli_config, plan_stack

NS = "medeez-platform"
Mutation = Callable[[dict[str, Any]], None]


def test_committed_stacks_parse_with_derived_names() -> None:
    dev = load_stack_config("dev")
    prod = load_stack_config("prod")
    assert (dev.names.table, prod.names.table) == ("medeez-dev-app", "medeez-prod-app")
    assert prod.names.key_alias("phi") == "alias/medeez-prod-phi"
    assert (dev.budget.monthly_limit_usd, prod.budget.monthly_limit_usd) == (100, 1550)
    assert not dev.backup.cross_region_copy.enabled
    assert prod.backup.cross_region_copy.enabled
    assert (prod.region, prod.dr_region) == ("us-east-1", "us-west-2")
    assert prod.is_production
    assert not dev.is_production


def test_config_model_is_frozen() -> None:
    config = load_stack_config("dev")
    with pytest.raises(ValueError, match="frozen"):
        config.table.deletion_protection = False  # type: ignore[misc]


def _set(path: str, value: Any) -> Mutation:
    """A mutation that sets ``top.a.b`` (``top`` is the key after the namespace)."""

    def mutate(config: dict[str, Any]) -> None:
        top, *rest = path.split(".")
        if not rest:
            config[f"{NS}:{top}"] = value
            return
        node = config[f"{NS}:{top}"]
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value

    return mutate


def _delete(key: str) -> Mutation:
    return lambda config: config.pop(key)


CASES: list[tuple[str, str, Mutation, str]] = [
    (
        "prod",
        "no deletion protection in prod",
        _set("table.deletionProtection", False),
        f"{NS}:table.deletionProtection: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "no PITR in prod",
        _set("table.pointInTimeRecovery.enabled", False),
        f"{NS}:table.pointInTimeRecovery.enabled: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "no cross-region copy in prod",
        _set("backup.crossRegionCopy.enabled", False),
        f"{NS}:backup.crossRegionCopy.enabled: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "no vault lock in prod",
        _set("backup.vaultLock.enabled", False),
        f"{NS}:backup.vaultLock.enabled: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "no restore testing in prod",
        _set("recovery.restoreTesting.enabled", False),
        f"{NS}:recovery.restoreTesting.enabled: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "no audit evidence in prod",
        _set("recovery.audit.enabled", False),
        f"{NS}:recovery.audit.enabled: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "a restored copy kept for a week",
        _set("recovery.restoreTesting.validationWindowHours", 168),
        f"{NS}:recovery.restoreTesting.validationWindowHours: Input should be less than or "
        "equal to 24 (got 168)",
    ),
    (
        "dev",
        "no report format",
        _set("recovery.audit", {"enabled": True, "reportFormats": []}),
        f"{NS}:recovery.audit: reportFormats must list CSV and/or JSON, each once",
    ),
    (
        "prod",
        "short key deletion window in prod",
        _set("keys.deletionWindowDays", 7),
        f"{NS}:keys.deletionWindowDays: must be 30 in prod (production PHI)",
    ),
    (
        "prod",
        "unprotected prod data",
        _set("protection.retainOnDelete", False),
        f"{NS}:protection.retainOnDelete: must be true in prod (production PHI)",
    ),
    (
        "prod",
        "DR region equal to the primary",
        _set("drRegion", "us-east-1"),
        f"{NS}:drRegion: must differ from region (us-east-1)",
    ),
    (
        "dev",
        "INCLUDE without attributes",
        _set("table.projections.ByStatus", {"type": "INCLUDE"}),
        f"{NS}:table.projections.ByStatus: INCLUDE needs nonKeyAttributes: the attributes to "
        "project",
    ),
    (
        "dev",
        "attributes without INCLUDE",
        _set("table.projections.ByPatient", {"type": "ALL", "nonKeyAttributes": ["status"]}),
        f"{NS}:table.projections.ByPatient: nonKeyAttributes is only allowed with INCLUDE, not ALL",
    ),
    (
        "dev",
        "projection for an index that does not exist",
        _set("table.projections.ByDoctor", {"type": "ALL"}),
        f"{NS}:table.projections: unknown index ByDoctor; the indexes are "
        "ByEntityType, ByPatient, ByProviderTime, ByStatus, ExternalIDs",
    ),
    (
        "dev",
        "unknown projection type",
        _set("table.projections.ByPatient", {"type": "SOME"}),
        f"{NS}:table.projections.ByPatient.type: Input should be 'ALL', 'KEYS_ONLY' or "
        "'INCLUDE' (got 'SOME')",
    ),
    (
        "dev",
        "region that does not exist",
        _set("drRegion", "us-west-9"),
        f"{NS}:drRegion: 'us-west-9' is not an AWS region; use a region name such as us-east-1 "
        "or us-west-2 (got 'us-west-9')",
    ),
    (
        "dev",
        "provider region differs",
        lambda config: config.update({"aws:region": "eu-west-1"}),
        f"aws:region: eu-west-1 must equal {NS}:region (us-east-1); the provider creates the "
        "primary-region resources there",
    ),
    (
        "dev",
        "zero threshold",
        _set("alarms.throttles.threshold", 0),
        f"{NS}:alarms.throttles.threshold: Input should be greater than 0 (got 0)",
    ),
    (
        "dev",
        "datapoints above evaluation periods",
        _set("alarms.latency.datapointsToAlarm", 11),
        f"{NS}:alarms.latency: datapointsToAlarm must not exceed evaluationPeriods",
    ),
    (
        "dev",
        "negative budget",
        _set("budget.monthlyLimitUsd", -5),
        f"{NS}:budget.monthlyLimitUsd: Input should be greater than 0 (got -5)",
    ),
    (
        "dev",
        "PITR period beyond 35 days",
        _set("table.pointInTimeRecovery.recoveryPeriodDays", 40),
        f"{NS}:table.pointInTimeRecovery.recoveryPeriodDays: Input should be less than or equal "
        "to 35 (got 40)",
    ),
    (
        "dev",
        "provisioned billing",
        _set("table.billing.mode", "PROVISIONED"),
        f"{NS}:table.billing.mode: Input should be 'PAY_PER_REQUEST' (got 'PROVISIONED')",
    ),
    (
        "dev",
        "misspelled key",
        _set("table.deletionProtecton", True),
        f"{NS}:table.deletionProtecton: unknown key; allowed here: name, billing, projections, "
        "ttlAttribute, streamViewType, pointInTimeRecovery, deletionProtection, "
        "contributorInsights",
    ),
    (
        "dev",
        "misspelled top-level key",
        _set("tabel", {}),
        f"{NS}:tabel: unknown key; allowed here: environment, region, drRegion, tags, "
        "protection, table, keys, backup, alarms, budget",
    ),
    (
        "dev",
        "another project's namespace",
        lambda config: config.update({"medeez-api:table": {}}),
        f"medeez-api:table: unknown key; this project reads {NS}:<key>",
    ),
    (
        "dev",
        "missing budget",
        _delete(f"{NS}:budget"),
        f"{NS}:budget: missing; this key is required",
    ),
    (
        "dev",
        "Environment tag of another stack",
        _set("tags.Environment", "prod"),
        f"{NS}:tags.Environment: must equal environment (dev), got prod; the budget filters "
        "cost on it",
    ),
    (
        "dev",
        "unknown data classification",
        _set("tags.DataClassification", "secret"),
        f"{NS}:tags.DataClassification: Input should be 'phi', 'confidential', 'internal' or "
        "'public' (got 'secret')",
    ),
    (
        "dev",
        "cold storage too close to deletion",
        _set("backup.coldStorageAfterDays", 1),
        f"{NS}:backup: retentionDays must be at least coldStorageAfterDays + 90 (AWS keeps cold "
        "recovery points at least 90 days)",
    ),
    (
        "prod",
        "retention outside the vault lock",
        _set("backup.retentionDays", 500),
        f"{NS}:backup: retentionDays (500) must lie within the vault lock's 7..400 days",
    ),
    (
        "dev",
        "subscriber endpoint of the wrong kind",
        _set("alarms.subscribers", [{"protocol": "https", "endpoint": "ops@medeez.example"}]),
        f"{NS}:alarms.subscribers[0]: endpoint does not fit protocol https (expected ^https://)",
    ),
    (
        "dev",
        "key rotation faster than KMS allows",
        _set("keys.rotation.periodDays", 30),
        f"{NS}:keys.rotation.periodDays: Input should be greater than or equal to 90 (got 30)",
    ),
    (
        "prod",
        "a throughput ceiling beyond the DynamoDB API's Long",
        _set("table.billing.maxThroughput.maxReadRequestUnits", 99999999999999999999),
        f"{NS}:table.billing.maxThroughput.maxReadRequestUnits: Input should be less than or "
        "equal to 9223372036854775807 (got 99999999999999999999)",
    ),
    (
        "dev",
        "an alarm window longer than CloudWatch evaluates",
        _set("alarms.userErrors", {"threshold": 5, "periodSeconds": 60, "evaluationPeriods": 2000}),
        f"{NS}:alarms.userErrors: evaluationPeriods x periodSeconds is 120000 s; CloudWatch "
        "allows at most 86400 s (1 day) for periods under an hour",
    ),
    (
        "prod",
        "a vault lock beyond AWS Backup's 100 years",
        _set("backup.vaultLock.maxRetentionDays", 40000),
        f"{NS}:backup.vaultLock.maxRetentionDays: Input should be less than or equal to 36500 "
        "(got 40000)",
    ),
    (
        "dev",
        "an infinite budget",
        _set("budget.monthlyLimitUsd", float("inf")),
        f"{NS}:budget.monthlyLimitUsd: Input should be a finite number (got inf)",
    ),
]


@pytest.mark.parametrize(
    ("stack", "mutation", "expected"),
    [pytest.param(stack, mutation, expected, id=case) for stack, case, mutation, expected in CASES],
)
def test_malformed_config_is_one_clear_message(
    stack: str, mutation: Mutation, expected: str
) -> None:
    config = copy.deepcopy(read_stack(stack).config)
    mutation(config)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(stack, config)
    message = str(caught.value)
    assert message.startswith(f"stack {stack}: invalid config in Pulumi.{stack}.yaml:\n  - ")
    assert expected in message.splitlines()[1], message


def test_every_problem_is_reported_at_once() -> None:
    config = copy.deepcopy(read_stack("prod").config)
    _set("table.deletionProtection", False)(config)
    _set("alarms.throttles.threshold", -1)(config)
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("prod", config)
    lines = str(caught.value).splitlines()[1:]
    assert lines == [
        f"  - {NS}:alarms.throttles.threshold: Input should be greater than 0 (got -1)",
    ]
    # The invariants run on a structurally valid config, so they report on the next attempt.
    _set("alarms.throttles.threshold", 1)(config)
    with pytest.raises(ConfigError, match=r"table\.deletionProtection: must be true in prod"):
        parse_stack_config("prod", config)


def test_unknown_stack_lists_the_stacks_that_exist() -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_config("qa")
    assert str(caught.value) == "unknown stack 'qa': no Pulumi.qa.yaml; stacks: dev, prod"


def test_bad_config_registers_nothing() -> None:
    """The program itself validates before its first resource, under the CLI too."""
    config = copy.deepcopy(read_stack("prod").config)
    _set("table.deletionProtection", False)(config)
    mocks = RealisticMocks(region="us-east-1")
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=NS, stack="prod", preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(cli_config(config), [])

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> None:
        runpy.run_path(str(PROGRAM), run_name="__main__")

    with pytest.raises(pulumi.RunError, match=r"table\.deletionProtection: must be true in prod"):
        program()
    assert monitor.recorded == []


def _write_stack(directory: Path, stack: str, document: dict[str, Any]) -> None:
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")


def _staging_document() -> dict[str, Any]:
    """A new environment derived from dev: another region, with a cross-region copy."""
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8"))
    config = document["config"]
    config["aws:region"] = "us-east-2"
    config[f"{NS}:environment"] = "staging"
    config[f"{NS}:region"] = "us-east-2"
    config[f"{NS}:drRegion"] = "us-west-2"
    config[f"{NS}:tags"]["Environment"] = "staging"
    config[f"{NS}:backup"]["crossRegionCopy"] = {"enabled": True, "retentionDays": 14}
    return document


def test_a_new_environment_is_one_yaml_file(tmp_path: Path) -> None:
    _write_stack(tmp_path, "staging", _staging_document())
    config = load_stack_config("staging", tmp_path)
    assert config.names.table == "medeez-staging-app"
    plan = plan_stack("staging", tmp_path)
    assert plan.outputs["tableArn"] == (
        "arn:aws:dynamodb:us-east-2:111122223333:table/medeez-staging-app"
    )
    assert plan.outputs["phiKeyAlias"] == "alias/medeez-staging-phi"
    assert plan.outputs["drBackupVaultArn"] == (
        "arn:aws:backup:us-west-2:111122223333:backup-vault:medeez-staging-backup-dr"
    )
    [rule] = plan.named("backup-plan").inputs["rules"]
    assert rule["copyActions"][0]["lifecycle"] == {"deleteAfter": 14}
    assert all(
        r.inputs["tags"]["Environment"] == "staging" for r in plan.resources if "tags" in r.inputs
    )


def test_secure_values_are_planned_as_a_marked_placeholder(tmp_path: Path) -> None:
    document = _staging_document()
    document["config"][f"{NS}:alarms"]["subscribers"] = [
        {"protocol": "https", "endpoint": {"secure": "v1:Zm9vYmFy"}}
    ]
    _write_stack(tmp_path, "staging", document)
    plan = plan_stack("staging", tmp_path)
    assert plan.secret_placeholders == [f"{NS}:alarms.subscribers[0].endpoint"]
    [subscription] = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    # Recorded in the engine's wire form for secrets, as a policy pack receives it.
    assert subscription.inputs["endpoint"] == {
        rpc._special_sig_key: rpc._special_secret_sig,
        "value": OFFLINE_SECRET_PLACEHOLDER,
    }


def test_region_names_match_botocores_own_region_list() -> None:
    import botocore.session

    session = botocore.session.get_session()
    expected = {
        region
        for partition in ("aws", "aws-us-gov")
        for region in session.get_available_regions("dynamodb", partition_name=partition)
    }
    assert aws_region_names() == expected
    assert {"us-east-1", "us-west-2", "us-gov-west-1"} <= aws_region_names()
