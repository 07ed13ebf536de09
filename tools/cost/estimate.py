"""Price every resource of a plan for a month, from the price snapshot and the usage model.

One pricer per resource type. A type with no pricer is an error naming it, so a new resource type
cannot reach a report unpriced (``tests/tools/test_cost.py`` plans both stacks and fails first).
Fixed prices (a key, an alarm metric, a dashboard, a Contributor Insights rule) come straight from
the snapshot; usage-driven ones name the usage figures that drive them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.capacity.workload import TABLE, Workload, sample_workload
from tools.cost.pricing import PriceSnapshot, RegionPrices
from tools.cost.usage import UsageModel
from tools.gate.plan_input import Plan, PlanResource
from tools.review_errors import ReviewError

HOURS_PER_MONTH = 730
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class Part:
    """One priced quantity of a resource."""

    label: str
    usd: float
    #: The usage-model keys that drive it; empty for a fixed price.
    drivers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Line:
    """A resource and its monthly price."""

    urn: str
    type: str
    name: str
    region: str
    parts: tuple[Part, ...]
    #: Why a resource costs nothing, when it does not.
    free_reason: str = ""

    @property
    def monthly_usd(self) -> float:
        return sum(part.usd for part in self.parts)

    @property
    def drivers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d for part in self.parts for d in part.drivers))

    @property
    def fixed(self) -> bool:
        return not self.drivers


@dataclass(frozen=True)
class Estimate:
    stack: str
    lines: tuple[Line, ...]
    snapshot_date: str
    snapshot_source: str
    usage_source: str
    #: The monthly limits of the stack's AWS Budgets budgets, by resource name.
    budgets: Mapping[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(line.monthly_usd for line in self.lines)


@dataclass(frozen=True)
class _Context:
    plan: Plan
    usage: UsageModel
    prices: PriceSnapshot
    workload: Workload
    default_region: str

    def region_of(self, resource: PlanResource) -> str:
        return str(resource.inputs.get("region") or self.default_region)

    def at(self, resource: PlanResource) -> RegionPrices:
        return self.prices.region(self.region_of(resource))


Pricer = Callable[[PlanResource, _Context], tuple[Part, ...]]

#: AWS bills hourly resources for 730 hours a month.
HOURS_PER_MONTH = 730

#: Types that AWS does not bill, and why (shown in the report).
FREE: dict[str, str] = {
    "aws:kms/alias:Alias": "aliases are free",
    "aws:iam/role:Role": "IAM is free",
    "aws:iam/policy:Policy": "IAM is free",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM is free",
    "aws:sns/topicPolicy:TopicPolicy": "a topic policy is free",
    "aws:sqs/queuePolicy:QueuePolicy": "a queue policy is free",
    "aws:lambda/layerVersion:LayerVersion": "layers count against the code storage quota, "
    "not billed",
    "aws:lambda/eventSourceMapping:EventSourceMapping": "a stream mapping is free; Lambda "
    "triggers read the stream free and invocations are priced on the function",
    "aws:sns/topicSubscription:TopicSubscription": "deliveries are priced on the topic",
    "aws:backup/regionSettings:RegionSettings": "a setting",
    "aws:backup/selection:Selection": "storage is priced on the vaults",
    "aws:backup/vaultLockConfiguration:VaultLockConfiguration": "a setting",
    "aws:backup/vaultNotifications:VaultNotifications": "a setting; deliveries are priced on the "
    "topic",
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": "a schedule; its restore tests are priced "
    "on its selections",
    "aws:backup/reportPlan:ReportPlan": "Audit Manager bills control evaluations (priced on the "
    "framework), not reports; report objects are priced on the audit bucket",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "a setting",
    "aws:elasticache/user:User": "users are free; the nodes are priced",
    "aws:elasticache/userGroup:UserGroup": "a setting",
    "aws:elasticache/parameterGroup:ParameterGroup": "a setting",
    "aws:elasticache/subnetGroup:SubnetGroup": "a setting",
    "aws:secretsmanager/secretVersion:SecretVersion": "versions are priced on the secret",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "a setting",
    "aws:s3/bucketPolicy:BucketPolicy": "a setting",
    "aws:s3/bucketVersioning:BucketVersioning": "a setting; versions are priced on the bucket",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": "a setting; locked "
    "objects are priced on the bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "a setting; KMS requests are priced on the key"
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "a setting; storage classes and transitions are priced on the bucket"
    ),
    "aws:s3/bucketLogging:BucketLogging": (
        "a setting; S3 does not bill log deliveries, their storage is priced on the log bucket"
    ),
    "aws:rds/parameterGroup:ParameterGroup": "a setting",
    "aws:rds/subnetGroup:SubnetGroup": "a setting",
    "aws:ec2/vpc:Vpc": "a VPC is free",
    "aws:ec2/subnet:Subnet": "subnets are free",
    "aws:ec2/routeTable:RouteTable": "route tables are free",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "a setting",
    "aws:ec2/securityGroup:SecurityGroup": "security groups are free",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "a setting",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "a setting",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "a setting",
}


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _count(value: float) -> str:
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.3g}"


# ---- DynamoDB ----


def projected_kb(projection: str, usage: UsageModel) -> float:
    """Size of one index item under a projection."""
    if projection == "KEYS_ONLY":
        return min(usage.storage.keys_only_item_kb, usage.requests.item_kb)
    if projection == "INCLUDE":
        return min(usage.storage.include_item_kb, usage.requests.item_kb)
    return usage.requests.item_kb


def index_projections(table: PlanResource) -> dict[str, str]:
    """GSI name to projection type, from the planned table."""
    return {
        str(gsi.get("name")): str(gsi.get("projectionType", "ALL"))
        for gsi in table.inputs.get("globalSecondaryIndexes") or []
    }


def monthly_write_units(usage: UsageModel, workload: Workload, index: str, kb: float) -> float:
    """Write units a month on ``index`` when its items are ``kb`` each."""
    return sum(
        usage.requests.clinics * writes * workload.items_per_entity(kind, index) * math.ceil(kb)
        for kind, writes in usage.requests.writes_per_clinic_month.items()
    )


def monthly_read_units(usage: UsageModel, index: str) -> float:
    """Read units a month on ``index`` (reads of up to 4 KB; eventual ones count half)."""
    per_read = 1 - 0.5 * usage.requests.eventually_consistent_share
    return usage.requests.clinics * usage.requests.reads_per_clinic_month.get(index, 0) * per_read


def _table(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    mode = resource.inputs.get("billingMode", "PROVISIONED")
    if mode != "PAY_PER_REQUEST":
        raise ReviewError(
            f"{resource.name}: billing mode {mode} is not priced (the snapshot holds on-demand "
            "prices only)"
        )
    p = ctx.at(resource).dynamodb
    usage = ctx.usage
    projections = index_projections(resource)
    wru = monthly_write_units(usage, ctx.workload, TABLE, usage.requests.item_kb)
    gsi_wru = sum(
        monthly_write_units(usage, ctx.workload, name, projected_kb(kind, usage))
        for name, kind in projections.items()
    )
    rru = sum(monthly_read_units(usage, index) for index in (TABLE, *projections))
    gsi_gb = sum(
        usage.storage.table_gb
        * ctx.workload.item_share(name)
        * projected_kb(kind, usage)
        / usage.requests.item_kb
        for name, kind in projections.items()
    )
    write_drivers = ("requests.clinics", "requests.writesPerClinicMonth", "requests.itemKb")
    parts = [
        Part(
            f"{_count(wru)} table write units",
            wru / 1e6 * p.write_request_units_per_million,
            write_drivers,
        ),
        Part(
            f"{_count(gsi_wru)} GSI write units ({len(projections)} indexes)",
            gsi_wru / 1e6 * p.write_request_units_per_million,
            (*write_drivers, "storage.keysOnlyItemKb", "storage.includeItemKb"),
        ),
        Part(
            f"{_count(rru)} read units",
            rru / 1e6 * p.read_request_units_per_million,
            (
                "requests.clinics",
                "requests.readsPerClinicMonth",
                "requests.eventuallyConsistentShare",
            ),
        ),
        Part(
            f"{usage.storage.table_gb + gsi_gb:.3g} GB stored (table {usage.storage.table_gb:.3g}"
            f" + indexes {gsi_gb:.3g})",
            (usage.storage.table_gb + gsi_gb) * p.storage_gb_month,
            ("storage.tableGb",),
        ),
    ]
    if (resource.inputs.get("pointInTimeRecovery") or {}).get("enabled"):
        parts.append(
            Part(
                f"PITR on {usage.storage.table_gb:.3g} GB",
                usage.storage.table_gb * p.pitr_gb_month,
                ("storage.tableGb",),
            )
        )
    if resource.inputs.get("streamEnabled"):
        units = usage.streams.read_request_units_per_month
        parts.append(
            Part(
                f"{_count(units)} stream read units (Lambda triggers read free)",
                units / 1e5 * p.stream_read_request_units_per100k,
                ("streams.readRequestUnitsPerMonth",),
            )
        )
    out = usage.transfer.internet_out_gb_per_month
    if out:
        parts.append(
            Part(
                f"{out:.3g} GB out to the internet",
                out * ctx.at(resource).transfer.internet_out_gb,
                ("transfer.internetOutGbPerMonth",),
            )
        )
    return tuple(parts)


def _contributor_insights(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).cloudwatch
    # Each enabled table or index gets a most-accessed and a most-throttled rule for its partition
    # key and for its partition+sort key; THROTTLED_KEYS mode keeps only the throttled two.
    accessed = resource.inputs.get("mode", "ACCESSED_AND_THROTTLED_KEYS") != "THROTTLED_KEYS"
    rules = 4 if accessed else 2
    parts = [Part(f"{rules} rules", rules * p.contributor_insights_rule_month)]
    if accessed:
        index = str(resource.inputs.get("indexName") or TABLE)
        table = next(
            (
                r
                for r in ctx.plan.resources
                if r.type == "aws:dynamodb/table:Table"
                and r.inputs.get("name") == resource.inputs.get("tableName")
            ),
            None,
        )
        kind = index_projections(table).get(index, "ALL") if table is not None else "ALL"
        kb = ctx.usage.requests.item_kb if index == TABLE else projected_kb(kind, ctx.usage)
        events = monthly_write_units(
            ctx.usage, ctx.workload, index, kb
        ) + ctx.usage.requests.clinics * (ctx.usage.requests.reads_per_clinic_month.get(index, 0))
        parts.append(
            Part(
                f"{_count(events)} events on {index}",
                events / 1e6 * p.contributor_insights_events_per_million,
                (
                    "requests.clinics",
                    "requests.writesPerClinicMonth",
                    "requests.readsPerClinicMonth",
                ),
            )
        )
    return tuple(parts)


# ---- KMS ----


def _kms_key(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).kms
    parts = [Part("key-month", p.key_month)]
    period = resource.inputs.get("rotationPeriodInDays") or 365
    if resource.inputs.get("enableKeyRotation"):
        rotations = min(int(ctx.usage.kms.key_age_days // float(period)), p.max_rotation_adds)
        parts.append(
            Part(
                f"{rotations} rotation(s) so far (every {period:g} days)",
                rotations * p.rotation_add_month,
                ("kms.keyAgeDays",),
            )
        )
    requests = ctx.usage.kms.requests_per_key_month
    parts.append(
        Part(
            f"{_count(requests)} requests",
            requests / 1e4 * p.requests_per10k,
            ("kms.requestsPerKeyMonth",),
        )
    )
    return tuple(parts)


# ---- CloudWatch, SNS, Budgets ----


def alarm_metrics(resource: PlanResource) -> int:
    """Metrics an alarm evaluates: one, or each metric of its metric math (expressions are free)."""
    queries = resource.inputs.get("metricQueries") or []
    return sum(1 for q in queries if q.get("metric")) or 1


def _alarm(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    metrics = alarm_metrics(resource)
    label = "1 alarm metric" if metrics == 1 else f"{metrics} alarm metrics (metric math)"
    return (Part(label, metrics * ctx.at(resource).cloudwatch.alarm_metric_month),)


def _dashboard(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    return (Part("dashboard-month", ctx.at(resource).cloudwatch.dashboard_month),)


def _log_group(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    groups = sum(1 for r in ctx.plan.resources if r.type == resource.type)
    gb = ctx.usage.logs.ingested_gb_per_month / groups
    return (
        Part(
            f"{gb:.3g} GB ingested",
            gb * ctx.at(resource).cloudwatch.logs_ingested_gb,
            ("logs.ingestedGbPerMonth",),
        ),
    )


# ---- RDS ----


def _db_instance(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    """Instance hours and gp3 storage (twice with a Multi-AZ standby), automated backups beyond
    the free 100 % of storage, Performance Insights beyond its free 7 days."""
    p = ctx.at(resource).rds
    cls = str(resource.inputs.get("instanceClass"))
    if cls not in p.instance_hour:
        raise ReviewError(
            f"pricing/aws-prices.yaml: no RDS price for instance class {cls!r} "
            f"(it has {', '.join(sorted(p.instance_hour))}); add it from the RDS pricing page"
        )
    copies = 2 if resource.inputs.get("multiAz") else 1
    where = "Multi-AZ" if copies == 2 else "single-AZ"
    gb = float(resource.inputs.get("allocatedStorage") or 0)
    backup = ctx.usage.audit_database.backup_gb
    beyond = max(0.0, backup - gb)
    parts = [
        Part(
            f"{cls} {where}, {HOURS_PER_MONTH} h", copies * HOURS_PER_MONTH * p.instance_hour[cls]
        ),
        Part(f"{gb:g} GB gp3 {where}", copies * gb * p.gp3_gb_month),
        Part(
            f"{backup:g} GB automated backups, {beyond:g} GB beyond the free {gb:g} GB",
            beyond * p.backup_gb_month,
            ("auditDatabase.backupGb",),
        ),
    ]
    retention = int(resource.inputs.get("performanceInsightsRetentionPeriod") or 7)
    if resource.inputs.get("performanceInsightsEnabled") and retention > 7:
        vcpus = copies * p.vcpus.get(cls, 2)
        parts.append(
            Part(
                f"Performance Insights {retention} days, {vcpus} vCPU",
                vcpus * p.performance_insights_vcpu_month,
            )
        )
    else:
        parts.append(Part("Performance Insights 7 days: free", 0.0))
    return tuple(parts)


# ---- VPC ----


def _vpc_endpoint(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    """Interface endpoints bill per AZ-hour and per GB; gateway endpoints (DynamoDB, S3) nothing."""
    if resource.inputs.get("vpcEndpointType") != "Interface":
        return (Part("gateway endpoint: no charge", 0.0),)
    p = ctx.at(resource).vpc
    zones = len(resource.inputs.get("subnetIds") or []) or 1
    endpoints = sum(
        1
        for r in ctx.plan.resources
        if r.type == resource.type and r.inputs.get("vpcEndpointType") == "Interface"
    )
    gb = ctx.usage.network.endpoint_gb_per_month / endpoints
    return (
        Part(f"{zones} AZ x 730 h", zones * HOURS_PER_MONTH * p.interface_endpoint_az_hour),
        Part(
            f"{gb:.3g} GB processed",
            gb * p.interface_endpoint_gb,
            ("network.endpointGbPerMonth",),
        ),
    )


def _flow_log(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    gb = ctx.usage.network.flow_log_gb_per_month / sum(
        1 for r in ctx.plan.resources if r.type == resource.type
    )
    return (
        Part(
            f"{gb:.3g} GB flow records (vended logs)",
            gb * ctx.at(resource).vpc.flow_logs_ingested_gb,
            ("network.flowLogGbPerMonth",),
        ),
    )


def _topic(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).sns
    n = ctx.usage.notifications
    return (
        Part(
            f"{_count(n.publishes_per_month)} publishes",
            n.publishes_per_month / 1e6 * p.publishes_per_million,
            ("notifications.publishesPerMonth",),
        ),
        Part(
            f"{_count(n.email_deliveries_per_month)} email deliveries",
            n.email_deliveries_per_month / 1e5 * p.email_deliveries_per100k,
            ("notifications.emailDeliveriesPerMonth",),
        ),
    )


def _budget(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    return (Part("budget without actions", ctx.at(resource).budgets.budget_month),)


# ---- AWS Backup ----


def runs_per_day(schedule: str) -> float:
    """Backup runs a day of an AWS cron expression (minutes hours day-of-month month weekday year):
    a listed or ranged set of hours and weekdays is counted; anything else counts as daily."""
    match = re.fullmatch(r"cron\((.+)\)", schedule.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        return 1.0
    _, hours, _, _, weekdays, _ = fields

    def count(text: str, whole: int) -> int:
        if text in ("*", "?"):
            return whole
        total = 0
        for item in text.split(","):
            low, _, high = item.partition("-")
            if low.isdigit() and high.isdigit():
                total += int(high) - int(low) + 1
            elif "-" in item:
                total += 5 if item.upper() == "MON-FRI" else 1
            else:
                total += 1
        return total

    return count(hours, 24) * count(weekdays, 7) / 7


def _rules(ctx: _Context) -> list[tuple[PlanResource, dict[str, Any]]]:
    return [
        (plan, rule)
        for plan in ctx.plan.resources
        if plan.type == "aws:backup/plan:Plan"
        for rule in plan.inputs.get("rules") or []
    ]


def _retained_gb(
    lifecycle: Mapping[str, Any] | None, per_day: float, gb: float
) -> tuple[float, float]:
    """(warm GB, cold GB) held at steady state by points made ``per_day`` and kept per
    ``lifecycle`` (deleteAfter days; moveToColdStorageAfterDays days warm first)."""
    lifecycle = lifecycle or {}
    keep = float(lifecycle.get("deleteAfter") or 35)
    cold_after = lifecycle.get("moveToColdStorageAfterDays")
    warm_days = min(keep, float(cold_after)) if cold_after is not None else keep
    return warm_days * per_day * gb, (keep - warm_days) * per_day * gb


def _vault(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).backup
    gb = ctx.usage.storage.table_gb
    name = resource.inputs.get("name")
    warm = cold = 0.0
    for _, rule in _rules(ctx):
        per_day = runs_per_day(str(rule.get("schedule", "")))
        if rule.get("targetVaultName") == name:
            w, c = _retained_gb(rule.get("lifecycle"), per_day, gb)
            warm, cold = warm + w, cold + c
        for copy in rule.get("copyActions") or []:
            if str(copy.get("destinationVaultArn", "")).rsplit(":", 1)[-1] == name:
                w, c = _retained_gb(copy.get("lifecycle"), per_day, gb)
                warm, cold = warm + w, cold + c
    parts = [
        Part(
            f"{warm:.3g} GB warm recovery points",
            warm * p.dynamodb_warm_gb_month,
            ("storage.tableGb",),
        )
    ]
    if cold:
        parts.append(
            Part(f"{cold:.3g} GB cold", cold * p.dynamodb_cold_gb_month, ("storage.tableGb",))
        )
    return tuple(parts)


def _backup_plan(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    gb = ctx.usage.storage.table_gb
    copied = sum(
        runs_per_day(str(rule.get("schedule", "")))
        * DAYS_PER_MONTH
        * gb
        * len(rule.get("copyActions") or [])
        for rule in resource.inputs.get("rules") or []
    )
    if not copied:
        return (Part("no cross-region copy", 0.0),)
    return (
        Part(
            f"{copied:.3g} GB copied to another region",
            copied * ctx.at(resource).transfer.inter_region_gb,
            ("storage.tableGb",),
        ),
    )


def _restore_testing_selection(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    """Each scheduled run restores every protected resource of the selection: a restore test job
    each, the restored GB, and the restored table's storage until the validation window ends."""
    p = ctx.at(resource)
    plan = next(
        (
            r
            for r in ctx.plan.resources
            if r.type == "aws:backup/restoreTestingPlan:RestoreTestingPlan"
            and r.inputs.get("name") == resource.inputs.get("restoreTestingPlanName")
        ),
        None,
    )
    schedule = str((plan.inputs if plan is not None else {}).get("scheduleExpression", ""))
    tests = (
        runs_per_day(schedule)
        * DAYS_PER_MONTH
        * len(resource.inputs.get("protectedResourceArns") or [])
    )
    gb = tests * ctx.usage.storage.table_gb
    hours = float(resource.inputs.get("validationWindowHours") or 0)
    return (
        Part(f"{tests:.3g} restore test jobs", tests * p.backup.restore_test_job),
        Part(
            f"{gb:.3g} GB restored",
            gb * p.backup.dynamodb_restore_gb,
            ("storage.tableGb",),
        ),
        Part(
            f"restored copies kept {hours:g} h each",
            gb * hours / HOURS_PER_MONTH * p.dynamodb.storage_gb_month,
            ("storage.tableGb",),
        ),
    )


def control_evaluations(resource: PlanResource, usage: UsageModel) -> float:
    """Control evaluations a month of a framework: its controls x the resources each evaluates x
    evaluations a month."""
    controls = len(resource.inputs.get("controls") or [])
    audit = usage.backup_audit
    return controls * audit.resources_per_control * audit.evaluations_per_month


def _framework(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    evaluations = control_evaluations(resource, ctx.usage)
    controls = len(resource.inputs.get("controls") or [])
    return (
        Part(
            f"{_count(evaluations)} control evaluations ({controls} controls)",
            evaluations / 1e3 * ctx.at(resource).backup.control_evaluations_per1k,
            ("backupAudit.resourcesPerControl", "backupAudit.evaluationsPerMonth"),
        ),
    )


# ---- S3 ----


def _for_bucket(ctx: _Context, resource: PlanResource, type_: str, prop: str) -> list[PlanResource]:
    """Resources of ``type_`` whose ``prop`` names this bucket."""
    name = resource.inputs.get("bucket")
    return [r for r in ctx.plan.resources if r.type == type_ and r.inputs.get(prop) == name]


def _trail_events(trail: PlanResource, ctx: _Context) -> tuple[float, float, float]:
    """(table data events, stream data events, management events) a month of one trail."""
    usage = ctx.usage
    types: set[str] = set()
    management = False
    for selector in trail.inputs.get("advancedEventSelectors") or []:
        by_field = {
            f.get("field"): f.get("equals") or [] for f in selector.get("fieldSelectors", [])
        }
        if "Management" in by_field.get("eventCategory", []):
            management = True
        if "Data" in by_field.get("eventCategory", []):
            types.update(by_field.get("resources.type", []))
    calls = usage.requests.clinics * (
        sum(usage.requests.reads_per_clinic_month.values())
        + sum(usage.requests.writes_per_clinic_month.values())
    )
    table = calls if "AWS::DynamoDB::Table" in types else 0.0
    stream = usage.cloudtrail.stream_requests_per_month if "AWS::DynamoDB::Stream" in types else 0.0
    return table, stream, usage.cloudtrail.management_events_per_month if management else 0.0


def _trail(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).cloudtrail
    table, stream, management = _trail_events(resource, ctx)
    request_drivers = ("requests.clinics", "requests.readsPerClinicMonth")
    parts = [
        Part(
            f"{_count(table)} table data events",
            table / 1e5 * p.data_events_per100k,
            (*request_drivers, "requests.writesPerClinicMonth"),
        )
    ]
    if stream:
        parts.append(
            Part(
                f"{_count(stream)} stream data events",
                stream / 1e5 * p.data_events_per100k,
                ("cloudtrail.streamRequestsPerMonth",),
            )
        )
    copy = ctx.usage.cloudtrail.organization_trail_copy
    parts.append(
        Part(
            f"{_count(management)} management events"
            + (
                " (a second copy: an organization trail has the first)"
                if copy
                else " (first copy free)"
            ),
            management / 1e5 * p.management_events_copy_per100k if copy else 0.0,
            ("cloudtrail.managementEventsPerMonth", "cloudtrail.organizationTrailCopy"),
        )
    )
    return tuple(parts)


def _tiers(lifecycle: PlanResource | None) -> tuple[list[tuple[str, float]], float | None]:
    """[(storage class, days held)] along the bucket's first enabled lifecycle rule, and the
    expiration (None: kept forever)."""
    rules = (
        [r for r in (lifecycle.inputs.get("rules") or []) if r.get("status") == "Enabled"]
        if lifecycle
        else []
    )
    if not rules:
        return [("STANDARD", 0.0)], None
    rule = rules[0]
    expires = (rule.get("expiration") or {}).get("days")
    steps = sorted(
        (float(t["days"]), str(t["storageClass"])) for t in rule.get("transitions") or []
    )
    start, current, held = 0.0, "STANDARD", []
    for day, storage_class in steps:
        held.append((current, day - start))
        start, current = day, storage_class
    end = float(expires) if expires is not None else None
    held.append((current, (end - start) if end is not None else 0.0))
    return held, end


def _bucket(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).s3
    b = ctx.usage.audit_bucket
    if _for_bucket(ctx, resource, "aws:s3/bucketLogging:BucketLogging", "targetBucket"):
        return (
            Part(
                f"{b.access_log_stored_gb:.3g} GB of server access logs (Standard)",
                b.access_log_stored_gb * p.standard_gb_month,
                ("auditBucket.accessLogStoredGb",),
            ),
        )
    trails = _for_bucket(ctx, resource, "aws:cloudtrail/trail:Trail", "s3BucketName")
    trail_gb_month = sum(
        sum(_trail_events(t, ctx)) * ctx.usage.cloudtrail.event_kb / 1e6 for t in trails
    )
    trail_files = ctx.usage.cloudtrail.log_files_per_month if trails else 0.0
    lifecycle = next(
        iter(
            _for_bucket(
                ctx,
                resource,
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                "bucket",
            )
        ),
        None,
    )
    held, expires = _tiers(lifecycle)
    trail_drivers = (
        "cloudtrail.eventKb",
        "cloudtrail.managementEventsPerMonth",
        "requests.clinics",
        "requests.readsPerClinicMonth",
        "requests.writesPerClinicMonth",
    )
    parts: list[Part] = []
    for storage_class, days in held:
        price = (
            p.standard_gb_month
            if storage_class == "STANDARD"
            else p.storage_class_gb_month[storage_class]
        )
        # Reports: the plateau spread by the share of the retention each class holds them.
        share = days / expires if expires else 1.0
        reports_gb = b.stored_gb * share
        # Trail logs: each month's files spend `days` in this class.
        trail_gb = trail_gb_month * days / DAYS_PER_MONTH if expires else 0.0
        parts.append(
            Part(
                f"{reports_gb + trail_gb:.3g} GB stored ({storage_class}, {days:g} days)",
                (reports_gb + trail_gb) * price,
                ("auditBucket.storedGb", *(trail_drivers if trail_gb else ())),
            )
        )
    objects = b.put_requests_per_month + trail_files
    for storage_class, _ in held[1:]:
        parts.append(
            Part(
                f"{_count(objects)} lifecycle transitions to {storage_class}",
                objects / 1e3 * p.transitions_per1k[storage_class],
                ("auditBucket.putRequestsPerMonth", "cloudtrail.logFilesPerMonth"),
            )
        )
    parts += [
        Part(
            f"{_count(objects)} PUT requests",
            objects / 1e3 * p.put_requests_per1k,
            ("auditBucket.putRequestsPerMonth", "cloudtrail.logFilesPerMonth"),
        ),
        Part(
            f"{_count(b.get_requests_per_month)} GET requests",
            b.get_requests_per_month / 1e3 * p.get_requests_per1k,
            ("auditBucket.getRequestsPerMonth",),
        ),
    ]
    return tuple(parts)


# ---- ElastiCache, Secrets Manager ----


def _replication_group(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).elasticache
    node_type = str(resource.inputs.get("nodeType"))
    if node_type not in p.valkey_node_hour:
        raise ReviewError(
            f"pricing/aws-prices.yaml: no Valkey node-hour price for {node_type} "
            f"(it has {', '.join(sorted(p.valkey_node_hour))}); add it"
        )
    nodes = int(resource.inputs.get("numCacheClusters") or 1)
    parts = [
        Part(
            f"{nodes} x {node_type} node",
            nodes * p.valkey_node_hour[node_type] * HOURS_PER_MONTH,
        )
    ]
    retention = int(resource.inputs.get("snapshotRetentionLimit") or 0)
    if retention > 1:
        raise ReviewError(
            f"{resource.name}: snapshots kept {retention} days; the estimate prices only the one "
            "free snapshot per cluster (retention 1)"
        )
    if retention:
        parts.append(Part("1 daily snapshot (free: one per cluster)", 0.0))
    return tuple(parts)


def _secret(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    # API calls: the app reads a password at start-up, a few calls a month (not priced).
    return (Part("secret-month", ctx.at(resource).secretsmanager.secret_month),)


# ---- Lambda, SQS (the stream consumer) ----


def stream_records_per_month(usage: UsageModel, workload: Workload) -> float:
    """Records of the table's stream a month: one per item written to the base table."""
    return sum(
        usage.requests.clinics * writes * workload.items_per_entity(kind, TABLE)
        for kind, writes in usage.requests.writes_per_clinic_month.items()
    )


def _function(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    p = ctx.at(resource).lambda_
    consumer = ctx.usage.stream_consumer
    invocations = (
        stream_records_per_month(ctx.usage, ctx.workload) / consumer.records_per_invocation
    )
    memory_gb = float(resource.inputs.get("memorySize") or 128) / 1024
    arm = "arm64" in (resource.inputs.get("architectures") or ["x86_64"])
    gb_seconds = invocations * consumer.average_duration_ms / 1000 * memory_gb
    drivers = (
        "requests.clinics",
        "requests.writesPerClinicMonth",
        "streamConsumer.recordsPerInvocation",
    )
    return (
        Part(
            f"{_count(gb_seconds)} GB-seconds ({'arm64' if arm else 'x86_64'}, "
            f"{memory_gb * 1024:g} MB)",
            gb_seconds * (p.arm_gb_second if arm else p.x86_gb_second),
            (*drivers, "streamConsumer.averageDurationMs"),
        ),
        Part(
            f"{_count(invocations)} invocations",
            invocations / 1e6 * p.requests_per_million,
            drivers,
        ),
    )


def _queue(resource: PlanResource, ctx: _Context) -> tuple[Part, ...]:
    requests = ctx.usage.stream_consumer.failure_queue_requests_per_month
    return (
        Part(
            f"{_count(requests)} requests",
            requests / 1e6 * ctx.at(resource).sqs.requests_per_million,
            ("streamConsumer.failureQueueRequestsPerMonth",),
        ),
    )


PRICERS: dict[str, Pricer] = {
    "aws:dynamodb/table:Table": _table,
    "aws:dynamodb/contributorInsights:ContributorInsights": _contributor_insights,
    "aws:kms/key:Key": _kms_key,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:sns/topic:Topic": _topic,
    "aws:budgets/budget:Budget": _budget,
    "aws:backup/vault:Vault": _vault,
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/restoreTestingSelection:RestoreTestingSelection": _restore_testing_selection,
    "aws:backup/framework:Framework": _framework,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:cloudtrail/trail:Trail": _trail,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:lambda/function:Function": _function,
    "aws:sqs/queue:Queue": _queue,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:rds/instance:Instance": _db_instance,
}


def unpriced_types(plan: Plan) -> list[str]:
    """Custom resource types of ``plan`` that have neither a pricer nor a reason to be free."""
    return sorted(
        {
            r.type
            for r in plan.resources
            if r.custom and r.type not in PRICERS and r.type not in FREE
        }
    )


def budget_limits(plan: Plan) -> dict[str, float]:
    """Monthly USD limits of the plan's cost budgets."""
    limits: dict[str, float] = {}
    for r in plan.resources:
        if r.type == "aws:budgets/budget:Budget" and r.inputs.get("budgetType", "COST") == "COST":
            amount = r.inputs.get("limitAmount")
            if amount is not None and r.inputs.get("timeUnit", "MONTHLY") == "MONTHLY":
                limits[r.name] = float(amount)
    return limits


def estimate(
    plan: Plan,
    usage: UsageModel,
    prices: PriceSnapshot,
    *,
    region: str,
    usage_source: str,
    workload: Workload | None = None,
) -> Estimate:
    """Every custom resource of ``plan`` with its monthly price."""
    missing = unpriced_types(plan)
    if missing:
        raise ReviewError(
            f"no price for resource type {', '.join(missing)}: add a pricer (or a reason it is "
            "free) in tools/cost/estimate.py"
        )
    ctx = _Context(plan, usage, prices, workload or sample_workload(), region)
    lines = []
    for resource in plan.resources:
        if not resource.custom:
            continue
        if resource.type in FREE:
            parts: tuple[Part, ...] = ()
            reason = FREE[resource.type]
        else:
            parts = PRICERS[resource.type](resource, ctx)
            reason = (
                ""
                if any(part.usd for part in parts)
                else "; ".join(part.label for part in parts) or "nothing billed"
            )
        lines.append(
            Line(
                urn=resource.urn,
                type=resource.type,
                name=resource.name,
                region=ctx.region_of(resource),
                parts=parts,
                free_reason=reason,
            )
        )
    return Estimate(
        stack=plan.stack,
        lines=tuple(lines),
        snapshot_date=prices.snapshot.date,
        snapshot_source=prices.snapshot.source,
        usage_source=usage_source,
        budgets=budget_limits(plan),
    )
