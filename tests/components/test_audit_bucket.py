"""The audit bucket, in every stack: its own key, SSE-KMS with bucket key, versioning, object lock
(compliance in prod, governance in dev), every public access block, owner-enforced ownership, a
TLS 1.2+ policy that lets only the stack's trail and Backup reports write, lifecycle to archive
tiers, and server access logs to an SSE-S3 access-log bucket."""

from __future__ import annotations

import json

import pytest

from tools.mocks import MOCK_ACCOUNT_ID
from tools.plan import Plan

REPORTS_ROLE = (
    f"arn:aws:iam::{MOCK_ACCOUNT_ID}:role/aws-service-role/reports.backup.amazonaws.com/"
    "AWSServiceRoleForBackupReports"
)
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _arn(stack: str, suffix: str = "audit") -> str:
    return f"arn:aws:s3:::medeez-{stack}-{suffix}-{MOCK_ACCOUNT_ID}"


def _tls(arn: str) -> list[dict[str, object]]:
    resources = [arn, f"{arn}/*"]
    return [
        {
            "Sid": "DenyWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsBelow12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


@pytest.mark.parametrize(
    ("stack", "mode", "days", "protected"),
    [("dev", "GOVERNANCE", 90, False), ("prod", "COMPLIANCE", 2192, True)],
)
def test_bucket_is_named_per_account_with_object_lock(
    stack: str, mode: str, days: int, protected: bool, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(f"{stack}_plan")
    bucket = plan.named("audit-bucket")
    assert bucket.inputs["bucket"] == f"medeez-{stack}-audit-{MOCK_ACCOUNT_ID}"
    assert bucket.inputs["objectLockEnabled"] is True
    assert (bucket.protect, bucket.retain_on_delete) == (protected, protected)
    lock = plan.named("audit-object-lock")
    assert lock.inputs["objectLockEnabled"] == "Enabled"
    assert lock.inputs["rule"] == {"defaultRetention": {"mode": mode, "days": days}}
    assert lock.protect is protected


def test_encrypted_with_its_own_key_that_cloudtrail_and_the_reports_role_may_use(
    prod_plan: Plan,
) -> None:
    key = prod_plan.named("audit-key-key")
    sse = prod_plan.named("audit-encryption")
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
    trail = f"arn:aws:cloudtrail:us-east-1:{MOCK_ACCOUNT_ID}:trail/medeez-prod-trail"
    assert statements["CloudTrailEncryptLogs"] == {
        "Sid": "CloudTrailEncryptLogs",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceArn": trail},
            "StringLike": {
                "kms:EncryptionContext:aws:cloudtrail:arn": (
                    f"arn:aws:cloudtrail:*:{MOCK_ACCOUNT_ID}:trail/*"
                )
            },
        },
    }
    assert statements["CloudTrailDescribeKey"]["Action"] == "kms:DescribeKey"
    assert statements["CloudTrailDescribeKey"]["Condition"] == {
        "StringEquals": {"aws:SourceArn": trail}
    }


def test_dev_key_lets_cloudtrail_but_no_reports_role_use_it(dev_plan: Plan) -> None:
    key = dev_plan.named("audit-key-key")
    sids = [s["Sid"] for s in json.loads(key.inputs["policy"])["Statement"]]
    assert sids == [
        "AccountRootAdministersViaIam",
        "CloudTrailEncryptLogs",
        "CloudTrailDescribeKey",
    ]


@pytest.mark.parametrize("prefix", ["audit", "audit-access-logs"])
def test_both_buckets_block_public_access_disable_acls_and_keep_versions(
    prod_plan: Plan, prefix: str
) -> None:
    pab = prod_plan.named(f"{prefix}-public-access-block").inputs
    assert all(
        pab[flag] is True
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        )
    )
    ownership = prod_plan.named(f"{prefix}-ownership").inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = prod_plan.named(f"{prefix}-versioning").inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}


def test_prod_policy_is_tls12_only_and_lets_the_trail_and_backup_reports_write(
    prod_plan: Plan,
) -> None:
    policy = json.loads(prod_plan.named("audit-policy").inputs["policy"])
    arn = _arn("prod")
    trail = f"arn:aws:cloudtrail:us-east-1:{MOCK_ACCOUNT_ID}:trail/medeez-prod-trail"
    assert policy["Statement"] == [
        *_tls(arn),
        {
            "Sid": "CloudTrailAclCheck",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:GetBucketAcl",
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceArn": trail}},
        },
        {
            "Sid": "CloudTrailWrite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/cloudtrail/AWSLogs/{MOCK_ACCOUNT_ID}/*",
            "Condition": {
                "StringEquals": {
                    "aws:SourceArn": trail,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                }
            },
        },
        {
            "Sid": "BackupReportsWrite",
            "Effect": "Allow",
            "Principal": {"AWS": REPORTS_ROLE},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/backup-audit/*",
        },
    ]


def test_lifecycle_archives_over_the_retention(prod_plan: Plan, dev_plan: Plan) -> None:
    (rule,) = prod_plan.named("audit-lifecycle").inputs["rules"]
    assert rule == {
        "id": "archive-then-expire",
        "status": "Enabled",
        "filter": {"prefix": ""},
        "transitions": [
            {"days": 30, "storageClass": "STANDARD_IA"},
            {"days": 90, "storageClass": "GLACIER_IR"},
            {"days": 365, "storageClass": "DEEP_ARCHIVE"},
        ],
        "expiration": {"days": 2192},
        "noncurrentVersionExpiration": {"noncurrentDays": 2192},
        "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
    }
    (dev_rule,) = dev_plan.named("audit-lifecycle").inputs["rules"]
    assert "transitions" not in dev_rule
    assert dev_rule["expiration"] == {"days": 90}


def test_access_logs_go_to_an_sse_s3_bucket_only_s3_logging_may_write(prod_plan: Plan) -> None:
    logging = prod_plan.named("audit-logging")
    assert logging.inputs == {
        "bucket": f"medeez-prod-audit-{MOCK_ACCOUNT_ID}",
        "targetBucket": f"medeez-prod-audit-access-logs-{MOCK_ACCOUNT_ID}",
        "targetPrefix": "audit-bucket/",
    }
    policy_resource = prod_plan.named("audit-access-logs-policy")
    assert policy_resource.urn in logging.dependencies
    logs = prod_plan.named("audit-access-logs")
    assert "objectLockEnabled" not in logs.inputs  # S3 refuses log delivery to locked buckets
    assert logs.protect
    assert prod_plan.named("audit-access-logs-encryption").inputs["rules"] == [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}
    ]
    arn = _arn("prod", "audit-access-logs")
    assert json.loads(policy_resource.inputs["policy"])["Statement"] == [
        {
            "Sid": "S3ServerAccessLogs",
            "Effect": "Allow",
            "Principal": {"Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"{arn}/audit-bucket/*",
            "Condition": {
                "ArnLike": {"aws:SourceArn": _arn("prod")},
                "StringEquals": {"aws:SourceAccount": MOCK_ACCOUNT_ID},
            },
        },
        *_tls(arn),
    ]
    (rule,) = prod_plan.named("audit-access-logs-lifecycle").inputs["rules"]
    assert rule["expiration"] == {"days": 2192}
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
