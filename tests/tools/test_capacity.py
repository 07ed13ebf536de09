"""``make capacity``: GSI1's fleet-wide partition is named with its margin, derived from the key
formats and the entity mix; a clinic's own partitions stay a clinic's; bad input is one line."""

from __future__ import annotations

import math

import pytest

from stackspec.key_schema import BY_ENTITY_TYPE, ENTITY_TYPE_PARTITION
from tools.capacity.__main__ import main
from tools.capacity.model import WRITE_LIMIT, fleet_capacity
from tools.capacity.report import headline, render_text, to_json
from tools.capacity.workload import TABLE, sample_workload
from tools.cost.usage import load_usage, parse_usage, usage_path


def test_fleet_shared_formats_are_found_from_the_sampled_keys() -> None:
    workload = sample_workload()
    shared = {fmt for index, fmt in workload.shared_formats if index == BY_ENTITY_TYPE.name}
    assert shared == {ENTITY_TYPE_PARTITION.template}
    # Every partition of the table starts with the clinic: none is shared.
    assert not {fmt for index, fmt in workload.shared_formats if index == TABLE}


def test_gsi1s_hot_partition_is_named_with_its_margin(prod) -> None:
    usage = load_usage(usage_path("prod"))
    capacity = fleet_capacity(prod, usage)
    hottest = capacity.hottest
    assert (hottest.index, hottest.partition, hottest.shared) == (
        "ByEntityType",
        "ENTITY#APPOINTMENT",
        True,
    )
    fleet = usage.fleet
    # Every clinic's appointment writes, at the peak hour, land on this one value; prod projects
    # KEYS_ONLY, so each is one write unit.
    expected = (
        fleet.clinics
        * fleet.mean_activity
        * usage.requests.writes_per_clinic_month["APPOINTMENT"]
        / fleet.working_days_per_month
        * fleet.peak_hour_share
        / 3600
    )
    assert hottest.wcu == pytest.approx(expected)
    assert hottest.margin == pytest.approx(WRITE_LIMIT / expected)
    assert "ByEntityType `ENTITY#APPOINTMENT` (all clinics)" in headline(capacity)
    assert f"margin x{WRITE_LIMIT / expected:.1f}" in headline(capacity)


def test_a_bigger_fleet_pushes_gsi1_over_the_partition_limit(prod) -> None:
    usage = load_usage(usage_path("prod"))
    capacity = fleet_capacity(prod, usage, clinics=100_000)
    over = [(p.index, p.partition) for p in capacity.over_limit]
    assert ("ByEntityType", "ENTITY#APPOINTMENT") in over
    assert headline(capacity).startswith("100,000 clinics at peak: ")
    assert "OVER by x" in render_text(capacity)


def test_a_clinics_own_partitions_get_only_the_largest_clinics_traffic(prod) -> None:
    usage = load_usage(usage_path("prod"))
    small = fleet_capacity(prod, usage, clinics=1_000)
    large = fleet_capacity(prod, usage, clinics=100_000)

    def load(capacity, index, partition):
        (found,) = [
            p
            for i in capacity.indexes
            for p in i.partitions
            if (i.index, p.partition) == (index, partition)
        ]
        return found

    patient = "CLINIC#{clinicId}#PATIENT#{patientId}"
    assert load(small, TABLE, patient).wcu == load(large, TABLE, patient).wcu
    assert load(large, "ByEntityType", "ENTITY#NOTE").wcu == pytest.approx(
        100 * load(small, "ByEntityType", "ENTITY#NOTE").wcu
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
    assert document["hottest"]["partition"] == "ENTITY#APPOINTMENT"
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
