"""Lookup beacons: normalization, per-clinic and per-purpose keys, one KMS call per clinic."""

from __future__ import annotations

import pytest

from datalayer.beacons import (
    BEACON_KEY_PURPOSE,
    BeaconError,
    BeaconKeyring,
    IdentifierKind,
    normalize,
)
from tests.datalayer.support import LocalEnv, watch

EMAIL = IdentifierKind.EMAIL
PHONE = IdentifierKind.PHONE
EXTERNAL = IdentifierKind.EXTERNAL


@pytest.mark.parametrize(
    ("kind", "typed", "normalized"),
    [
        (EMAIL, "  Avery.Example@Example.TEST ", "avery.example@example.test"),
        # Full-width letters, as some keyboards type them: NFKC folds them.
        (EMAIL, "\uff41\uff56\uff45\uff52\uff59@example.test", "avery@example.test"),
        (PHONE, "(201) 555-0142", "+12015550142"),
        (PHONE, "1 201 555 0142", "+12015550142"),
        (PHONE, "+44 20 7946 0958", "+442079460958"),
        (EXTERNAL, " mrn-0042 ", "MRN-0042"),
    ],
)
def test_normalize(kind: IdentifierKind, typed: str, normalized: str) -> None:
    assert normalize(kind, typed) == normalized


@pytest.mark.parametrize(
    ("kind", "typed", "message"),
    [
        (EMAIL, "not-an-email", "email is not of the form name@domain.tld"),
        (PHONE, "555-0142", "phone number needs a country code"),
        (PHONE, "+12", "phone number is not E.164"),
        (EXTERNAL, "   ", "external id is empty"),
    ],
)
def test_bad_identifiers_are_refused_without_echoing_the_value(
    kind: IdentifierKind, typed: str, message: str
) -> None:
    with pytest.raises(BeaconError) as err:
        normalize(kind, typed)
    assert message in str(err.value)
    if typed.strip():
        assert typed.strip() not in str(err.value)


def test_beacons_match_within_a_clinic_and_differ_across_clinics_and_purposes(
    dev_env: LocalEnv,
) -> None:
    ring = BeaconKeyring(dev_env.kms, dev_env.cfg.names.key_alias("phi"))
    for clinic in ("a", "b"):
        ring.wrapped_root_key(clinic)
    same = ring.beacon("a", EMAIL, "Avery@Example.test")
    assert same == ring.beacon("a", EMAIL, " avery@example.test")
    assert len(same) == 32
    assert int(same, 16) >= 0  # hex
    assert same != ring.beacon("b", EMAIL, "avery@example.test")
    assert ring.beacon("a", EXTERNAL, "X1", system="ehr-mrn") != ring.beacon(
        "a", EXTERNAL, "X1", system="insurance-member"
    )
    assert ring.lookup_key("a", EXTERNAL, "x1", system="ehr-mrn") == (
        "CLINIC#a#EXTERNAL#ehr-mrn#" + ring.beacon("a", EXTERNAL, "X1", system="ehr-mrn")
    )
    assert ring.lookup_key("a", PHONE, "+12015550142").startswith("CLINIC#a#PHONE#")


def test_one_kms_call_per_clinic_per_process(dev_env: LocalEnv) -> None:
    alias = dev_env.cfg.names.key_alias("phi")
    writer = BeaconKeyring(dev_env.kms, alias)
    stored = {clinic: writer.wrapped_root_key(clinic) for clinic in ("a", "b", "c")}
    expected = {c: writer.beacon(c, EMAIL, f"p{i}@example.test") for i, c in enumerate(stored)}

    log = watch(dev_env.kms)
    reader = BeaconKeyring(dev_env.kms, alias, stored.get)
    for _ in range(50):
        for i, clinic in enumerate(stored):
            assert reader.beacon(clinic, EMAIL, f"p{i}@example.test") == expected[clinic]
            reader.beacon(clinic, PHONE, "+12015550142")
    assert log.count() == {"Decrypt": 3}
    for _, params in log.calls:
        clinic = params["EncryptionContext"]["clinicId"]
        assert params["EncryptionContext"] == {"clinicId": clinic, "purpose": BEACON_KEY_PURPOSE}


def test_a_wrapped_key_does_not_unwrap_as_another_clinics(dev_env: LocalEnv) -> None:
    alias = dev_env.cfg.names.key_alias("phi")
    wrapped_a = BeaconKeyring(dev_env.kms, alias).wrapped_root_key("a")
    thief = BeaconKeyring(dev_env.kms, alias, lambda clinic: wrapped_a)
    with pytest.raises(BeaconError, match="cannot unwrap the beacon key of clinic b"):
        thief.beacon("b", EMAIL, "avery@example.test")


def test_a_clinic_without_a_key_is_an_error_not_a_new_key(dev_env: LocalEnv) -> None:
    ring = BeaconKeyring(dev_env.kms, dev_env.cfg.names.key_alias("phi"), lambda clinic: None)
    log = watch(dev_env.kms)
    with pytest.raises(BeaconError, match="clinic z has no beacon key"):
        ring.lookup_key("z", EMAIL, "avery@example.test")
    assert log.names() == []


@pytest.mark.parametrize(
    ("kind", "system"), [(EXTERNAL, None), (EXTERNAL, "EHR MRN"), (EMAIL, "ehr-mrn")]
)
def test_system_names(dev_env: LocalEnv, kind: IdentifierKind, system: str | None) -> None:
    ring = BeaconKeyring(dev_env.kms, dev_env.cfg.names.key_alias("phi"))
    ring.wrapped_root_key("a")
    with pytest.raises(BeaconError):
        ring.beacon("a", kind, "v@x.test", system=system)
