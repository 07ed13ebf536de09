"""The audit bucket: its own key, SSE-KMS with bucket key, versioning, object lock, every public
access block, owner-enforced ownership, a TLS-only policy that lets only Backup reports write."""

from __future__ import annotations

import json

from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan

REPORTS_ROLE = (
    f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/aws-service-role/reports.backup.amazonaws.com/"
    "AWSServiceRoleForBackupReports"
)


def test_bucket_is_named_per_account_with_object_lock(prod_plan: Plan) -> None:
    bucket = prod_plan.named("audit-bucket")
    assert bucket.inputs["bucket"] == f"medeez-prod-audit-{MOCK_ACCOUNT_ID}"
    assert bucket.inputs["objectLockEnabled"] is True
    assert bucket.protect
    assert bucket.retain_on_delete
    lock = prod_plan.named("audit-object-lock")
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 2190}}
    assert lock.protect


def test_encrypted_with_its_own_key_that_only_the_reports_role_may_use(prod_plan: Plan) -> None:
    key = prod_plan.named("audit-key-key")
    (sse,) = [
        r for r in prod_plan.resources if r.type.endswith("BucketServerSideEncryptionConfiguration")
    ]
    assert sse.inputs["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {
                "sseAlgorithm": "aws:kms",
                "kmsMasterKeyId": key.state["arn"],
            },
            "bucketKeyEnabled": True,
        }
    ]
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    grant = statements["ServiceRolesWriteEncryptedObjects"]
    assert grant["Principal"] == {"AWS": [REPORTS_ROLE]}
    assert grant["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_public_access_blocked_owner_enforced_versioned(prod_plan: Plan) -> None:
    pab = prod_plan.named("audit-public-access-block").inputs
    assert all(
        pab[flag] is True
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    ownership = prod_plan.named("audit-ownership").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = prod_plan.named("audit-versioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}


def test_policy_denies_plain_http_and_lets_only_backup_reports_write(prod_plan: Plan) -> None:
    policy = json.loads(prod_plan.named("audit-policy").inputs["policy"])
    arn = f"arn:aws:s3:::medeez-prod-audit-{MOCK_ACCOUNT_ID}"
    deny, allow = policy["Statement"]
    assert deny == {
        "Sid": "DenyWithoutTls",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    assert allow["Principal"] == {"AWS": REPORTS_ROLE}
    assert (allow["Effect"], allow["Action"], allow["Resource"]) == (
        "Allow",
        "s3:PutObject",
        f"{arn}/*",
    )
