"""``make cost``: fixed prices are the snapshot's, one change moves the total by exactly its price,
no planned type goes unpriced, the usage model is strict, bad input is one line and exit 2."""

from __future__ import annotations

import json
import math

import pytest

from stackspec.stack_file import PROJECT_DIR
from tests.tools.review_support import add_copy, edited, resource
from tools.capacity.workload import sample_workload
from tools.cost.__main__ import main, stack_estimate
from tools.cost.estimate import (
    FREE,
    PRICERS,
    Estimate,
    estimate,
    stream_records_per_month,
    unpriced_types,
)
from tools.cost.pricing import default_snapshot, load_snapshot
from tools.cost.readme import main as readme_main
from tools.cost.report import RENDERERS, to_json
from tools.cost.usage import UsageModel, load_usage, parse_usage, usage_path
from tools.review.sections import budget_warnings
from tools.review_errors import ReviewError

PRICES = default_snapshot().region("us-east-1")
DR_PRICES = default_snapshot().region("us-west-2")


def priced(plan, usage=None) -> Estimate:
    return estimate(
        plan,
        usage or UsageModel(),
        default_snapshot(),
        region="us-east-1",
        usage_source="test",
    )


def line(result: Estimate, name: str):
    (found,) = [x for x in result.lines if x.name == name]
    return found


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_planned_type_is_priced_or_known_free(stack, request) -> None:
    plan = request.getfixturevalue(stack)
    assert unpriced_types(plan) == []
    assert not set(PRICERS) & set(FREE)


def test_an_unpriced_resource_type_is_refused_by_name(dev_doc) -> None:
    def add_queue(doc):
        add_copy(doc, "cost-budget", "jobs-queue")["type"] = "aws:kinesis/stream:Stream"
        resource(doc, "jobs-queue")["urn"] = resource(doc, "jobs-queue")["urn"].replace(
            "aws:budgets/budget:Budget", "aws:kinesis/stream:Stream"
        )

    plan = edited(dev_doc, add_queue)
    assert "aws:kinesis/stream:Stream" in unpriced_types(plan)
    with pytest.raises(ReviewError, match=r"no price for resource type .*aws:kinesis/stream"):
        priced(plan)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_fixed_price_is_the_snapshots(stack, request) -> None:
    plan = request.getfixturevalue(stack)
    result = priced(plan)
    by_urn = {r.urn: r for r in plan.resources}
    checked = set()
    for item in result.lines:
        r = by_urn[item.urn]
        prices = DR_PRICES if r.inputs.get("region") == "us-west-2" else PRICES
        parts = {p.label: p.usd for p in item.parts}
        if r.type == "aws:cloudwatch/metricAlarm:MetricAlarm":
            metrics = sum(1 for q in r.inputs.get("metricQueries") or [] if q.get("metric")) or 1
            assert item.monthly_usd == pytest.approx(metrics * prices.cloudwatch.alarm_metric_month)
            assert item.fixed
        elif r.type == "aws:cloudwatch/dashboard:Dashboard":
            assert item.monthly_usd == prices.cloudwatch.dashboard_month == 3.00
            assert item.fixed
        elif r.type == "aws:kms/key:Key":
            assert parts["key-month"] == prices.kms.key_month == 1.00
        elif r.type == "aws:dynamodb/contributorInsights:ContributorInsights":
            assert parts["4 rules"] == 4 * prices.cloudwatch.contributor_insights_rule_month
        elif r.type == "aws:budgets/budget:Budget":
            assert item.monthly_usd == prices.budgets.budget_month == 0
        elif r.type in FREE:
            assert item.monthly_usd == 0
            assert item.free_reason == FREE[r.type]
        checked.add(r.type)
    assert "aws:cloudwatch/metricAlarm:MetricAlarm" in checked
    # The system-errors alarm sums its operations with metric math: one price per metric.
    system = line(result, "monitoring-system-errors")
    assert system.monthly_usd == pytest.approx(10 * PRICES.cloudwatch.alarm_metric_month)


def test_one_more_alarm_moves_the_total_by_exactly_an_alarm(dev_doc, dev) -> None:
    before = priced(dev).total
    after = priced(edited(dev_doc, lambda d: add_copy(d, "monitoring-user-errors", "extra"))).total
    assert after - before == pytest.approx(PRICES.cloudwatch.alarm_metric_month, abs=1e-9)


def test_one_property_change_moves_only_that_resources_price(prod_doc, prod) -> None:
    def throttled_only(doc):
        resource(doc, "app-insights-ByStatus")["inputs"]["mode"] = "THROTTLED_KEYS"

    before, after = priced(prod), priced(edited(prod_doc, throttled_only))
    moved = {
        a.name: b.monthly_usd - a.monthly_usd
        for a, b in zip(before.lines, after.lines, strict=True)
        if a.monthly_usd != b.monthly_usd
    }
    assert list(moved) == ["app-insights-ByStatus"]
    assert after.total - before.total == pytest.approx(moved["app-insights-ByStatus"])
    assert line(after, "app-insights-ByStatus").monthly_usd == pytest.approx(
        2 * PRICES.cloudwatch.contributor_insights_rule_month
    )


def test_pitr_off_saves_exactly_its_storage_price(dev_doc, dev) -> None:
    def no_pitr(doc):
        resource(doc, "app-table")["inputs"]["pointInTimeRecovery"]["enabled"] = False

    saved = priced(dev).total - priced(edited(dev_doc, no_pitr)).total
    assert saved == pytest.approx(UsageModel().storage.table_gb * PRICES.dynamodb.pitr_gb_month)


def test_a_narrower_projection_lowers_index_writes_and_storage(dev_doc, dev) -> None:
    usage = parse_usage({"requests": {"itemKb": 1.5}}, "test")

    def keys_only(doc):
        for gsi in resource(doc, "app-table")["inputs"]["globalSecondaryIndexes"]:
            gsi["projectionType"] = "KEYS_ONLY"

    wide = line(priced(dev, usage), "app-table").monthly_usd
    narrow = line(priced(edited(dev_doc, keys_only), usage), "app-table").monthly_usd
    assert narrow < wide


def test_the_dr_copy_costs_transfer_and_dr_storage(prod) -> None:
    usage = load_usage(usage_path("prod"))
    result = priced(prod, usage)
    gb = usage.storage.table_gb
    assert line(result, "backup-plan").monthly_usd == pytest.approx(
        30 * gb * PRICES.transfer.inter_region_gb
    )
    # Daily points kept 35 days, in each vault.
    for vault in ("backup-vault", "backup-dr-vault"):
        assert line(result, vault).monthly_usd == pytest.approx(
            35 * gb * PRICES.backup.dynamodb_warm_gb_month
        )


WEEKLY_RUNS = 30 / 7  # the restore testing plan's cron(0 9 ? * SUN *), in a 30-day month


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_a_weekly_restore_test_costs_a_job_and_the_restored_table(stack, request) -> None:
    usage = load_usage(usage_path(stack))
    item = line(priced(request.getfixturevalue(stack), usage), "recovery-restore-testing-selection")
    jobs, restored, kept = (part.usd for part in item.parts)
    gb = WEEKLY_RUNS * usage.storage.table_gb
    assert PRICES.backup.restore_test_job == 1.50
    assert PRICES.backup.dynamodb_restore_gb == 0.15
    assert jobs == pytest.approx(WEEKLY_RUNS * PRICES.backup.restore_test_job)
    assert restored == pytest.approx(gb * PRICES.backup.dynamodb_restore_gb)
    # The restored copy is a table kept for the 4-hour validation window, then deleted.
    assert kept == pytest.approx(gb * 4 / 730 * PRICES.dynamodb.storage_gb_month)
    assert line(priced(request.getfixturevalue(stack)), "recovery-restore-testing-plan").fixed


def test_a_daily_restore_test_moves_the_total_by_exactly_the_extra_runs(dev_doc, dev) -> None:
    def daily(doc):
        resource(doc, "recovery-restore-testing-plan")["inputs"]["scheduleExpression"] = (
            "cron(0 9 ? * * *)"
        )

    gb = UsageModel().storage.table_gb
    per_run = (
        PRICES.backup.restore_test_job
        + gb * PRICES.backup.dynamodb_restore_gb
        + gb * 4 / 730 * PRICES.dynamodb.storage_gb_month
    )
    moved = priced(edited(dev_doc, daily)).total - priced(dev).total
    assert moved == pytest.approx((30 - WEEKLY_RUNS) * per_run)


def test_the_framework_costs_its_control_evaluations(prod) -> None:
    usage = load_usage(usage_path("prod"))
    framework = next(r for r in prod.resources if r.type == "aws:backup/framework:Framework")
    controls = len(framework.inputs["controls"])
    assert controls == 9
    assert PRICES.backup.control_evaluations_per1k == 1.25
    evaluations = controls * usage.backup_audit.resources_per_control * 30
    assert line(priced(prod, usage), "recovery-framework").monthly_usd == pytest.approx(
        evaluations / 1000 * PRICES.backup.control_evaluations_per1k
    )
    wider = parse_usage({"backupAudit": {"resourcesPerControl": 25}}, "test")
    moved = priced(prod, wider).total - priced(prod).total
    assert moved == pytest.approx(controls * 15 * 30 / 1000 * 1.25)


def _calls(usage: UsageModel) -> float:
    r = usage.requests
    return r.clinics * (
        sum(r.reads_per_clinic_month.values()) + sum(r.writes_per_clinic_month.values())
    )


def test_the_trail_costs_its_table_data_events_and_management_events_only_as_a_copy(prod) -> None:
    assert (
        PRICES.cloudtrail.data_events_per100k,
        PRICES.cloudtrail.management_events_copy_per100k,
    ) == (0.10, 2.00)
    usage = UsageModel()
    trail = line(priced(prod), "trail-trail")
    assert trail.monthly_usd == pytest.approx(_calls(usage) / 1e5 * 0.10)
    # A second copy of management events (an organization trail has the first) is paid.
    copy = parse_usage({"cloudtrail": {"organizationTrailCopy": True}}, "test")
    moved = priced(prod, copy).total - priced(prod).total
    assert moved == pytest.approx(usage.cloudtrail.management_events_per_month / 1e5 * 2.00)


def test_stream_data_events_are_priced_only_when_the_trail_selects_them(prod_doc, prod) -> None:
    def with_stream(doc):
        (trail,) = [r for r in doc["resources"] if r["name"] == "trail-trail"]
        trail["inputs"]["advancedEventSelectors"].append(
            {
                "name": "stream",
                "fieldSelectors": [
                    {"field": "eventCategory", "equals": ["Data"]},
                    {"field": "resources.type", "equals": ["AWS::DynamoDB::Stream"]},
                ],
            }
        )

    streamed = edited(prod_doc, with_stream)
    events = UsageModel().cloudtrail.stream_requests_per_month
    moved = (
        line(priced(streamed), "trail-trail").monthly_usd
        - line(priced(prod), "trail-trail").monthly_usd
    )
    assert moved == pytest.approx(events / 1e5 * 0.10)


def test_the_audit_bucket_costs_each_storage_class_for_the_days_it_holds_the_evidence(prod) -> None:
    assert (PRICES.s3.standard_gb_month, DR_PRICES.s3.standard_gb_month) == (0.023, 0.023)
    assert (PRICES.s3.put_requests_per1k, PRICES.s3.get_requests_per1k) == (0.005, 0.0004)
    usage = UsageModel()
    b, ct = usage.audit_bucket, usage.cloudtrail
    trail_gb_month = (_calls(usage) + ct.management_events_per_month) * ct.event_kb / 1e6
    # prod's lifecycle: STANDARD 30 days, STANDARD_IA 60, GLACIER_IR 275, DEEP_ARCHIVE to 2192.
    held = {"STANDARD": 30, "STANDARD_IA": 60, "GLACIER_IR": 275, "DEEP_ARCHIVE": 1827}
    price = {"STANDARD": 0.023, "STANDARD_IA": 0.0125, "GLACIER_IR": 0.004, "DEEP_ARCHIVE": 0.00099}
    storage = sum(
        (b.stored_gb * days / 2192 + trail_gb_month * days / 30) * price[c]
        for c, days in held.items()
    )
    objects = b.put_requests_per_month + ct.log_files_per_month
    transitions = objects / 1000 * (0.01 + 0.02 + 0.05)
    requests = objects / 1000 * 0.005 + b.get_requests_per_month / 1000 * 0.0004
    bucket = line(priced(prod), "audit-bucket")
    assert bucket.monthly_usd == pytest.approx(storage + transitions + requests)
    # Ten more GB of reports at the plateau are spread over the same classes by the same days.
    grown = parse_usage({"auditBucket": {"storedGb": b.stored_gb + 10}}, "test")
    assert priced(prod, grown).total - priced(prod).total == pytest.approx(
        sum(10 * days / 2192 * price[c] for c, days in held.items())
    )
    # The access-log bucket (a logging target) costs its logs' storage only.
    logs = line(priced(prod), "audit-access-logs")
    assert logs.monthly_usd == pytest.approx(b.access_log_stored_gb * 0.023)


def test_the_audit_bucket_settings_and_report_plans_are_free_with_a_reason(prod) -> None:
    result = priced(prod)
    settings = [x for x in result.lines if x.type.startswith("aws:s3/bucket") and x.type in FREE]
    # the audit bucket's 8 settings (lifecycle and logging included), the access-log bucket's 6
    assert len(settings) == 14
    reports = [x for x in result.lines if x.type == "aws:backup/reportPlan:ReportPlan"]
    assert len(reports) == 3
    for item in (*settings, *reports):
        assert item.monthly_usd == 0
        assert item.free_reason == FREE[item.type]


def test_the_dev_defaults_reproduce_the_designs_dev_estimate(dev) -> None:
    assert load_usage(usage_path("dev")) == UsageModel()
    result = priced(dev)
    network = sum(x.monthly_usd for x in result.lines if x.name.startswith("network-"))
    logs_key = sum(x.monthly_usd for x in result.lines if x.name.startswith("logs-key"))
    audit_db = sum(x.monthly_usd for x in result.lines if x.name.startswith("audit-db-"))
    cache = sum(x.monthly_usd for x in result.lines if x.name.startswith("cache-"))
    trail = line(result, "trail-trail").monthly_usd
    consumer = sum(
        x.monthly_usd
        for x in result.lines
        if x.name.startswith(("stream-consumer-", "consumer-key-"))
    )
    # The design's $7-23 covers the data layer (plus the audit key and bucket, ~$1.30); the
    # network, the audit database, the cache, the stream consumer (dev: about $1.50, its key $1
    # of it) and the trail's data events are priced on their own.
    assert 7 <= result.total - network - logs_key - audit_db - cache - trail - consumer <= 25
    assert 1 < consumer < 2


def test_the_network_costs_its_interface_endpoints_and_flow_records(dev, prod) -> None:
    usage = UsageModel()
    for plan, zones, endpoints in ((dev, 2, 2), (prod, 3, 5)):
        result = priced(plan)
        network = sum(x.monthly_usd for x in result.lines if x.name.startswith("network-"))
        hours = endpoints * zones * 730 * PRICES.vpc.interface_endpoint_az_hour
        data = usage.network.endpoint_gb_per_month * PRICES.vpc.interface_endpoint_gb
        flow = usage.network.flow_log_gb_per_month * PRICES.vpc.flow_logs_ingested_gb
        assert network == pytest.approx(hours + data + flow)
    assert line(priced(prod), "network-dynamodb-endpoint").monthly_usd == 0
    assert line(priced(prod), "network-sts-endpoint").monthly_usd == pytest.approx(
        3 * 730 * 0.01 + 0.01 * usage.network.endpoint_gb_per_month / 5
    )


def test_json_lists_every_resource_free_ones_at_zero(dev) -> None:
    result = stack_estimate("dev", dev)
    document = to_json(result)
    custom = [r for r in dev.resources if r.custom]
    assert [r["urn"] for r in document["resources"]] == [r.urn for r in custom]
    assert {"urn", "type", "monthlyUsd"} <= set(document["resources"][0])
    assert document["totalMonthlyUsd"] == pytest.approx(
        sum(r["monthlyUsd"] for r in document["resources"]), abs=1e-3
    )
    alias = next(r for r in document["resources"] if r["type"] == "aws:kms/alias:Alias")
    assert alias["monthlyUsd"] == 0
    assert alias["free"]
    table = next(r for r in document["resources"] if r["type"] == "aws:dynamodb/table:Table")
    assert not table["fixed"]
    assert "requests.writesPerClinicMonth" in table["drivers"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_every_format_prints_the_price_date_and_source(dev, fmt) -> None:
    text = RENDERERS[fmt](stack_estimate("dev", dev))
    snapshot = default_snapshot().snapshot
    assert snapshot.date in text
    assert snapshot.source[:40] in text


def test_a_budget_below_the_estimate_is_warned(dev_doc) -> None:
    def tight(doc):
        resource(doc, "cost-budget")["inputs"]["limitAmount"] = "5.00"

    result = stack_estimate("dev", edited(dev_doc, tight))
    (warning,) = budget_warnings(result)
    assert warning.startswith(f"estimated monthly cost ${result.total:,.2f} exceeds budget")
    assert budget_warnings(stack_estimate("dev", edited(dev_doc, lambda d: None))) == []


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        ({"requests": {"clinic": 3}}, "requests.clinic: unknown key"),
        ({"storage": {"tableGb": -1}}, "storage.tableGb: Input should be greater than or equal"),
        ({"requests": {"writesPerClinicMonth": {"VISIT": 1}}}, "unknown entity type"),
        ({"requests": {"readsPerClinicMonth": {"GSI9": 1}}}, "unknown index"),
        ({"fleet": {"sizes": [{"name": "a", "share": 0.5, "activity": 1}]}}, "add up to 0.5"),
        ({"auditBucket": {"storedGb": -1}}, "auditBucket.storedGb: Input should be greater than"),
        ({"backupAudit": {"resourcesPerControl": 0}}, "backupAudit.resourcesPerControl: Input"),
        ({"backupAudit": {"controls": 9}}, "backupAudit.controls: unknown key"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_a_bad_usage_model_is_one_line_naming_file_and_key(usage, message) -> None:
    with pytest.raises(ReviewError) as caught:
        parse_usage(usage, "usage.dev.yaml")
    text = str(caught.value)
    assert text.startswith("usage.dev.yaml: ")
    assert message in text
    assert "\n" not in text


def test_the_cli_refuses_bad_input_with_one_line_and_exit_2(tmp_path, capsys, dev_doc) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(dev_doc))
    bad_usage = tmp_path / "usage.yaml"
    bad_usage.write_text("requests:\n  clinics: 1\n  clinics: 2\n")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    cases = [
        (["--stack", "staging", "--plan", str(plan)], "unknown stack 'staging'"),
        (["--stack", "prod", "--plan", str(plan)], "planned for medeez-platform/dev"),
        (["--stack", "dev", "--plan", str(broken)], "not JSON"),
        (["--stack", "dev", "--plan", str(tmp_path / "none.json")], "no such plan file"),
        (["--stack", "dev", "--plan", str(plan), "--usage", str(bad_usage)], "appears twice"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: "), argv
        assert message in err, argv
        assert err.count("\n") == 1
        assert "Traceback" not in err
    with pytest.raises(SystemExit) as exited:
        main(["--stack", "dev", "--plan", str(plan), "--format", "xml"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: make cost: argument --format")
    assert err.count("\n") == 1


def test_a_snapshot_missing_a_price_is_refused(tmp_path) -> None:
    text = (PROJECT_DIR / "pricing" / "aws-prices.yaml").read_text()
    broken = tmp_path / "prices.yaml"
    broken.write_text(text.replace("      dashboardMonth: 3.00\n", ""))
    with pytest.raises(ReviewError, match="dashboardMonth: Field required"):
        load_snapshot(broken)


def test_the_readme_cost_table_is_current() -> None:
    assert readme_main(["--check"]) == 0


def test_a_month_of_writes_is_priced_per_started_kb(dev) -> None:
    heavy = parse_usage({"requests": {"itemKb": 1.1}}, "test")
    light = parse_usage({"requests": {"itemKb": 1.0}}, "test")
    ratio = (
        line(priced(dev, heavy), "app-table").parts[0].usd
        / line(priced(dev, light), "app-table").parts[0].usd
    )
    assert ratio == pytest.approx(math.ceil(1.1) / math.ceil(1.0))


#: The stream consumer's types: priced (function, queue) or free with a reason.
CONSUMER_TYPES = (
    "aws:lambda/function:Function",
    "aws:lambda/layerVersion:LayerVersion",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    "aws:sqs/queue:Queue",
    "aws:sqs/queuePolicy:QueuePolicy",
)


def consumer_only(doc) -> None:
    # The stream consumer's own resources (the cache invalidator has the same types).
    doc["resources"] = [
        r for r in doc["resources"] if r["type"] in CONSUMER_TYPES and "invalidator" not in r["urn"]
    ]


@pytest.mark.parametrize("stack", ["dev_doc", "prod_doc"])
def test_the_stream_consumer_costs_gb_seconds_invocations_and_queue_requests(
    stack, request
) -> None:
    doc = request.getfixturevalue(stack)
    plan = edited(doc, consumer_only)
    assert sorted(r.type for r in plan.resources) == sorted(CONSUMER_TYPES)
    assert unpriced_types(plan) == []
    usage = UsageModel()
    result = priced(plan, usage)
    function = next(x for x in result.lines if x.type == "aws:lambda/function:Function")
    # One stream record per base-table item written (some entity writes write several items).
    records = stream_records_per_month(usage, sample_workload())
    assert records >= usage.requests.clinics * sum(usage.requests.writes_per_clinic_month.values())
    invocations = records / usage.stream_consumer.records_per_invocation
    memory_gb = (256 if stack == "dev_doc" else 512) / 1024
    gb_seconds = invocations * usage.stream_consumer.average_duration_ms / 1000 * memory_gb
    assert [p.usd for p in function.parts] == pytest.approx(
        [
            gb_seconds * PRICES.lambda_.arm_gb_second,
            invocations / 1e6 * PRICES.lambda_.requests_per_million,
        ]
    )
    assert "arm64" in function.parts[0].label
    queue = next(x for x in result.lines if x.type == "aws:sqs/queue:Queue")
    assert queue.monthly_usd == pytest.approx(1000 / 1e6 * PRICES.sqs.requests_per_million)
    free = {x.type: x.free_reason for x in result.lines if not x.monthly_usd}
    assert set(free) == {
        "aws:lambda/layerVersion:LayerVersion",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:sqs/queuePolicy:QueuePolicy",
    }
    assert all(free.values())


def test_the_consumer_on_x86_costs_the_x86_rate(dev_doc) -> None:
    def x86(doc) -> None:
        consumer_only(doc)
        fn = next(r for r in doc["resources"] if r["type"] == "aws:lambda/function:Function")
        fn["inputs"]["architectures"] = ["x86_64"]

    arm = priced(edited(dev_doc, consumer_only))
    intel = priced(edited(dev_doc, x86))
    ratio = PRICES.lambda_.x86_gb_second / PRICES.lambda_.arm_gb_second

    def seconds(result: Estimate) -> float:
        fn = next(x for x in result.lines if x.type == "aws:lambda/function:Function")
        return fn.parts[0].usd

    assert seconds(intel) == pytest.approx(seconds(arm) * ratio)
