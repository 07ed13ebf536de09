"""Requests per partition key value at fleet scale, against DynamoDB's per-partition limits.

A partition key value is served by one partition, and one partition serves at most 3,000 read
units and 1,000 write units a second (adaptive capacity moves a hot key to a partition of its own,
never beyond that). So the question for a key design is how busy its busiest value gets at the
fleet's peak hour.

The partitions come from the sampled workload (:mod:`tools.capacity.workload`): a partition
format whose values hold items of several clinics (GSI1's ``ENTITY#{entityType}`` before the
tenancy change led every tenant index's key with the clinic) is shared by the whole fleet, and gets
every clinic's traffic for its value; any other value belongs to one clinic, and gets at most the
largest clinic's traffic, whatever the fleet's size. The entity mix and the read mix are the usage
model's (``requests``), scaled by ``fleet`` (clinics, their sizes, the peak hour).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from tools.capacity.workload import TABLE, PartitionSample, Workload, sample_workload
from tools.cost.estimate import index_projections, projected_kb
from tools.cost.usage import UsageModel
from tools.gate.plan_input import Plan
from tools.review_errors import ReviewError

READ_LIMIT = 3000.0
WRITE_LIMIT = 1000.0
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class PartitionLoad:
    index: str
    #: The value (shared partitions) or its format (a clinic's partitions, named generically).
    partition: str
    shared: bool
    wcu: float
    rcu: float

    @property
    def write_use(self) -> float:
        return self.wcu / WRITE_LIMIT

    @property
    def read_use(self) -> float:
        return self.rcu / READ_LIMIT

    @property
    def use(self) -> float:
        """The larger share of a partition limit this partition uses."""
        return max(self.write_use, self.read_use)

    @property
    def margin(self) -> float:
        """How many times the traffic could grow before the partition throttles."""
        return math.inf if self.use == 0 else 1 / self.use

    @property
    def scope(self) -> str:
        return "all clinics" if self.shared else "one clinic"


@dataclass(frozen=True)
class IndexLoad:
    index: str
    projection: str
    wcu: float
    rcu: float
    partitions: tuple[PartitionLoad, ...]

    @property
    def hottest(self) -> PartitionLoad:
        return max(self.partitions, key=lambda p: (p.use, p.partition))


@dataclass(frozen=True)
class Capacity:
    stack: str
    clinics: int
    fleet_description: str
    indexes: tuple[IndexLoad, ...]

    @property
    def hottest(self) -> PartitionLoad:
        return max((i.hottest for i in self.indexes), key=lambda p: (p.use, p.index))

    @property
    def over_limit(self) -> list[PartitionLoad]:
        return [p for i in self.indexes for p in i.partitions if p.use > 1]


def _per_second(per_clinic_month: float, activity: float, usage: UsageModel) -> float:
    """Peak-hour requests a second of clinics of this total activity."""
    fleet = usage.fleet
    per_day = per_clinic_month * activity / fleet.working_days_per_month
    return per_day * fleet.peak_hour_share / SECONDS_PER_HOUR


def _loads(
    index: str,
    samples: list[PartitionSample],
    workload: Workload,
    usage: UsageModel,
    wcu_per_item: float,
    clinics: int,
) -> tuple[PartitionLoad, ...]:
    fleet_activity = clinics * usage.fleet.mean_activity
    largest = usage.fleet.largest.activity
    read_units = 1 - 0.5 * usage.requests.eventually_consistent_share
    reads = usage.requests.reads_per_clinic_month.get(index, 0.0)
    writes = usage.requests.writes_per_clinic_month
    index_items = sum(sum(p.items.values()) for p in samples)
    by_clinic: dict[str, int] = defaultdict(int)
    for p in samples:
        for (_, clinic), n in p.items.items():
            by_clinic[clinic] += n
    loads = []
    for p in samples:
        shared = (index, p.format) in workload.shared_formats
        wcu = rcu = 0.0
        if shared:
            for (kind, _), n in p.items.items():
                per_entity = n / workload.entity_count(kind)
                wcu += _per_second(writes.get(kind, 0.0), fleet_activity, usage) * per_entity
            rcu = _per_second(reads, fleet_activity, usage) * sum(p.items.values()) / index_items
        else:
            (clinic,) = p.clinics
            for (kind, _), n in p.items.items():
                per_entity = n / workload.entities[kind, clinic]
                wcu += _per_second(writes.get(kind, 0.0), largest, usage) * per_entity
            rcu = _per_second(reads, largest, usage) * sum(p.items.values()) / by_clinic[clinic]
        loads.append(
            PartitionLoad(
                index=index,
                partition=p.value if shared else p.format,
                shared=shared,
                wcu=wcu * wcu_per_item,
                rcu=rcu * read_units,
            )
        )
    # A clinic's partitions of one format are alike: keep the busiest of each format.
    kept: dict[str, PartitionLoad] = {}
    for load in loads:
        if load.partition not in kept or load.use > kept[load.partition].use:
            kept[load.partition] = load
    return tuple(sorted(kept.values(), key=lambda x: (-x.use, x.partition)))


def fleet_capacity(
    plan: Plan, usage: UsageModel, *, clinics: int | None = None, workload: Workload | None = None
) -> Capacity:
    """Partition loads of the plan's table and indexes at the fleet's peak hour."""
    workload = workload or sample_workload()
    tables = [r for r in plan.resources if r.type == "aws:dynamodb/table:Table"]
    if not tables:
        raise ReviewError(f"plan of {plan.stack} has no DynamoDB table")
    projections = index_projections(tables[0])
    clinics = clinics or usage.fleet.clinics
    indexes = []
    for name in (TABLE, *projections):
        samples = [p for p in workload.partitions if p.index == name]
        kind = "table" if name == TABLE else projections[name]
        if not samples:
            raise ReviewError(
                f"index {name} of the plan holds no item the data layer writes "
                "(stackspec.key_schema has no such index)"
            )
        kb = usage.requests.item_kb if name == TABLE else projected_kb(kind, usage)
        loads = _loads(name, samples, workload, usage, math.ceil(kb), clinics)
        fleet_activity = clinics * usage.fleet.mean_activity
        wcu = math.ceil(kb) * sum(
            _per_second(w, fleet_activity, usage) * workload.items_per_entity(kind_, name)
            for kind_, w in usage.requests.writes_per_clinic_month.items()
        )
        rcu = _per_second(
            usage.requests.reads_per_clinic_month.get(name, 0.0), fleet_activity, usage
        ) * (1 - 0.5 * usage.requests.eventually_consistent_share)
        indexes.append(IndexLoad(name, kind, wcu, rcu, loads))
    sizes = ", ".join(f"{s.share:.0%} {s.name} x{s.activity:g}" for s in usage.fleet.sizes)
    description = (
        f"{clinics:,} clinics ({sizes}); peak hour = {usage.fleet.peak_hour_share:.0%} of a "
        f"working day, {usage.fleet.working_days_per_month:g} working days a month"
    )
    return Capacity(plan.stack, clinics, description, tuple(indexes))
