"""``make capacity``: with every tenant index keyed by the clinic, no partition is shared by the
fleet and the hottest is a clinic's own, named with its margin, under the limit at any fleet size;
a key layout that does share a partition (GSI1's pre-tenancy ``ENTITY#{entityType}``) is still found
and named, and a bigger fleet pushes it over; bad input is one line."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, defaultdict

import pytest

from stackspec.key_schema import (
    BY_ENTITY_TYPE,
    ENTITY_TYPE_PARTITION,
    STAFF_EMAIL_LOOKUP,
    KeyFormat,
)
from tools.capacity.__main__ import main
from tools.capacity.model import WRITE_LIMIT, Capacity, PartitionLoad, fleet_capacity
from tools.capacity.report import headline, render_text, to_json
from tools.capacity.workload import TABLE, PartitionSample, Workload, sample_workload
from tools.cost.usage import UsageModel, load_usage, parse_usage, usage_path

GSI1 = BY_ENTITY_TYPE.name
#: GSI1's partition key before the tenancy change: one value per entity type for the whole fleet.
PRE_TENANCY_GSI1 = KeyFormat("ENTITY#{entityType}")


def pre_tenancy_gsi1(workload: Workload) -> Workload:
    """The sampled workload with GSI1 keyed as before tenancy: every clinic's
    ``CLINIC#<c>#ENTITY#<type>`` partition merged into the fleet's ``ENTITY#<type>``."""
    merged: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    kept: list[PartitionSample] = []
    for p in workload.partitions:
        if p.index != GSI1:
            kept.append(p)
            continue
        entity_type = ENTITY_TYPE_PARTITION.parse(p.value)["entityType"]
        merged[PRE_TENANCY_GSI1.render(entityType=entity_type)].update(p.items)
    rekeyed = [
        PartitionSample(
            index=GSI1,
            value=value,
            format=PRE_TENANCY_GSI1.template,
            clinics=frozenset(clinic for _, clinic in items),
            items=dict(items),
        )
        for value, items in sorted(merged.items())
    ]
    return dataclasses.replace(workload, partitions=(*kept, *rekeyed))


def peak_wcu(usage: UsageModel, entity_type: str, activity: float) -> float:
    """Peak-hour writes a second of ``entity_type`` by clinics of this total activity, as the
    usage model defines them (one write unit an item: prod's GSI1 is KEYS_ONLY)."""
    fleet = usage.fleet
    return (
        activity
        * usage.requests.writes_per_clinic_month[entity_type]
        / fleet.working_days_per_month
        * fleet.peak_hour_share
        / 3600
    )


def load(capacity: Capacity, index: str, partition: str) -> PartitionLoad:
    (found,) = [
        p
        for i in capacity.indexes
        for p in i.partitions
        if (i.index, p.partition) == (index, partition)
    ]
    return found


def test_no_tenant_index_has_a_fleet_shared_partition_format() -> None:
    workload = sample_workload()
    assert workload.shared_formats == frozenset()
    # Every partition format leads with the clinic but the staff sign-in email, which is
    # cross-tenant by nature and still one user's (so one clinic's) per value.
    formats = {(p.index, p.format) for p in workload.partitions}
    assert {f for f in formats if not f[1].startswith("CLINIC#{clinicId}")} == {
        ("ExternalIDs", STAFF_EMAIL_LOOKUP.template)
    }
    assert (GSI1, ENTITY_TYPE_PARTITION.template) in formats


def test_a_format_not_led_by_the_clinic_is_found_shared_by_the_fleet() -> None:
    workload = pre_tenancy_gsi1(sample_workload())
    assert workload.shared_formats == {(GSI1, PRE_TENANCY_GSI1.template)}
    assert len(workload.clinics) > 1
    assert {p.clinics for p in workload.partitions if p.index == GSI1} == {
        frozenset(workload.clinics)
    }


def test_the_hottest_partition_is_a_clinics_own_named_with_its_margin(prod) -> None:
    usage = load_usage(usage_path("prod"))
    capacity = fleet_capacity(prod, usage)
    hottest = capacity.hottest
    assert (hottest.index, hottest.partition, hottest.shared) == (
        GSI1,
        ENTITY_TYPE_PARTITION.template,
        False,
    )
    # One appointment, one GSI1 item; the busiest clinic's appointment writes are the busiest
    # value's, whatever the fleet's size.
    assert sample_workload().items_per_entity("APPOINTMENT", GSI1) == 1
    expected = peak_wcu(usage, "APPOINTMENT", usage.fleet.largest.activity)
    assert hottest.wcu == pytest.approx(expected)
    assert hottest.margin == pytest.approx(WRITE_LIMIT / expected)
    assert f"{GSI1} `{ENTITY_TYPE_PARTITION.template}` (one clinic)" in headline(capacity)
    assert f"{expected:.3g} WCU/s" in headline(capacity)
    assert f"margin x{WRITE_LIMIT / expected:,.0f}" in headline(capacity)


@pytest.mark.parametrize("clinics", [10_000, 100_000])
def test_no_partition_is_over_the_limit_at_fleet_scale(prod, clinics) -> None:
    capacity = fleet_capacity(prod, load_usage(usage_path("prod")), clinics=clinics)
    assert capacity.over_limit == []
    assert headline(capacity).startswith(
        f"{clinics:,} clinics at peak: no partition over DynamoDB's per-partition limit; "
    )
    assert "OVER" not in render_text(capacity)


def test_a_fleet_shared_partition_is_named_with_its_margin(prod) -> None:
    usage = load_usage(usage_path("prod"))
    capacity = fleet_capacity(prod, usage, workload=pre_tenancy_gsi1(sample_workload()))
    hottest = capacity.hottest
    assert (hottest.index, hottest.partition, hottest.shared) == (GSI1, "ENTITY#APPOINTMENT", True)
    # Every clinic's appointment writes, at the peak hour, land on this one value.
    fleet = usage.fleet
    expected = peak_wcu(usage, "APPOINTMENT", fleet.clinics * fleet.mean_activity)
    assert hottest.wcu == pytest.approx(expected)
    assert hottest.margin == pytest.approx(WRITE_LIMIT / expected)
    assert f"{GSI1} `ENTITY#APPOINTMENT` (all clinics)" in headline(capacity)
    assert f"margin x{WRITE_LIMIT / expected:.1f}" in headline(capacity)


def test_a_bigger_fleet_pushes_a_fleet_shared_partition_over_the_limit(prod) -> None:
    usage = load_usage(usage_path("prod"))
    capacity = fleet_capacity(
        prod, usage, clinics=100_000, workload=pre_tenancy_gsi1(sample_workload())
    )
    over = [(p.index, p.partition) for p in capacity.over_limit]
    assert (GSI1, "ENTITY#APPOINTMENT") in over
    expected = peak_wcu(usage, "APPOINTMENT", 100_000 * usage.fleet.mean_activity)
    assert expected > WRITE_LIMIT
    assert headline(capacity).startswith(f"100,000 clinics at peak: {len(over)} partition(s) over")
    assert f"OVER by x{expected / WRITE_LIMIT:.1f}" in render_text(capacity)


def test_a_clinics_own_partitions_get_only_the_largest_clinics_traffic(prod) -> None:
    usage = load_usage(usage_path("prod"))
    small = fleet_capacity(prod, usage, clinics=1_000)
    large = fleet_capacity(prod, usage, clinics=100_000)
    for index, partition in (
        (TABLE, "CLINIC#{clinicId}#PATIENT#{patientId}"),
        (GSI1, ENTITY_TYPE_PARTITION.template),
    ):
        assert load(small, index, partition).wcu == load(large, index, partition).wcu > 0
    # A fleet-shared value, by contrast, grows with the fleet.
    shared = pre_tenancy_gsi1(sample_workload())
    small = fleet_capacity(prod, usage, clinics=1_000, workload=shared)
    large = fleet_capacity(prod, usage, clinics=100_000, workload=shared)
    assert load(large, GSI1, "ENTITY#NOTE").wcu == pytest.approx(
        100 * load(small, GSI1, "ENTITY#NOTE").wcu
    )


def test_a_wider_projection_costs_more_write_units_per_item(prod_doc, prod) -> None:
    from tests.tools.review_support import edited, resource

    usage = parse_usage({"requests": {"itemKb": 2.5}}, "test")

    def all_projected(doc):
        for gsi in resource(doc, "app-table")["inputs"]["globalSecondaryIndexes"]:
            gsi["projectionType"] = "ALL"

    keys_only = fleet_capacity(prod, usage).hottest.wcu
    full = fleet_capacity(edited(prod_doc, all_projected), usage).hottest.wcu
    assert full == pytest.approx(keys_only * math.ceil(2.5))


def test_json_names_the_hottest_and_every_index(dev) -> None:
    document = to_json(fleet_capacity(dev, load_usage(usage_path("dev"))))
    assert (document["hottest"]["partition"], document["hottest"]["shared"]) == (
        ENTITY_TYPE_PARTITION.template,
        False,
    )
    assert document["headline"].startswith("10,000 clinics at peak: no partition over")
    assert [i["index"] for i in document["indexes"]] == [
        "table",
        "ByEntityType",
        "ByPatient",
        "ByProviderTime",
        "ByStatus",
        "ExternalIDs",
    ]
    assert document["limits"] == {"wcuPerPartition": 1000.0, "rcuPerPartition": 3000.0}


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--stack", "dev", "--clinics", "lots"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == "error: make capacity: argument --clinics: not a whole number: 'lots'\n"
    assert main(["--stack", "qa"]) == 2
    assert capsys.readouterr().err.startswith("error: unknown stack 'qa'")
    assert main(["--stack", "dev", "--usage", str(tmp_path / "none.yaml")]) == 2
    assert "no such usage model" in capsys.readouterr().err
