"""PHI encryption throughput and KMS calls, for a typical patient item (five PHI fields).

Measured in one thread (CPU-bound Python: one core), with KMS from moto in process (about 1 ms
per call; real KMS is a network call, which makes the uncached row slower and the cached rows
relatively better):

- the Encryption SDK with the data-key cache (what ``datalayer.phi.PhiCipher`` does), encrypt
  and decrypt with a cold reader (a new process's cache);
- the same without the cache (one KMS call per message);
- one SDK message per PHI field with the cache (the granularity not chosen);
- raw AES-256-GCM of the same bytes with one cached key (the floor: no SDK, no KMS).

Goals: >= 4,000 items/s per core each way with the cache; KMS calls per 10,000 items no more
than one per clinic per cache window.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from moto import mock_aws

from datalayer.phi import CachePolicy, ItemContext, PhiCipher

ITEMS = 10_000
ROUNDS = 3
CLINICS = 10
UNCACHED_ITEMS = 300
PER_FIELD_ITEMS = 2_000
GOAL_ITEMS_PER_SECOND = 4_000
ALIAS = "alias/medeez-bench-phi"

#: A typical patient's PHI: five fields, synthetic.
PATIENT_PHI = {
    "fullName": "Avery Quinn Example",
    "dateOfBirth": "1984-03-12",
    "email": "avery.example@example.test",
    "phone": "+12015550142",
    "address": "1200 Juniper Lane, Apt 4, Springfield, IL 62701",
}


def contexts(count: int) -> list[ItemContext]:
    return [
        ItemContext(
            clinic_id=f"clinic-{i % CLINICS:02d}",
            entity_type="PATIENT",
            pk=f"CLINIC#clinic-{i % CLINICS:02d}#PATIENT#patient-{i:06d}",
            sk="PROFILE",
        )
        for i in range(count)
    ]


def rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


class KmsCounter:
    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        client.meta.events.register("before-call.kms", self)

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def take(self, *names: str) -> int:
        found = sum(self.calls[n] for n in names)
        self.calls.clear()
        return found


def cached_round(
    kms: Any, counter: KmsCounter, items: list[ItemContext]
) -> tuple[dict[str, float], list[bytes]]:
    writer = PhiCipher(kms, ALIAS)
    counter.take("DescribeKey")
    blobs: list[bytes] = []
    encrypt = rate(len(items), lambda: blobs.extend(writer.encrypt(PATIENT_PHI, c) for c in items))
    encrypt_kms = counter.take("GenerateDataKey")
    reader = PhiCipher(kms, ALIAS)
    counter.take("DescribeKey")
    decrypted: list[dict[str, Any]] = []
    decrypt = rate(
        len(items),
        lambda: decrypted.extend(reader.decrypt(b, c) for b, c in zip(blobs, items, strict=True)),
    )
    if decrypted[-1] != PATIENT_PHI:
        raise AssertionError("benchmark round trip changed the PHI")
    decrypt_kms = counter.take("Decrypt")
    return {
        "cached_encrypt": encrypt,
        "cached_decrypt": decrypt,
        "cached_encrypt_kms": encrypt_kms,
        "cached_decrypt_kms": decrypt_kms,
    }, blobs


def measure() -> dict[str, Any]:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key(Description="bench phi")["KeyMetadata"]
    kms.create_alias(AliasName=ALIAS, TargetKeyId=key["KeyId"])
    counter = KmsCounter(kms)
    results: dict[str, Any] = {}

    # SDK with the cache: the configuration the data layer uses. Best of ROUNDS, each with a
    # fresh writer and a cold reader, so every round pays its own KMS calls.
    items = contexts(ITEMS)
    for _ in range(ROUNDS):
        round_results, blobs = cached_round(kms, counter, items)
        for name, value in round_results.items():
            results[name] = max(value, results.get(name, 0))
    results["message_bytes"] = len(blobs[0])

    # SDK without the cache: one GenerateDataKey / Decrypt per message.
    few = contexts(UNCACHED_ITEMS)
    uncached = PhiCipher(kms, ALIAS, cache=None)
    counter.take("DescribeKey")
    few_blobs: list[bytes] = []
    results["uncached_encrypt"] = rate(
        UNCACHED_ITEMS, lambda: few_blobs.extend(uncached.encrypt(PATIENT_PHI, c) for c in few)
    )
    results["uncached_encrypt_kms"] = counter.take("GenerateDataKey")
    results["uncached_decrypt"] = rate(
        UNCACHED_ITEMS,
        lambda: [uncached.decrypt(b, c) for b, c in zip(few_blobs, few, strict=True)],
    )
    results["uncached_decrypt_kms"] = counter.take("Decrypt")

    # One SDK message per field (the rejected granularity), with the cache.
    per_field = contexts(PER_FIELD_ITEMS)
    field_writer = PhiCipher(kms, ALIAS, cache=CachePolicy(max_messages=100_000))
    field_blobs: list[list[bytes]] = []
    results["per_field_encrypt"] = rate(
        PER_FIELD_ITEMS,
        lambda: field_blobs.extend(
            [field_writer.encrypt({k: v}, c) for k, v in PATIENT_PHI.items()] for c in per_field
        ),
    )
    results["per_field_decrypt"] = rate(
        PER_FIELD_ITEMS,
        lambda: [
            [field_writer.decrypt(b, c) for b in blobs_of_item]
            for blobs_of_item, c in zip(field_blobs, per_field, strict=True)
        ],
    )
    results["per_field_bytes"] = sum(len(b) for b in field_blobs[0])
    counter.take("GenerateDataKey", "Decrypt", "DescribeKey")

    # Raw AES-256-GCM of the same plaintext bytes, key cached, item binding as AAD.
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    plaintexts = [
        (
            json.dumps(PATIENT_PHI, sort_keys=True, separators=(",", ":")).encode(),
            json.dumps(c.binding(), sort_keys=True).encode(),
        )
        for c in items
    ]
    sealed: list[tuple[bytes, bytes, bytes]] = []

    def seal() -> None:
        for plaintext, aad in plaintexts:
            nonce = os.urandom(12)
            sealed.append((nonce, aead.encrypt(nonce, plaintext, aad), aad))

    results["raw_encrypt"] = rate(ITEMS, seal)
    results["raw_decrypt"] = rate(ITEMS, lambda: [aead.decrypt(n, c, a) for n, c, a in sealed])
    results["raw_bytes"] = 12 + len(sealed[0][1])
    return results


def run() -> None:
    # moto in process serves AWS's own hosts only: a local endpoint in the environment would
    # send the calls elsewhere.
    endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            r = measure()
    finally:
        if endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
    cache = CachePolicy()
    print(
        "== PHI encryption: typical patient item, 5 PHI fields (one thread = one core; "
        f"best of {ROUNDS} for the cached rows; KMS = moto in process)"
    )
    rows = [
        ("SDK, one message per item, cached keys", "cached", ITEMS, r["message_bytes"]),
        ("SDK, one message per item, no cache", "uncached", UNCACHED_ITEMS, r["message_bytes"]),
        ("SDK, one message per field, cached", "per_field", PER_FIELD_ITEMS, r["per_field_bytes"]),
        ("raw AES-256-GCM, cached key (floor)", "raw", ITEMS, r["raw_bytes"]),
    ]
    print(
        f"  {'configuration':<42} {'items':>6} {'enc items/s':>12} {'dec items/s':>12} {'bytes':>6}"
    )
    for label, key, count, size in rows:
        print(
            f"  {label:<42} {count:>6} {r[key + '_encrypt']:>12,.0f} "
            f"{r[key + '_decrypt']:>12,.0f} {size:>6}"
        )
    encrypt_calls = r["cached_encrypt_kms"] * 10_000 / ITEMS
    decrypt_calls = r["cached_decrypt_kms"] * 10_000 / ITEMS
    print(
        f"  KMS calls per 10,000 items ({CLINICS} clinics, cache max age "
        f"{cache.max_age_seconds:.0f} s, max {cache.max_messages} messages per key): "
        f"{encrypt_calls:.0f} GenerateDataKey writing, {decrypt_calls:.0f} Decrypt reading "
        f"(uncached: {r['uncached_encrypt_kms'] * 10_000 // UNCACHED_ITEMS:,} each way)"
    )
    fast = min(r["cached_encrypt"], r["cached_decrypt"]) >= GOAL_ITEMS_PER_SECOND
    bounded = max(r["cached_encrypt_kms"], r["cached_decrypt_kms"]) <= CLINICS
    print(
        f"  goal >= {GOAL_ITEMS_PER_SECOND:,} items/s per core each way with the cache: "
        f"{'met' if fast else 'NOT met'}; goal <= 1 KMS call per clinic per cache window: "
        f"{'met' if bounded else 'NOT met'}"
    )
