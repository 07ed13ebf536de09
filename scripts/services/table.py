"""The app table on the local endpoint: created exactly as its definition says, then PITR, TTL,
deletion protection, tags and contributor insights; validate compares every one of them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from scripts.aws_target import error_code, not_emulated
from scripts.services.base import (
    NOT_EMULATED,
    CheckContext,
    Outcome,
    SetupContext,
    Skipped,
    tag_list,
)
from stackspec.definitions.table import IndexDefinition, TableDefinition
from stackspec.naming import KeyPurpose

NAME = "table"


def create_table_request(table: TableDefinition, sse_kms_key_id: str) -> dict[str, object]:
    """The DynamoDB ``CreateTable`` request for ``table`` (boto3 keyword arguments), encrypted
    with the customer-managed key ``sse_kms_key_id`` (ARN, id or alias).

    TTL, PITR and contributor insights are separate API calls after the table is ACTIVE.
    """
    request: dict[str, object] = {
        "TableName": table.name,
        "BillingMode": table.billing_mode,
        "KeySchema": [
            {"AttributeName": table.partition_key, "KeyType": "HASH"},
            {"AttributeName": table.sort_key, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in table.attributes
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {
                    "ProjectionType": index.projection_type,
                    **(
                        {"NonKeyAttributes": list(index.non_key_attributes)}
                        if index.non_key_attributes
                        else {}
                    ),
                },
            }
            for index in table.indexes
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": table.stream_view_type},
        "SSESpecification": {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": sse_kms_key_id},
        "DeletionProtectionEnabled": table.deletion_protection,
        "Tags": tag_list(table.tags),
    }
    if table.max_read_request_units and table.max_write_request_units:
        request["OnDemandThroughput"] = {
            "MaxReadRequestUnits": table.max_read_request_units,
            "MaxWriteRequestUnits": table.max_write_request_units,
        }
    return request


# --- setup ---------------------------------------------------------------------------------------


def ensure(ctx: SetupContext) -> None:
    ctx.table_arn = _ensure_table(ctx, ctx.stack.table, ctx.key_arns[KeyPurpose.TABLE])
    _ensure_contributor_insights(ctx, ctx.stack.table)


def _ensure_table(ctx: SetupContext, spec: TableDefinition, table_key_arn: str) -> str:
    ddb = ctx.clients("dynamodb")
    try:
        table = ddb.describe_table(TableName=spec.name)["Table"]
        created = False
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        table = ddb.create_table(**create_table_request(spec, table_key_arn))["TableDescription"]
        created = True
    ddb.get_waiter("table_exists").wait(
        TableName=spec.name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    table_arn = str(table["TableArn"])
    updates: list[str] = []

    backups = ddb.describe_continuous_backups(TableName=spec.name)["ContinuousBackupsDescription"]
    pitr = backups.get("PointInTimeRecoveryDescription", {})
    pitr_on = pitr.get("PointInTimeRecoveryStatus") == "ENABLED"
    if pitr_on != spec.point_in_time_recovery or (
        spec.point_in_time_recovery
        and pitr.get("RecoveryPeriodInDays") != spec.recovery_period_days
    ):
        pitr_spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": spec.point_in_time_recovery}
        if spec.point_in_time_recovery:
            pitr_spec["RecoveryPeriodInDays"] = spec.recovery_period_days
        ddb.update_continuous_backups(
            TableName=spec.name, PointInTimeRecoverySpecification=pitr_spec
        )
        updates.append("PITR")

    ttl = ddb.describe_time_to_live(TableName=spec.name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING") or (
        ttl.get("AttributeName") != spec.ttl_attribute
    ):
        ddb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )
        updates.append("TTL")

    if not created and table.get("DeletionProtectionEnabled", False) != spec.deletion_protection:
        ddb.update_table(TableName=spec.name, DeletionProtectionEnabled=spec.deletion_protection)
        updates.append("deletion protection")

    live_tags = table_tags(ddb, table_arn)
    if any(live_tags.get(k) != v for k, v in spec.tags.items()):
        ddb.tag_resource(ResourceArn=table_arn, Tags=tag_list(spec.tags))
        updates.append("tags")

    fixed = [] if created else table_shape_differences(spec, table, table_key_arn)
    if created:
        outcome: Outcome = "created"
    elif fixed:
        outcome = "drifted"
    elif updates:
        outcome = "updated"
    else:
        outcome = "unchanged"
    detail = (
        f"{len(spec.indexes)} GSIs, PITR {spec.recovery_period_days} days, TTL {spec.ttl_attribute}"
    )
    if updates and not created:
        detail += f"; set {', '.join(updates)}"
    if fixed:
        detail = f"cannot change in place: {'; '.join(fixed)}"
    ctx.result.add("dynamodb table", spec.name, outcome, detail)
    return table_arn


def _ensure_contributor_insights(ctx: SetupContext, spec: TableDefinition) -> None:
    """On the table and every index, as the Pulumi component does."""
    if not spec.contributor_insights:
        return
    ddb = ctx.clients("dynamodb")
    for index in (None, *spec.index_names):
        name = spec.name if index is None else f"{spec.name}/{index}"
        where: dict[str, str] = {"TableName": spec.name}
        if index is not None:
            where["IndexName"] = index
        try:
            if _insights_status(ctx, where) in ("ENABLED", "ENABLING"):
                ctx.result.add("contributor insights", name, "unchanged")
                continue
            ddb.update_contributor_insights(**where, ContributorInsightsAction="ENABLE")
            ctx.result.add("contributor insights", name, "created")
        except (ClientError, NotImplementedError) as exc:
            if not not_emulated(exc, emulator=ctx.clients.emulator):
                raise
            ctx.result.add("contributor insights", name, "skipped", "not emulated locally")


def _insights_status(ctx: SetupContext, where: dict[str, str]) -> str | None:
    """The current status, or None where the endpoint cannot say (then setup asks anyway)."""
    try:
        status = ctx.clients("dynamodb").describe_contributor_insights(**where)
    except (ClientError, NotImplementedError) as exc:
        if not not_emulated(exc, emulator=ctx.clients.emulator):
            raise
        return None
    return str(status.get("ContributorInsightsStatus"))


def table_shape_differences(
    spec: TableDefinition, table: dict[str, Any], key_arn: str
) -> list[str]:
    """What differs between an existing table and ``spec`` that only re-creating it can fix."""
    problems = []
    want_keys = [(spec.partition_key, "HASH"), (spec.sort_key, "RANGE")]
    if [(k["AttributeName"], k["KeyType"]) for k in table.get("KeySchema", [])] != want_keys:
        problems.append("key schema")
    live = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        found = live.get(index.name)
        if found is None:
            problems.append(f"index {index.name} missing")
            continue
        keys = [(k["AttributeName"], k["KeyType"]) for k in found.get("KeySchema", [])]
        if keys != [(index.partition_key, "HASH"), (index.sort_key, "RANGE")]:
            problems.append(f"index {index.name} keys")
        projection = found.get("Projection", {})
        if projection.get("ProjectionType") != index.projection_type or sorted(
            projection.get("NonKeyAttributes", [])
        ) != sorted(index.non_key_attributes):
            problems.append(f"index {index.name} projection")
    stream = table.get("StreamSpecification") or {}
    if not stream.get("StreamEnabled") or stream.get("StreamViewType") != spec.stream_view_type:
        problems.append("stream")
    if (table.get("SSEDescription") or {}).get("KMSMasterKeyArn") != key_arn:
        problems.append("encryption key")
    return problems


def table_tags(ddb: Any, table_arn: str) -> dict[str, str]:
    """Every tag of the table (ListTagsOfResource has no paginator)."""
    tags: dict[str, str] = {}
    kwargs: dict[str, str] = {"ResourceArn": table_arn}
    while True:
        page = ddb.list_tags_of_resource(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


# --- validate ------------------------------------------------------------------------------------


def check(ctx: CheckContext) -> None:
    spec = ctx.stack.table

    def status_row() -> None:
        ctx.table = _describe_table(ctx, spec)
        found = "not found" if ctx.table is None else ctx.table.get("TableStatus")
        ctx.add("table.status", f"{spec.name} ACTIVE", f"{spec.name} {found}")

    ctx.guard("table.status", status_row, f"{spec.name} ACTIVE")
    checks: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("table.key-schema", lambda t: _key_schema(ctx, spec, t)),
        ("table.attributes", lambda t: _attributes(ctx, spec, t)),
        *(
            (f"table.gsi.{index.name}", lambda t, i=index: _gsi(ctx, i, t))
            for index in spec.indexes
        ),
        *(
            (f"table.gsi.{index.name}.projection", lambda t, i=index: _projection(ctx, i, t))
            for index in spec.indexes
        ),
        ("table.billing", lambda t: _billing(ctx, spec, t)),
        ("table.max-throughput", lambda t: _max_throughput(ctx, spec, t)),
        ("table.sse", lambda t: _sse(ctx, t)),
        ("table.pitr", lambda t: _pitr(ctx, spec)),
        ("table.stream", lambda t: _stream(ctx, spec, t)),
        ("table.ttl", lambda t: _ttl(ctx, spec)),
        ("table.deletion-protection", lambda t: _deletion_protection(ctx, spec, t)),
        ("table.tags", lambda t: _tags(ctx, spec, t)),
        ("table.contributor-insights", lambda t: _contributor_insights(ctx, spec)),
    ]
    for check_id, run in checks:
        ctx.guard(check_id, lambda run=run: run(_require_table(ctx, spec)))  # type: ignore[misc]


def _describe_table(ctx: CheckContext, spec: TableDefinition) -> dict[str, Any] | None:
    ddb = ctx.clients("dynamodb")
    try:
        table = ddb.describe_table(TableName=spec.name)["Table"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    if table.get("TableStatus") != "ACTIVE" and ctx.wait_seconds > 0:
        # A table still not ACTIVE after the wait is reported with the status found below.
        with contextlib.suppress(WaiterError):
            ddb.get_waiter("table_exists").wait(
                TableName=spec.name,
                WaiterConfig={"Delay": 5, "MaxAttempts": max(1, ctx.wait_seconds // 5)},
            )
        table = ddb.describe_table(TableName=spec.name)["Table"]
    return dict(table)


def _require_table(ctx: CheckContext, spec: TableDefinition) -> dict[str, Any]:
    if ctx.table is None:
        raise Skipped(f"table {spec.name} not found")
    return ctx.table


def _schema(entries: Iterable[dict[str, Any]]) -> list[str]:
    return [f"{e['AttributeName']} {e['KeyType']}" for e in entries]


def _key_schema(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    expected = [f"{spec.partition_key} HASH", f"{spec.sort_key} RANGE"]
    ctx.add("table.key-schema", expected, _schema(table.get("KeySchema", [])))


def _attributes(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    expected = sorted(f"{name} S" for name in spec.attributes)
    found = sorted(
        f"{a['AttributeName']} {a['AttributeType']}" for a in table.get("AttributeDefinitions", [])
    )
    ctx.add("table.attributes", expected, found)


def _live_index(table: dict[str, Any], name: str) -> dict[str, Any] | None:
    for index in table.get("GlobalSecondaryIndexes", []):
        if index.get("IndexName") == name:
            return dict(index)
    return None


def _gsi(ctx: CheckContext, index: IndexDefinition, table: dict[str, Any]) -> None:
    check_id = f"table.gsi.{index.name}"
    expected = [f"{index.partition_key} HASH", f"{index.sort_key} RANGE", "ACTIVE"]
    live = _live_index(table, index.name)
    if live is None:
        ctx.fail(check_id, expected, "index not found")
        return
    found = [*_schema(live.get("KeySchema", [])), str(live.get("IndexStatus"))]
    ctx.add(check_id, expected, found)


def _projection(ctx: CheckContext, index: IndexDefinition, table: dict[str, Any]) -> None:
    live = _live_index(table, index.name)
    if live is None:
        raise Skipped(f"index {index.name} not found")
    projection = live.get("Projection", {})
    expected = [index.projection_type, *sorted(index.non_key_attributes)]
    found = [
        str(projection.get("ProjectionType")),
        *sorted(projection.get("NonKeyAttributes", [])),
    ]
    ctx.add(f"table.gsi.{index.name}.projection", expected, found)


def _billing(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    mode = table.get("BillingModeSummary", {}).get("BillingMode")
    if mode is None and "ProvisionedThroughput" in table:
        # DescribeTable omits the summary for tables created as PROVISIONED.
        mode = "PROVISIONED"
    ctx.add("table.billing", spec.billing_mode, mode)


def _max_throughput(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    check_id = "table.max-throughput"
    want = (
        f"read {spec.max_read_request_units}/s, write {spec.max_write_request_units}/s"
        if spec.max_read_request_units and spec.max_write_request_units
        else "no maximum"
    )
    live = table.get("OnDemandThroughput")
    if live is None and ctx.clients.emulator:
        ctx.skip(check_id, f"{NOT_EMULATED}: the endpoint does not report OnDemandThroughput")
        return
    live = live or {}
    read, write = live.get("MaxReadRequestUnits"), live.get("MaxWriteRequestUnits")
    # AWS reports -1 for "no maximum".
    found = (
        f"read {read}/s, write {write}/s"
        if read not in (None, -1) and write not in (None, -1)
        else "no maximum"
    )
    ctx.add(check_id, want, found)


def _sse(ctx: CheckContext, table: dict[str, Any]) -> None:
    alias = ctx.stack.keys[KeyPurpose.TABLE].alias
    key_arn = ctx.key_arns.get(KeyPurpose.TABLE)
    if key_arn is None:
        raise Skipped(f"key {alias} not found")
    sse = table.get("SSEDescription") or {}
    found_arn = sse.get("KMSMasterKeyArn")
    found = f"{sse.get('Status', 'DISABLED')} {sse.get('SSEType', 'AWS_OWNED')} {found_arn}"
    ctx.add(
        "table.sse",
        f"ENABLED KMS {alias} ({key_arn})",
        found,
        ok=sse.get("Status") == "ENABLED" and sse.get("SSEType") == "KMS" and found_arn == key_arn,
    )


def _pitr(ctx: CheckContext, spec: TableDefinition) -> None:
    described = ctx.clients("dynamodb").describe_continuous_backups(TableName=spec.name)
    pitr = described["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
    status = pitr.get("PointInTimeRecoveryStatus", "DISABLED")
    if spec.point_in_time_recovery:
        expected = f"ENABLED, {spec.recovery_period_days} days"
        found = f"{status}, {pitr.get('RecoveryPeriodInDays', 35)} days"
    else:
        expected, found = "DISABLED", status
    ctx.add("table.pitr", expected, found)


def _stream(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    stream = table.get("StreamSpecification") or {}
    found = stream.get("StreamViewType") if stream.get("StreamEnabled") else "disabled"
    ctx.add("table.stream", spec.stream_view_type, found)


def _ttl(ctx: CheckContext, spec: TableDefinition) -> None:
    ttl = ctx.clients("dynamodb").describe_time_to_live(TableName=spec.name)
    ttl = ttl["TimeToLiveDescription"]
    status = ttl.get("TimeToLiveStatus")
    found = f"{status} on {ttl.get('AttributeName')}" if ttl.get("AttributeName") else status
    ctx.add(
        "table.ttl",
        f"ENABLED on {spec.ttl_attribute}",
        found,
        ok=status in ("ENABLED", "ENABLING") and ttl.get("AttributeName") == spec.ttl_attribute,
    )


def _deletion_protection(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    found = bool(table.get("DeletionProtectionEnabled", False))
    ctx.add("table.deletion-protection", spec.deletion_protection, found)


def _tags(ctx: CheckContext, spec: TableDefinition, table: dict[str, Any]) -> None:
    live = table_tags(ctx.clients("dynamodb"), str(table["TableArn"]))
    wanted = spec.tags
    wrong = {k: live.get(k, "(missing)") for k, v in wanted.items() if live.get(k) != v}
    if wrong:
        ctx.fail("table.tags", {k: wanted[k] for k in wrong}, wrong)
    else:
        ctx.add("table.tags", wanted, {k: live[k] for k in wanted})


def _contributor_insights(ctx: CheckContext, spec: TableDefinition) -> None:
    status = ctx.clients("dynamodb").describe_contributor_insights(TableName=spec.name)
    found = status.get("ContributorInsightsStatus", "DISABLED")
    ctx.add(
        "table.contributor-insights",
        "ENABLED" if spec.contributor_insights else "DISABLED",
        "ENABLED" if found in ("ENABLED", "ENABLING") else found,
    )
