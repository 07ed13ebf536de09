"""The registry: the pinned rule manifest, the metadata every rule must carry, the pack built from
it, and POLICIES.md kept current."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from hipaa_guardrails import docs, exemptions
from hipaa_guardrails.registry import PACK_NAME, all_rules, build_policies, policy_names, rule
from hipaa_guardrails.spec import CITATION_PATTERN, NAME_PATTERN, Scope
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

#: (name, catalog id, severity, scope): changing a rule's identity or weight is a reviewed change.
MANIFEST = [
    ("hipaa-backup-copy-retention", "B5", "medium", "resource"),
    ("hipaa-backup-cross-region-copy", "B4", "high", "stack"),
    ("hipaa-backup-plan-daily-with-retention", "B1", "high", "resource"),
    ("hipaa-backup-vault-encrypted-with-cmk", "B2", "high", "resource"),
    ("hipaa-backup-vault-locked", "B3", "high", "stack"),
    ("hipaa-budgets-route-to-encrypted-topic", "S4", "medium", "stack"),
    ("hipaa-cloudwatch-alarm-actions-enabled", "C1", "high", "resource"),
    ("hipaa-cloudwatch-alarms-route-to-encrypted-topic", "S4", "high", "stack"),
    ("hipaa-cloudwatch-log-group-encrypted", "C3", "high", "resource"),
    ("hipaa-cloudwatch-log-group-retention", "C2", "medium", "resource"),
    ("hipaa-dynamodb-deletion-protection-enabled", "D5", "high", "resource"),
    ("hipaa-dynamodb-encrypted-with-cmk", "D2", "critical", "resource"),
    ("hipaa-dynamodb-in-backup-plan", "D3", "high", "stack"),
    ("hipaa-dynamodb-on-demand-or-autoscaled", "D4", "medium", "resource"),
    ("hipaa-dynamodb-pitr-enabled", "D1", "high", "resource"),
    ("hipaa-dynamodb-stream-view-allowed", "D7", "medium", "resource"),
    ("hipaa-dynamodb-ttl-spares-retained-attributes", "D8", "medium", "resource"),
    ("hipaa-elasticache-backups-retained", "E1", "high", "resource"),
    ("hipaa-elasticache-encrypted-at-rest-with-cmk", "E2", "critical", "resource"),
    ("hipaa-elasticache-in-transit-encrypted-with-auth", "E3", "high", "resource"),
    ("hipaa-iam-data-access-scoped", "I3", "high", "resource"),
    ("hipaa-iam-no-admin-or-full-access", "I1", "high", "resource"),
    ("hipaa-iam-no-inline-policies", "I2", "medium", "resource"),
    ("hipaa-iam-no-user-policies", "I2", "high", "resource"),
    ("hipaa-iam-tenant-leading-keys", "D9", "high", "resource"),
    ("hipaa-iam-trust-policy-scoped", "I4", "high", "resource"),
    ("hipaa-kms-key-deletion-guarded", "K2", "high", "resource"),
    ("hipaa-kms-key-policy-safe", "K3", "high", "resource"),
    ("hipaa-kms-key-rotation-enabled", "K1", "high", "resource"),
    ("hipaa-lambda-environment-encrypted-with-cmk", "L5", "medium", "resource"),
    ("hipaa-lambda-permission-not-public", "L1", "high", "resource"),
    ("hipaa-lambda-stream-consumer-failure-destination", "D6", "medium", "resource"),
    ("hipaa-rds-backups-retained", "R3", "high", "resource"),
    ("hipaa-rds-deletion-protection-enabled", "R6", "high", "resource"),
    ("hipaa-rds-logs-exported", "R7", "medium", "resource"),
    ("hipaa-rds-not-public", "R2", "high", "resource"),
    ("hipaa-rds-storage-encrypted-with-cmk", "R1", "critical", "resource"),
    ("hipaa-s3-bucket-encrypted-with-kms", "S3-2", "high", "stack"),
    ("hipaa-s3-bucket-public-access-blocked", "S3-4", "high", "stack"),
    ("hipaa-s3-bucket-tls-only", "S3-1", "high", "stack"),
    ("hipaa-s3-bucket-versioned", "S3-3", "high", "stack"),
    ("hipaa-sns-topic-encrypted-with-cmk", "S1", "high", "resource"),
    ("hipaa-sns-topic-policy-not-public", "S3", "high", "resource"),
    ("hipaa-sns-topic-tls-only", "S2", "medium", "stack"),
    ("hipaa-stack-data-resources-protected", "custom", "high", "stack"),
    ("hipaa-stack-data-types-covered", "custom", "high", "stack"),
]


def test_manifest_pins_every_rule():
    assert [
        (r.name, r.catalog_id, r.severity.value, r.scope.value) for r in all_rules()
    ] == MANIFEST


def test_catalog_coverage_required_by_the_issue():
    # DynamoDB D1-D5, D7, D8; KMS K1-K3; Backup B1-B5; CloudWatch C1-C3; SNS S1-S4; IAM I1-I4.
    ids = {r.catalog_id for r in all_rules()}
    required = {"D1", "D2", "D3", "D4", "D5", "D7", "D8", "K1", "K2", "K3", "B1", "B2", "B3"}
    required |= {"B4", "B5", "C1", "C2", "C3", "S1", "S2", "S3", "S4", "I1", "I2", "I3", "I4"}
    assert required <= ids


@pytest.mark.parametrize("guardrail", all_rules(), ids=lambda r: r.name)
def test_rule_metadata(guardrail):
    assert NAME_PATTERN.match(guardrail.name)
    assert guardrail.description.endswith(".")
    assert guardrail.remediation
    assert guardrail.unknowns
    if guardrail.operational:
        assert guardrail.controls == ()
    else:
        assert guardrail.controls
        assert all(CITATION_PATTERN.match(c) for c in guardrail.controls), guardrail.controls
    expected = (
        EnforcementLevel.MANDATORY
        if guardrail.severity in (Severity.CRITICAL, Severity.HIGH)
        else EnforcementLevel.ADVISORY
    )
    assert guardrail.enforcement is expected
    if guardrail.scope is Scope.RESOURCE:
        assert guardrail.resource_types
    for key, schema in guardrail.config_properties.items():
        assert "default" in schema, key
        assert schema.get("description"), key


def test_rule_module_names_follow_the_rule_names():
    # rules/<service>/<what>.py holds hipaa-<service>-<what> (service spelt as in the name).
    root = Path(docs.PACK_DIR) / "hipaa_guardrails" / "rules"
    stems = {p.stem.replace("_", "-") for p in root.rglob("*.py") if not p.name.startswith("_")}
    for guardrail in all_rules():
        assert any(guardrail.name.endswith(stem) for stem in stems), guardrail.name


def test_policies_are_built_from_the_registry():
    built = build_policies()
    assert [p.name for p in built] == policy_names()
    assert built[-1].name == exemptions.REPORT_POLICY  # last, after every rule that records
    for policy, guardrail in zip(built, all_rules(), strict=False):
        assert policy.name == guardrail.name
        assert policy.severity is guardrail.severity
        assert policy.enforcement_level is guardrail.enforcement
        assert policy.remediation_steps == guardrail.remediation
        assert policy.framework is not None
        assert policy.framework.name == "HIPAA Security Rule"
        assert policy.framework.reference == (", ".join(guardrail.controls) or None)
        assert [f"hipaa:{c}" for c in guardrail.controls] == [
            t for t in (policy.tags or []) if t.startswith("hipaa:")
        ]
        assert policy.config_schema is not None
        assert "exemptions" in policy.config_schema.properties
        kind = (
            ResourceValidationPolicy if guardrail.scope is Scope.RESOURCE else StackValidationPolicy
        )
        assert isinstance(policy, kind)


def test_rule_lookup_names_the_known_rules():
    assert rule("hipaa-dynamodb-pitr-enabled").catalog_id == "D1"
    with pytest.raises(KeyError, match="no rule named 'hipaa-nope'; rules: hipaa-backup"):
        rule("hipaa-nope")


def test_pack_entry_point_builds_the_pack_once(monkeypatch):
    built = []

    class RecordingPack:
        def __init__(self, **kwargs):
            built.append(kwargs)

    monkeypatch.setattr("pulumi_policy.PolicyPack", RecordingPack)
    runpy.run_path(str(Path(docs.PACK_DIR) / "__main__.py"), run_name="__main__")
    [kwargs] = built
    assert kwargs["name"] == PACK_NAME
    assert [p.name for p in kwargs["policies"]] == policy_names()


def test_pack_requirements_pin_the_sdk_and_nothing_of_the_repo():
    requirements = (Path(docs.PACK_DIR) / "requirements.txt").read_text().splitlines()
    pins = sorted(line for line in requirements if line and not line.startswith("#"))
    assert pins == ["pulumi-policy==1.21.0", "pulumi==3.272.0"]
    for path in (Path(docs.PACK_DIR) / "hipaa_guardrails").rglob("*.py"):
        assert "from components" not in path.read_text(), path


def test_policies_md_is_current():
    assert docs.OUTPUT.read_text(encoding="utf-8") == docs.render(), "run `make docs`"


def test_docs_check_mode(capsys):
    assert docs.main(["--check"]) == 0
    assert "POLICIES.md is current" in capsys.readouterr().out
