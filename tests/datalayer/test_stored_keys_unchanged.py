"""Every key the data layer writes or queries is byte-for-byte what it was before the key formats
moved to ``stackspec.key_schema``: stored items are found by these exact strings, so a changed
key orphans data that is already in a table.

``stored_keys.json`` was recorded from the code as it was before that move (commit da97454):
every key attribute of every item of a small dataset, and the key-condition values of every
catalog pattern, both for the dataset's own parameters and for each pattern's example. A second,
larger dataset is compared by digest only (its listing would be too large to keep here).
Change the file only for a deliberate key migration.

Re-recorded once, deliberately, for issue 10: every tenant index's partition key now begins with
``CLINIC#<clinicId>`` (so IAM's dynamodb:LeadingKeys can confine it) and the clinic left the GSI1
and GSI4 sort keys; base-table keys and the staff email key are unchanged (docs/data-model.md,
"What changed from the design's formats"). Items written under the old GSI keys need their GSI
attributes rewritten (the base-table keys still find them).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

from datalayer.access_patterns import CATALOG, query_request
from datalayer.beacons import BeaconKeyring
from datalayer.entities import ItemCodec
from datalayer.synthetic import DatasetShape, generate_dataset
from scripts.seed_data import sample_parameters

RECORDED = Path(__file__).with_name("stored_keys.json")
AS_OF = date(2026, 11, 24)
LISTED = (7, DatasetShape(clinics=2, patients_per_clinic=5))
DIGESTED = (42, DatasetShape())  # what `make seed` writes by default
_KEY_ATTRIBUTE = re.compile(r"^(PK|SK|GSI\d+(PK|SK))$")  # independent of any key-name constants


class _FixedKms:
    """Beacon root keys derived from the clinic id, so beacons (and lookup keys) are stable."""

    def generate_data_key(self, *, EncryptionContext: dict[str, str], **_: Any) -> dict[str, Any]:
        clinic = EncryptionContext["clinicId"].encode()
        return {
            "Plaintext": hashlib.sha256(b"beacon-root:" + clinic).digest(),
            "CiphertextBlob": b"wrapped:" + clinic,
        }


class _NoCipher:
    """Keys do not depend on the PHI ciphertext; no KMS needed."""

    def encrypt(self, phi: Any, context: Any) -> bytes:
        return b""


def current_keys(seed: int, shape: DatasetShape) -> dict[str, Any]:
    dataset = generate_dataset(seed, AS_OF, shape)
    beacons = BeaconKeyring(_FixedKms(), "alias/phi")
    codec = ItemCodec(
        cipher=_NoCipher(), beacons=beacons, ttl_attribute="expiresAt", written_by="test"
    )  # type: ignore[arg-type]
    items = [
        {name: value for name, value in sorted(item.items()) if _KEY_ATTRIBUTE.match(name)}
        for entity in dataset.entities()
        for item in codec.items(entity)
    ]
    queries: dict[str, Any] = {}
    for name, params in sample_parameters(dataset).items():
        if isinstance(params, dict):
            queries[f"{name} (dataset)"] = _key_condition(name, params, beacons)
    for pattern in CATALOG:
        if not pattern.uses_beacon:  # example clinics have no beacon key
            queries[f"{pattern.name} (example)"] = _key_condition(
                pattern.name, dict(pattern.example), beacons
            )
    return {"items": items, "queries": queries}


def _key_condition(name: str, params: dict[str, str], beacons: BeaconKeyring) -> dict[str, Any]:
    request = query_request(name, "table", params, beacons=beacons)
    return {
        "index": request.get("IndexName"),
        "keyCondition": request["KeyConditionExpression"],
        "filter": request.get("FilterExpression"),
        "values": {k: v["S"] for k, v in request["ExpressionAttributeValues"].items()},
    }


def digest(keys: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()


def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return data


def test_listed_dataset_keys_are_unchanged() -> None:
    expected = recorded()["listed"]
    actual = current_keys(*LISTED)
    assert len(actual["items"]) == len(expected["items"])
    for got, want in zip(actual["items"], expected["items"], strict=True):
        assert got == want
    assert actual["queries"] == expected["queries"]


def test_default_seed_keys_are_unchanged() -> None:
    keys = current_keys(*DIGESTED)
    assert len(keys["items"]) == recorded()["digested"]["items"]
    assert digest(keys) == recorded()["digested"]["sha256"]
