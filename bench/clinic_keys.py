"""Per-clinic cryptographic isolation: the alternatives, measured (issue 10, part 5; design in
docs/data-model.md, "Per-clinic keys and crypto-shredding").

One thread (one core), the typical patient item of ``bench.crypto``, 10 clinics interleaved,
KMS from moto in process:

- **before** (``today`` in the results): one PHI CMK for every clinic, clinic in the
  encryption context, the SDK's data-key cache (``datalayer.phi.PhiCipher``);
- **a CMK per clinic** (built: ``datalayer.phi.ClinicKeyring`` over the clinic keys'
  aliases, one ``PhiCipher`` per clinic); shredding a clinic is ``ScheduleKeyDeletion`` of its
  key (``make offboard-clinic``), which also makes every backup and PITR copy unreadable;
  a stock SDK reader (``StrictAwsKmsMasterKeyProvider``) decrypts the messages;
- **a raw AES key per clinic** (a clinic key unwrapped once under the PHI CMK, used as the SDK's
  raw AES wrapping key): no KMS per data key; a stock SDK reader needs the raw key.

The AWS KMS Hierarchical keyring (a branch key per clinic) is not installed here: measured
beside this repository at about 1,200-1,300 items/s each way with the same item shape
(../shared/reference/local-servers-audit-tenancy-facts.md, section 5), below the goal.

Goal: >= 4,000 items/s per core each way.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import aws_encryption_sdk
import boto3
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
from aws_encryption_sdk.identifiers import CommitmentPolicy, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager
from moto import mock_aws

from bench.crypto import CLINICS, GOAL_ITEMS_PER_SECOND, PATIENT_PHI, contexts
from datalayer.phi import PHI_ALGORITHM, CachePolicy, ClinicKeyring, ItemContext, PhiCipher
from stackspec.naming import StackNames

ITEMS = 10_000
ROUNDS = 3


def _rate(count: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def _round_trip(
    ciphers: dict[str, Any], items: list[ItemContext]
) -> tuple[float, float, list[bytes]]:
    blobs: list[bytes] = []
    encrypt = _rate(
        len(items),
        lambda: blobs.extend(ciphers[c.clinic_id].encrypt(PATIENT_PHI, c) for c in items),
    )
    decrypt = _rate(
        len(items),
        lambda: [ciphers[c.clinic_id].decrypt(b, c) for b, c in zip(blobs, items, strict=True)],
    )
    return encrypt, decrypt, blobs


class RawClinicCipher:
    """The SDK with one raw AES-256 wrapping key per clinic (cached data keys, as PhiCipher)."""

    def __init__(self, clinic_id: str, key: bytes) -> None:
        master = RawMasterKey(
            provider_id="medeez-clinic",
            key_id=clinic_id.encode(),
            wrapping_key=WrappingKey(
                wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
                wrapping_key=key,
                wrapping_key_type=EncryptionKeyType.SYMMETRIC,
            ),
        )
        policy = CachePolicy()
        self._cmm = CachingCryptoMaterialsManager(
            master_key_provider=master,
            cache=LocalCryptoMaterialsCache(capacity=policy.capacity),
            max_age=float(policy.max_age_seconds),
            max_messages_encrypted=policy.max_messages,
        )
        self._sdk = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
        )

    def encrypt(self, fields: dict[str, Any], context: ItemContext) -> bytes:
        plaintext = json.dumps({"item": context.binding(), "phi": fields}).encode()
        ciphertext, _ = self._sdk.encrypt(
            source=plaintext,
            materials_manager=self._cmm,
            encryption_context=context.as_encryption_context(),
            algorithm=PHI_ALGORITHM,
            frame_length=0,
        )
        return bytes(ciphertext)

    def decrypt(self, ciphertext: bytes, context: ItemContext) -> dict[str, Any]:
        plaintext, header = self._sdk.decrypt(source=ciphertext, materials_manager=self._cmm)
        if header.encryption_context != context.as_encryption_context():
            raise AssertionError("context mismatch")
        fields: dict[str, Any] = json.loads(plaintext)["phi"]
        return fields


def measure() -> dict[str, Any]:
    kms = boto3.client("kms", region_name="us-east-1")
    items = contexts(ITEMS)
    clinics = sorted({c.clinic_id for c in items})
    shared = kms.create_key(Description="phi")["KeyMetadata"]["Arn"]
    per_clinic = {c: kms.create_key(Description=f"phi {c}")["KeyMetadata"]["Arn"] for c in clinics}
    names = StackNames("bench")
    for clinic, arn in per_clinic.items():
        kms.create_alias(AliasName=names.clinic_key_alias(clinic), TargetKeyId=arn.rsplit("/")[-1])
    raw_keys = {
        c: kms.generate_data_key(
            KeyId=shared, KeySpec="AES_256", EncryptionContext={"clinicId": c}
        )["Plaintext"]
        for c in clinics
    }
    results: dict[str, Any] = {}
    last: dict[str, list[bytes]] = {}
    for _ in range(ROUNDS):
        for name, ciphers in (
            ("today", dict.fromkeys(clinics, PhiCipher(kms, shared))),
            ("cmk_per_clinic", dict.fromkeys(clinics, ClinicKeyring(kms, names.clinic_key_alias))),
            ("raw_per_clinic", {c: RawClinicCipher(c, raw_keys[c]) for c in clinics}),
        ):
            encrypt, decrypt, blobs = _round_trip(ciphers, items)
            results[f"{name}_encrypt"] = max(encrypt, results.get(f"{name}_encrypt", 0))
            results[f"{name}_decrypt"] = max(decrypt, results.get(f"{name}_decrypt", 0))
            last[name] = blobs
    # A stock SDK reader decrypts a per-clinic-CMK message with nothing of ours.
    stock = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    provider = aws_encryption_sdk.StrictAwsKmsMasterKeyProvider(
        key_ids=[per_clinic[items[0].clinic_id]]
    )
    plaintext, _ = stock.decrypt(source=last["cmk_per_clinic"][0], key_provider=provider)
    results["stock_reader_ok"] = b'"fullName"' in plaintext
    # Shredding one clinic's CMK: its messages no longer decrypt; another clinic's still do.
    victim, survivor = items[0], items[1]
    # (moto looks the key up by id only; AWS also takes the ARN); offboarding disables it too
    kms.disable_key(KeyId=per_clinic[victim.clinic_id].rsplit("/", 1)[-1])
    kms.schedule_key_deletion(
        KeyId=per_clinic[victim.clinic_id].rsplit("/", 1)[-1], PendingWindowInDays=7
    )
    fresh = {c: PhiCipher(kms, per_clinic[c]) for c in (victim.clinic_id, survivor.clinic_id)}
    try:
        fresh[victim.clinic_id].decrypt(last["cmk_per_clinic"][0], victim)
        results["shredded"] = False
    except Exception:
        results["shredded"] = True
    results["survivor_ok"] = (
        fresh[survivor.clinic_id].decrypt(last["cmk_per_clinic"][1], survivor) == PATIENT_PHI
    )
    return results


def run() -> None:
    endpoint = os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            r = measure()
    finally:
        if endpoint is not None:
            os.environ["AWS_ENDPOINT_URL"] = endpoint
    print(
        f"== Per-clinic keys: {ITEMS:,} patient items over {CLINICS} clinics, one thread, "
        f"best of {ROUNDS}; KMS = moto in process"
    )
    print(f"  {'configuration':<52} {'enc items/s':>12} {'dec items/s':>12}  goal")
    for label, key in (
        ("one PHI CMK, clinic in the context (before)", "today"),
        ("one CMK per clinic, ClinicKeyring (built)", "cmk_per_clinic"),
        ("one raw AES key per clinic, unwrapped once", "raw_per_clinic"),
    ):
        enc, dec = r[f"{key}_encrypt"], r[f"{key}_decrypt"]
        met = "met" if min(enc, dec) >= GOAL_ITEMS_PER_SECOND else "NOT met"
        print(f"  {label:<52} {enc:>12,.0f} {dec:>12,.0f}  {met}")
    print(
        "  Hierarchical keyring (branch key per clinic): ~1,200-1,300 each way, measured "
        "outside this repo (not installed): NOT met"
    )
    refused = (
        "refused"
        if r["shredded"]
        else "still decrypted by moto, which does not refuse a disabled key or one pending "
        "deletion (AWS answers DisabledException / KMSInvalidStateException)"
    )
    print(
        f"  stock SDK reader decrypts a per-clinic-CMK message: {r['stock_reader_ok']}; after "
        f"DisableKey + ScheduleKeyDeletion the clinic's messages are {refused}; another "
        f"clinic's still decrypt: {r['survivor_ok']}"
    )
