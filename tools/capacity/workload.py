"""Where the data layer's items land: every entity type's items on the table and each GSI, and
which partition key values they take, measured by running the real item codec
(``datalayer.entities.ItemCodec``, which renders every key with ``stackspec.key_schema``) over a
small synthetic dataset. Nothing here names a key format or an index: change a key format and
the sample changes with it.

The codec needs KMS for PHI and beacons; here the PHI ciphertext is a stub (its bytes do not
matter to placement) and the beacon keyring runs on a deterministic stand-in for KMS, so beacons
are real HMACs and differ per clinic exactly as in AWS.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from typing import Any, cast

from datalayer.beacons import BeaconKeyring
from datalayer.entities import ENTITY_TYPE_ATTRIBUTE, ItemCodec
from datalayer.phi import ItemContext, PhiCipher
from datalayer.synthetic import DatasetShape, generate_dataset
from stackspec.key_schema import BASE_TABLE, GLOBAL_INDEXES, Index, KeyFormat

#: How the base table is named where indexes are listed.
TABLE = "table"

#: Enough clinics that a partition shared by clinics shows up as shared.
SAMPLE_CLINICS = 4
SAMPLE_SEED = 12
SAMPLE_DATE = date(2026, 6, 1)


class _StubCipher:
    def encrypt(self, fields: Mapping[str, Any], context: ItemContext) -> bytes:
        return b"stub"


class _StandInKms:
    """GenerateDataKey with a per-clinic key derived from the encryption context."""

    def generate_data_key(self, **request: Any) -> dict[str, bytes]:
        clinic = "|".join(sorted(f"{k}={v}" for k, v in request["EncryptionContext"].items()))
        return {"Plaintext": hashlib.sha256(clinic.encode()).digest(), "CiphertextBlob": b"w"}


def index_names() -> tuple[str, ...]:
    """The table, then every GSI by name, in key-schema order."""
    return (TABLE, *(index.name for index in GLOBAL_INDEXES))


def _indexes() -> tuple[tuple[str, Index], ...]:
    return ((TABLE, BASE_TABLE), *((index.name, index) for index in GLOBAL_INDEXES))


def _format_of(index: Index, value: str) -> KeyFormat:
    for candidate in index.partition_key_formats:
        if candidate.matches(value):
            return candidate
    raise ValueError(f"{value!r} matches no partition format of {index.index_name or TABLE}")


@dataclass(frozen=True)
class PartitionSample:
    """One partition key value seen in the sample."""

    index: str
    value: str
    format: str
    #: Clinics with items in it.
    clinics: frozenset[str]
    #: Items in it, by (entity type, clinic).
    items: Mapping[tuple[str, str], int]


@dataclass(frozen=True)
class Workload:
    """The sample, summarised for cost and capacity."""

    clinics: tuple[str, ...]
    #: Entities written, by (entity type, clinic); an entity writes every item the codec makes.
    entities: Mapping[tuple[str, str], int]
    partitions: tuple[PartitionSample, ...]

    @cached_property
    def shared_formats(self) -> frozenset[tuple[str, str]]:
        """(index, format) of every partition format with a value holding items of more than one
        clinic: a format with no clinic-scoped field, whose values the whole fleet shares. Derived
        from the partitions, so a workload laid out under other key formats is judged alike."""
        return frozenset((p.index, p.format) for p in self.partitions if len(p.clinics) > 1)

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(sorted({entity_type for entity_type, _ in self.entities}))

    def entity_count(self, entity_type: str) -> int:
        return sum(n for (kind, _), n in self.entities.items() if kind == entity_type)

    def items_per_entity(self, entity_type: str, index: str) -> float:
        """Items an entity of this type puts on ``index`` (0 when it is not on it)."""
        on_index = sum(
            n
            for p in self.partitions
            if p.index == index
            for (kind, _), n in p.items.items()
            if kind == entity_type
        )
        return on_index / self.entity_count(entity_type)

    def item_share(self, index: str) -> float:
        """Share of the table's items that ``index`` holds."""
        table = sum(sum(p.items.values()) for p in self.partitions if p.index == TABLE)
        mine = sum(sum(p.items.values()) for p in self.partitions if p.index == index)
        return mine / table


@cache
def sample_workload() -> Workload:
    """Run the codec over the synthetic dataset once per process."""
    dataset = generate_dataset(
        SAMPLE_SEED, SAMPLE_DATE, DatasetShape.for_patients(SAMPLE_CLINICS, 20)
    )
    codec = ItemCodec(
        cipher=cast(PhiCipher, _StubCipher()),
        beacons=BeaconKeyring(_StandInKms(), "alias/stand-in"),
        ttl_attribute="expiresAt",
        written_by="tool:capacity",  # counted, never written
    )
    entities: Counter[tuple[str, str]] = Counter()
    placed: dict[tuple[str, str], Counter[tuple[str, str]]] = defaultdict(Counter)
    formats: dict[tuple[str, str], str] = {}
    for entity in dataset.entities():
        kind = str(entity.entity_type)
        entities[kind, entity.clinic_id] += 1
        for item in codec.items(entity):
            # Lookup items belong to the entity that wrote them (a patient).
            assert item[ENTITY_TYPE_ATTRIBUTE]
            for name, index in _indexes():
                value = item.get(index.partition_key)
                if value is None:
                    continue
                placed[name, value][kind, entity.clinic_id] += 1
                formats[name, value] = _format_of(index, value).template
    partitions = tuple(
        PartitionSample(
            index=name,
            value=value,
            format=formats[name, value],
            clinics=frozenset(clinic for _, clinic in items),
            items=dict(items),
        )
        for (name, value), items in sorted(placed.items())
    )
    return Workload(
        clinics=tuple(sorted(c.clinic_id for c in dataset.clinics)),
        entities=dict(entities),
        partitions=partitions,
    )
