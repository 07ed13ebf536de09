"""The audit bucket, its access-log bucket and the trail on the local endpoint.

moto holds all of it: the bucket's object lock, versioning, SSE-KMS, public access block,
ownership, policy, lifecycle, server access logging and tags; the access-log bucket's likewise;
the trail's settings, advanced event selectors, logging status and tags. The trail is
configuration only there: moto delivers no log files (what the trail would record is AWS's to
prove). With ``trail.organizationTrail`` the stack creates no trail, and validate says the trail
is external.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from scripts.aws_target import error_code
from scripts.services.base import (
    CheckContext,
    SetupContext,
    Skipped,
    policy_document,
    tag_list,
)
from stackspec.definitions.audit_bucket import AuditBucketDefinition, LifecycleRule
from stackspec.definitions.trail import TrailDefinition
from stackspec.naming import KeyPurpose

NAME = "audit_trail"

# --- requests, from the definitions (setup sends them; parity compares them) ---------------------


def lifecycle_rule(rule: LifecycleRule) -> dict[str, Any]:
    """A lifecycle rule as PutBucketLifecycleConfiguration takes it."""
    request: dict[str, Any] = {
        "ID": rule.id,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": rule.expiration_days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": rule.noncurrent_expiration_days},
        "AbortIncompleteMultipartUpload": {
            "DaysAfterInitiation": rule.abort_incomplete_upload_days
        },
    }
    if rule.transitions:
        request["Transitions"] = [
            {"Days": t.days, "StorageClass": t.storage_class} for t in rule.transitions
        ]
    return request


def _locked_down() -> dict[str, dict[str, Any]]:
    return {
        "ownership": {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}},
        "public-access-block": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            }
        },
        "versioning": {"VersioningConfiguration": {"Status": "Enabled"}},
    }


def bucket_settings(
    definition: AuditBucketDefinition, *, key_arn: str, bucket: str, partition: str, account: str
) -> dict[str, dict[str, Any]]:
    """Each side setting of the audit bucket as its Put request (without ``Bucket``)."""
    return {
        **_locked_down(),
        "encryption": {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            }
        },
        "object-lock": {
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {
                    "DefaultRetention": {
                        "Mode": definition.object_lock_mode,
                        "Days": definition.retention_days,
                    }
                },
            }
        },
        "policy": {
            "Policy": definition.policy(
                bucket_arn=f"arn:{partition}:s3:::{bucket}", partition=partition, account_id=account
            )
        },
        "lifecycle": {"LifecycleConfiguration": {"Rules": [lifecycle_rule(definition.lifecycle)]}},
        "logging": {
            "BucketLoggingStatus": {
                "LoggingEnabled": {
                    "TargetBucket": definition.access_log_bucket_name(account),
                    "TargetPrefix": definition.access_log_prefix,
                }
            }
        },
        "tags": {"Tagging": {"TagSet": tag_list(definition.tags)}},
    }


def access_log_bucket_settings(
    definition: AuditBucketDefinition, *, bucket: str, partition: str, account: str
) -> dict[str, dict[str, Any]]:
    """Each side setting of the access-log bucket as its Put request (without ``Bucket``)."""
    return {
        **_locked_down(),
        "encryption": {
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                        "BucketKeyEnabled": False,
                    }
                ]
            }
        },
        "policy": {
            "Policy": definition.access_log_policy(
                log_bucket_arn=f"arn:{partition}:s3:::{bucket}",
                source_bucket_arn=f"arn:{partition}:s3:::{definition.bucket_name(account)}",
                account_id=account,
            )
        },
        "lifecycle": {
            "LifecycleConfiguration": {"Rules": [lifecycle_rule(definition.access_log_lifecycle)]}
        },
        "tags": {"Tagging": {"TagSet": tag_list(definition.tags)}},
    }


def trail_request(definition: TrailDefinition, *, bucket: str, key_arn: str) -> dict[str, Any]:
    """CreateTrail's parameters (the selectors go with PutEventSelectors)."""
    return {
        "Name": definition.name,
        "S3BucketName": bucket,
        "S3KeyPrefix": definition.s3_key_prefix,
        "IsMultiRegionTrail": definition.multi_region,
        "IncludeGlobalServiceEvents": definition.include_global_service_events,
        "EnableLogFileValidation": definition.log_file_validation,
        "KmsKeyId": key_arn,
        "TagsList": tag_list(definition.tags),
    }


#: What of a trail's description is compared with the request (DescribeTrails names one
#: differently: LogFileValidationEnabled).
_TRAIL_FIELDS = {
    "S3BucketName": "S3BucketName",
    "S3KeyPrefix": "S3KeyPrefix",
    "IsMultiRegionTrail": "IsMultiRegionTrail",
    "IncludeGlobalServiceEvents": "IncludeGlobalServiceEvents",
    "EnableLogFileValidation": "LogFileValidationEnabled",
    "KmsKeyId": "KmsKeyId",
}


def trail_settings(description: dict[str, Any]) -> dict[str, Any]:
    return {want: description.get(have) for want, have in _TRAIL_FIELDS.items()}


#: Setting -> (Put call, Get call, what of the Get answer is compared with the request).
_S3_CALLS: dict[str, tuple[str, str, Callable[[dict[str, Any]], Any]]] = {
    "ownership": (
        "put_bucket_ownership_controls",
        "get_bucket_ownership_controls",
        lambda r: {"OwnershipControls": r.get("OwnershipControls")},
    ),
    "public-access-block": (
        "put_public_access_block",
        "get_public_access_block",
        lambda r: {"PublicAccessBlockConfiguration": r.get("PublicAccessBlockConfiguration")},
    ),
    "versioning": (
        "put_bucket_versioning",
        "get_bucket_versioning",
        lambda r: {"VersioningConfiguration": {"Status": r.get("Status")}},
    ),
    "encryption": (
        "put_bucket_encryption",
        "get_bucket_encryption",
        lambda r: {
            "ServerSideEncryptionConfiguration": {
                "Rules": r.get("ServerSideEncryptionConfiguration", {}).get("Rules")
            }
        },
    ),
    "object-lock": (
        "put_object_lock_configuration",
        "get_object_lock_configuration",
        lambda r: {
            "ObjectLockConfiguration": _without_zero_period(r.get("ObjectLockConfiguration"))
        },
    ),
    "policy": ("put_bucket_policy", "get_bucket_policy", lambda r: {"Policy": r.get("Policy")}),
    "lifecycle": (
        "put_bucket_lifecycle_configuration",
        "get_bucket_lifecycle_configuration",
        lambda r: {"LifecycleConfiguration": {"Rules": r.get("Rules")}},
    ),
    "logging": (
        "put_bucket_logging",
        "get_bucket_logging",
        lambda r: {"BucketLoggingStatus": {"LoggingEnabled": r.get("LoggingEnabled")}},
    ),
    "tags": (
        "put_bucket_tagging",
        "get_bucket_tagging",
        lambda r: {"Tagging": {"TagSet": sorted(r.get("TagSet", []), key=lambda t: t["Key"])}},
    ),
}


def _without_zero_period(config: Any) -> Any:
    """A default retention names days or years; an emulator may report the other as 0."""
    retention = (config or {}).get("Rule", {}).get("DefaultRetention")
    if isinstance(retention, dict):
        for unit in ("Days", "Years"):
            if not retention.get(unit):
                retention.pop(unit, None)
    return config


def _same(setting: str, want: dict[str, Any], have: dict[str, Any]) -> bool:
    if setting == "policy":
        return bool(policy_document(have.get("Policy") or "{}") == json.loads(want["Policy"]))
    return bool(have == want)


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    definition = ctx.stack.audit_bucket
    account, partition = ctx.identity.account, ctx.identity.partition
    log_bucket = definition.access_log_bucket_name(account)
    # The log bucket and its policy first: S3 checks the target when logging is switched on.
    _ensure_bucket(
        ctx,
        "access-log bucket",
        log_bucket,
        access_log_bucket_settings(
            definition, bucket=log_bucket, partition=partition, account=account
        ),
        object_lock=False,
    )
    bucket = definition.bucket_name(account)
    _ensure_bucket(
        ctx,
        "audit bucket",
        bucket,
        bucket_settings(
            definition,
            key_arn=ctx.key_arns[KeyPurpose.AUDIT],
            bucket=bucket,
            partition=partition,
            account=account,
        ),
        object_lock=True,
    )
    if ctx.stack.trail is not None:
        _ensure_trail(ctx, ctx.stack.trail, bucket)


def _ensure_bucket(
    ctx: SetupContext,
    label: str,
    name: str,
    settings: dict[str, dict[str, Any]],
    *,
    object_lock: bool,
) -> None:
    s3 = ctx.clients("s3")
    try:
        s3.get_bucket_location(Bucket=name)
        ctx.result.add(label, name, "unchanged")
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucket":
            raise
        request: dict[str, Any] = {"Bucket": name}
        if object_lock:
            request["ObjectLockEnabledForBucket"] = True
        if ctx.stack.config.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.stack.config.region}
        s3.create_bucket(**request)
        ctx.result.add(label, name, "created")
    for setting, want in settings.items():
        put, get, read = _S3_CALLS[setting]
        try:
            same = _same(setting, want, read(getattr(s3, get)(Bucket=name)))
        except ClientError:
            same = False  # not set yet
        if same:
            ctx.result.add(f"{label} {setting}", name, "unchanged")
            continue
        getattr(s3, put)(Bucket=name, **want)
        ctx.result.add(f"{label} {setting}", name, "updated")


def _stream_arn(ctx: SetupContext | CheckContext) -> str | None:
    table = ctx.clients("dynamodb").describe_table(TableName=ctx.stack.table.name)["Table"]
    stream = table.get("LatestStreamArn")
    return str(stream) if stream else None


def _table_arn(ctx: SetupContext | CheckContext) -> str:
    return (
        f"arn:{ctx.identity.partition}:dynamodb:{ctx.stack.config.region}:"
        f"{ctx.identity.account}:table/{ctx.stack.table.name}"
    )


def _ensure_trail(ctx: SetupContext, definition: TrailDefinition, bucket: str) -> None:
    cloudtrail = ctx.clients("cloudtrail")
    request = trail_request(definition, bucket=bucket, key_arn=ctx.key_arns[KeyPurpose.AUDIT])
    selectors = definition.event_selectors(
        table_arn=ctx.table_arn or _table_arn(ctx), stream_arn=_stream_arn(ctx)
    )
    found = cloudtrail.describe_trails(trailNameList=[definition.name])["trailList"]
    if not found:
        arn = cloudtrail.create_trail(**request)["TrailARN"]
        cloudtrail.put_event_selectors(TrailName=definition.name, AdvancedEventSelectors=selectors)
        ctx.result.add("trail", definition.name, "created")
    else:
        arn = found[0]["TrailARN"]
        settings = {k: v for k, v in request.items() if k not in ("Name", "TagsList")}
        if trail_settings(found[0]) != settings:
            cloudtrail.update_trail(Name=definition.name, **settings)
            ctx.result.add("trail settings", definition.name, "updated")
        else:
            ctx.result.add("trail settings", definition.name, "unchanged")
        live = cloudtrail.get_event_selectors(TrailName=definition.name)
        if live.get("AdvancedEventSelectors") != selectors:
            cloudtrail.put_event_selectors(
                TrailName=definition.name, AdvancedEventSelectors=selectors
            )
            ctx.result.add("trail event selectors", definition.name, "updated")
        else:
            ctx.result.add("trail event selectors", definition.name, "unchanged")
        tags = cloudtrail.list_tags(ResourceIdList=[arn])["ResourceTagList"][0].get("TagsList", [])
        if sorted(tags, key=lambda t: t["Key"]) != request["TagsList"]:
            cloudtrail.add_tags(ResourceId=arn, TagsList=request["TagsList"])
            ctx.result.add("trail tags", definition.name, "updated")
    if not cloudtrail.get_trail_status(Name=arn).get("IsLogging"):
        cloudtrail.start_logging(Name=arn)
        ctx.result.add("trail logging", definition.name, "updated")


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    definition = ctx.stack.audit_bucket
    account, partition = ctx.identity.account, ctx.identity.partition
    bucket = definition.bucket_name(account)
    log_bucket = definition.access_log_bucket_name(account)
    key_arn = ctx.key_arns.get(KeyPurpose.AUDIT)
    _check_bucket(
        ctx,
        "audit.bucket",
        bucket,
        bucket_settings(
            definition, key_arn=str(key_arn), bucket=bucket, partition=partition, account=account
        ),
        key_arn,
    )
    _check_bucket(
        ctx,
        "audit.access-log-bucket",
        log_bucket,
        access_log_bucket_settings(
            definition, bucket=log_bucket, partition=partition, account=account
        ),
        "not needed",
    )
    cfg = ctx.stack.config.trail
    if ctx.stack.trail is not None:
        _check_trail(ctx, ctx.stack.trail, bucket, key_arn)
    elif cfg.organization_trail:
        ctx.skip(
            "trail",
            "external: an organization trail records this account (trail.organizationTrail); "
            "this stack creates none. Check in the management account that it logs this "
            "table's data events, validates log files, encrypts with KMS, covers every region "
            "and delivers to an object-locked bucket",
        )
    else:
        ctx.skip("trail", "off (trail.enabled is false): nothing records the table's data events")


def _check_bucket(
    ctx: CheckContext,
    prefix: str,
    name: str,
    settings: dict[str, dict[str, Any]],
    key_arn: str | None,
) -> None:
    s3 = ctx.clients("s3")
    present = {"ok": False}

    def exists() -> None:
        s3.get_bucket_location(Bucket=name)
        present["ok"] = True
        ctx.add(prefix, name, name)

    ctx.guard(prefix, exists, name)
    for setting, want in settings.items():
        _, get, read = _S3_CALLS[setting]

        def one(
            setting: str = setting,
            want: dict[str, Any] = want,
            get: str = get,
            read: Callable[[dict[str, Any]], Any] = read,
        ) -> None:
            if not present["ok"]:
                raise Skipped(f"the bucket {name} is missing (its own row fails)")
            if setting == "encryption" and key_arn is None:
                raise Skipped(f"the {KeyPurpose.AUDIT} key is missing (its own row fails)")
            try:
                have = read(getattr(s3, get)(Bucket=name))
            except ClientError as exc:
                ctx.fail(f"{prefix}.{setting}", "set", "not set", error_code(exc))
                return
            same = _same(setting, want, have)
            ctx.add(
                f"{prefix}.{setting}",
                "as defined" if same else want,
                "as defined" if same else have,
                same,
            )

        ctx.guard(f"{prefix}.{setting}", one)


def _check_trail(
    ctx: CheckContext, definition: TrailDefinition, bucket: str, key_arn: str | None
) -> None:
    cloudtrail = ctx.clients("cloudtrail")
    found: dict[str, Any] = {}

    def exists() -> None:
        trails = cloudtrail.describe_trails(trailNameList=[definition.name])["trailList"]
        found.update(trails[0] if trails else {})
        ctx.add("trail", definition.name, found.get("Name", "not found"))

    ctx.guard("trail", exists, definition.name)

    def need() -> None:
        if not found:
            raise Skipped("the trail is missing (its own row fails)")

    def settings() -> None:
        need()
        want = {
            k: v
            for k, v in trail_request(definition, bucket=bucket, key_arn=str(key_arn)).items()
            if k not in ("Name", "TagsList")
        }
        ctx.add("trail.settings", want, trail_settings(found))

    def selectors() -> None:
        need()
        want = definition.event_selectors(table_arn=_table_arn(ctx), stream_arn=_stream_arn(ctx))
        have = cloudtrail.get_event_selectors(TrailName=definition.name)
        ctx.add(
            "trail.event-selectors",
            [s["Name"] for s in want],
            [s.get("Name") for s in have.get("AdvancedEventSelectors", [])],
            have.get("AdvancedEventSelectors") == want,
        )

    def logging() -> None:
        need()
        status = cloudtrail.get_trail_status(Name=found["TrailARN"])
        ctx.add("trail.logging", True, bool(status.get("IsLogging")))

    def tags() -> None:
        need()
        listed = cloudtrail.list_tags(ResourceIdList=[found["TrailARN"]])["ResourceTagList"]
        have = {t["Key"]: t["Value"] for t in (listed[0].get("TagsList", []) if listed else [])}
        ctx.add("trail.tags", definition.tags, have)

    for row, run in (
        ("trail.settings", settings),
        ("trail.event-selectors", selectors),
        ("trail.logging", logging),
        ("trail.tags", tags),
    ):
        ctx.guard(row, run)
