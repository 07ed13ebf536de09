"""PHI envelope encryption: round trip, binding to clinic and item, tamper detection, the SDK
message format, and KMS calls bounded by clinics (not records)."""

from __future__ import annotations

import json

import aws_encryption_sdk
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider

from datalayer.phi import (
    PHI_ALGORITHM,
    CachePolicy,
    ItemContext,
    PhiCipher,
    PhiContextMismatch,
    PhiError,
)
from tests.datalayer.support import LocalEnv, watch

FIELDS = {
    "fullName": "Avery Example",
    "dateOfBirth": "1984-03-12",
    "email": "avery.example@example.test",
    "phone": "+12015550142",
    "address": "12 Elm Street, Springfield, IL 62701",
}


def ctx(clinic: str = "clinic-a", patient: str = "p1") -> ItemContext:
    return ItemContext(
        clinic_id=clinic,
        entity_type="PATIENT",
        pk=f"CLINIC#{clinic}#PATIENT#{patient}",
        sk="PROFILE",
    )


@pytest.fixture
def cipher(dev_env: LocalEnv) -> PhiCipher:
    return PhiCipher(dev_env.kms, dev_env.cfg.names.key_alias("phi"))


def test_round_trip_through_a_cold_reader(dev_env: LocalEnv, cipher: PhiCipher) -> None:
    blob = cipher.encrypt(FIELDS, ctx())
    reader = PhiCipher(dev_env.kms, dev_env.cfg.names.key_alias("phi"))
    assert reader.decrypt(blob, ctx()) == FIELDS
    assert b"avery" not in blob.lower()
    assert b"1984" not in blob


def test_message_is_the_sdk_format_any_encryption_sdk_reader_decrypts(
    dev_env: LocalEnv, cipher: PhiCipher
) -> None:
    blob = cipher.encrypt(FIELDS, ctx())
    # A stock reader: the SDK's own strict KMS provider, no custom materials manager.
    client = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    provider = StrictAwsKmsMasterKeyProvider(key_ids=[dev_env.phi_key_arn])
    plaintext, header = client.decrypt(source=blob, key_provider=provider)
    assert header.algorithm == PHI_ALGORITHM  # committing AES-256-GCM, unsigned
    assert header.encryption_context == {"clinicId": "clinic-a"}
    envelope = json.loads(plaintext)
    assert envelope == {
        "item": {
            "clinicId": "clinic-a",
            "entityType": "PATIENT",
            "PK": "CLINIC#clinic-a#PATIENT#p1",
            "SK": "PROFILE",
        },
        "phi": FIELDS,
    }


def test_another_clinics_context_is_refused_before_any_key_is_used(
    dev_env: LocalEnv, cipher: PhiCipher
) -> None:
    blob = cipher.encrypt(FIELDS, ctx("clinic-a"))
    reader = PhiCipher(dev_env.kms, dev_env.cfg.names.key_alias("phi"))
    log = watch(dev_env.kms)
    with pytest.raises(PhiContextMismatch) as err:
        reader.decrypt(blob, ctx("clinic-b"))
    assert "clinicId (expected 'clinic-b', found 'clinic-a')" in str(err.value)
    assert log.names() == []  # refused before KMS Decrypt


def test_a_message_copied_into_another_item_of_the_same_clinic_is_refused(
    cipher: PhiCipher,
) -> None:
    blob = cipher.encrypt(FIELDS, ctx(patient="p1"))
    with pytest.raises(PhiContextMismatch) as err:
        cipher.decrypt(blob, ctx(patient="p2"))
    assert str(err.value) == (
        "PHI message is bound to another item: PK (expected 'CLINIC#clinic-a#PATIENT#p2', "
        "found 'CLINIC#clinic-a#PATIENT#p1')"
    )


def test_a_message_of_another_entity_type_is_refused(cipher: PhiCipher) -> None:
    blob = cipher.encrypt(FIELDS, ctx())
    other = ItemContext(
        clinic_id="clinic-a", entity_type="NOTE", pk="CLINIC#clinic-a#PATIENT#p1", sk="PROFILE"
    )
    with pytest.raises(PhiContextMismatch, match="entityType"):
        cipher.decrypt(blob, other)


@pytest.mark.parametrize("where", ["body", "tag", "header"])
def test_a_tampered_message_fails(cipher: PhiCipher, where: str) -> None:
    blob = bytearray(cipher.encrypt(FIELDS, ctx()))
    position = {"body": len(blob) - 40, "tag": len(blob) - 1, "header": 30}[where]
    blob[position] ^= 0x01
    with pytest.raises(PhiError) as err:
        cipher.decrypt(bytes(blob), ctx())
    assert "Avery" not in str(err.value)


def test_a_truncated_message_fails(cipher: PhiCipher) -> None:
    blob = cipher.encrypt(FIELDS, ctx())
    with pytest.raises(PhiError):
        cipher.decrypt(blob[:-20], ctx())


def test_kms_calls_grow_with_clinics_not_records(dev_env: LocalEnv) -> None:
    alias = dev_env.cfg.names.key_alias("phi")
    writer = PhiCipher(dev_env.kms, alias)
    log = watch(dev_env.kms)
    contexts = [ctx(f"clinic-{i % 3}", f"p{i}") for i in range(300)]
    blobs = [writer.encrypt(FIELDS, c) for c in contexts]
    assert log.count() == {"GenerateDataKey": 3}
    log.clear()
    reader = PhiCipher(dev_env.kms, alias)
    assert all(reader.decrypt(b, c) == FIELDS for b, c in zip(blobs, contexts, strict=True))
    assert log.count() == {"DescribeKey": 1, "Decrypt": 3}
    # The key policy requires clinicId on every call; KMS sees the clinic and nothing else.
    assert {tuple(sorted(p["EncryptionContext"])) for n, p in log.calls if n == "Decrypt"} == {
        ("clinicId",)
    }


def test_max_messages_bounds_how_long_one_data_key_is_used(dev_env: LocalEnv) -> None:
    cipher = PhiCipher(
        dev_env.kms, dev_env.cfg.names.key_alias("phi"), cache=CachePolicy(max_messages=10)
    )
    log = watch(dev_env.kms)
    for i in range(25):
        cipher.encrypt(FIELDS, ctx(patient=f"p{i}"))
    assert log.count() == {"GenerateDataKey": 3}


def test_without_the_cache_every_message_calls_kms(dev_env: LocalEnv) -> None:
    cipher = PhiCipher(dev_env.kms, dev_env.cfg.names.key_alias("phi"), cache=None)
    log = watch(dev_env.kms)
    for i in range(5):
        cipher.encrypt(FIELDS, ctx(patient=f"p{i}"))
    assert log.count() == {"GenerateDataKey": 5}


def test_an_unknown_key_is_a_clear_error(dev_env: LocalEnv) -> None:
    with pytest.raises(PhiError, match="PHI key alias/medeez-dev-nope is not usable"):
        PhiCipher(dev_env.kms, "alias/medeez-dev-nope")


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ({"max_age_seconds": 0}, "max_age_seconds must be > 0"),
        ({"max_messages": 0}, "max_messages must lie in 1..2**32"),
        ({"max_messages": 2**32 + 1}, "max_messages must lie in 1..2**32"),
        ({"capacity": 0}, "capacity must be >= 1"),
    ],
)
def test_cache_policy_bounds(policy: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        CachePolicy(**policy)  # type: ignore[arg-type]
