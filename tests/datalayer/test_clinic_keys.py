"""Per-clinic PHI keys: created at onboarding with the PHI key's policy, tags and rotation; each
clinic's PHI is under its own key, readable by a stock Encryption SDK reader with that key, and
not by another clinic's key or context."""

from __future__ import annotations

import json

import aws_encryption_sdk
import pytest
from aws_encryption_sdk.identifiers import CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import StrictAwsKmsMasterKeyProvider

from datalayer.clinic_keys import describe_clinic_key, ensure_clinic_key
from datalayer.phi import ClinicKeyring, ItemContext, PhiContextMismatch, PhiError
from tests.datalayer.support import LocalEnv

FIELDS = {"fullName": "Avery Example", "dateOfBirth": "1984-03-12"}


def ctx(clinic: str, patient: str = "p1") -> ItemContext:
    return ItemContext(
        clinic_id=clinic,
        entity_type="PATIENT",
        pk=f"CLINIC#{clinic}#PATIENT#{patient}",
        sk="PROFILE",
    )


@pytest.fixture
def keyring(dev_env: LocalEnv) -> ClinicKeyring:
    for clinic in ("clinic-a", "clinic-b"):
        ensure_clinic_key(dev_env.kms, dev_env.cfg, clinic)
    return ClinicKeyring(dev_env.kms, dev_env.cfg.names.clinic_key_alias)


def test_onboarding_creates_the_clinic_key_once_with_policy_tags_and_rotation(
    dev_env: LocalEnv,
) -> None:
    kms, cfg = dev_env.kms, dev_env.cfg
    key = ensure_clinic_key(kms, cfg, "clinic-a")
    assert key.created
    assert key.alias == "alias/medeez-dev-phi-clinic-clinic-a"
    assert ensure_clinic_key(kms, cfg, "clinic-a") == describe_clinic_key(kms, cfg, "clinic-a")
    assert not ensure_clinic_key(kms, cfg, "clinic-a").created
    tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=key.key_id)["Tags"]}
    assert tags == {**cfg.tags.as_dict(), "clinicId": "clinic-a"}
    assert kms.get_key_rotation_status(KeyId=key.key_id)["KeyRotationEnabled"] is True
    policy = json.loads(kms.get_key_policy(KeyId=key.key_id, PolicyName="default")["Policy"])
    deny = next(s for s in policy["Statement"] if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Null": {"kms:EncryptionContext:clinicId": "true"}}
    assert describe_clinic_key(kms, cfg, "never-onboarded") is None


def test_each_clinic_round_trips_under_its_own_key(
    dev_env: LocalEnv, keyring: ClinicKeyring
) -> None:
    a, b = ctx("clinic-a"), ctx("clinic-b")
    blob_a, blob_b = keyring.encrypt(FIELDS, a), keyring.encrypt(FIELDS, b)
    cold = ClinicKeyring(dev_env.kms, dev_env.cfg.names.clinic_key_alias)
    assert cold.decrypt(blob_a, a) == FIELDS
    assert cold.decrypt(blob_b, b) == FIELDS
    assert keyring.cipher("clinic-a").key_arn != keyring.cipher("clinic-b").key_arn


def test_a_stock_sdk_reader_decrypts_with_the_clinic_key_named_in_the_message(
    dev_env: LocalEnv, keyring: ClinicKeyring
) -> None:
    blob = keyring.encrypt(FIELDS, ctx("clinic-a"))
    arn = keyring.cipher("clinic-a").key_arn
    stock = aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )
    plaintext, header = stock.decrypt(
        source=blob, key_provider=StrictAwsKmsMasterKeyProvider(key_ids=[arn])
    )
    assert json.loads(plaintext)["phi"] == FIELDS
    assert header.encryption_context == {"clinicId": "clinic-a"}
    assert {k.key_provider.key_info.decode() for k in header.encrypted_data_keys} == {arn}


def test_clinic_a_ciphertext_does_not_decrypt_under_clinic_b_key_or_context(
    keyring: ClinicKeyring,
) -> None:
    blob = keyring.encrypt(FIELDS, ctx("clinic-a"))
    # B's key with A's context: B's key cannot unwrap a data key A's key wrapped.
    with pytest.raises(PhiError, match="cannot decrypt"):
        keyring.cipher("clinic-b").decrypt(blob, ctx("clinic-a"))
    # Presented as B's item: refused by B's context guard before any key is used.
    with pytest.raises(PhiContextMismatch, match="clinicId"):
        keyring.decrypt(blob, ctx("clinic-b"))


def test_a_clinic_without_a_key_is_refused(keyring: ClinicKeyring) -> None:
    with pytest.raises(PhiError, match="alias/medeez-dev-phi-clinic-clinic-z is not usable"):
        keyring.encrypt(FIELDS, ctx("clinic-z"))
