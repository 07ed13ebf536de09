"""Plan values reach the pack as the engine marshals them (unknowns, secrets, outputs, refs)."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tools.gate.wire import (
    OUTPUT_VALUE_SIG,
    RESOURCE_REFERENCE_SIG,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    cli_config_env,
    engine_value,
    to_struct,
)


def _as_pack_sees(properties):
    """Exactly what the SDK's Analyze does with the Struct it receives."""
    return deserialize_properties(json_format.MessageToDict(to_struct(properties)))


def test_plain_values_round_trip_with_numbers_as_doubles():
    seen = _as_pack_sees({"name": "t", "enabled": True, "days": 7, "tags": {"a": "b"}, "x": None})
    assert seen == {"name": "t", "enabled": True, "days": 7.0, "tags": {"a": "b"}, "x": None}


def test_an_unknown_stays_unknown_for_the_policy():
    props = unknown_checking_proxy(_as_pack_sees({"kmsMasterKeyId": UNKNOWN, "name": "t"}))
    assert props["name"] == "t"
    with pytest.raises(UnknownValueError):
        _ = props["kmsMasterKeyId"]


def test_a_secret_stays_a_secret_and_internal_keys_are_not_sent():
    value = {"password": {SIG_KEY: SECRET_SIG, "value": "hunter2"}, "__defaults": ["name"]}
    assert engine_value(value) == {"password": {SIG_KEY: SECRET_SIG, "value": "hunter2"}}
    wire = json_format.MessageToDict(to_struct(value))
    assert wire == {"password": {SIG_KEY: SECRET_SIG, "value": "hunter2"}}
    # The SDK unwraps the secret for Analyze: the policy reads the value.
    assert deserialize_properties(wire) == {"password": "hunter2"}


def test_output_values_and_resource_references_are_reduced_as_the_engine_does():
    known = {SIG_KEY: OUTPUT_VALUE_SIG, "value": "arn:aws:sns:::t", "dependencies": ["urn:x"]}
    unknown = {SIG_KEY: OUTPUT_VALUE_SIG, "dependencies": ["urn:x"]}
    secret = {SIG_KEY: OUTPUT_VALUE_SIG, "value": "s", "secret": True}
    custom_ref = {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": "urn:k", "id": "key-123"}
    component_ref = {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": "urn:c"}
    pending_ref = {SIG_KEY: RESOURCE_REFERENCE_SIG, "urn": "urn:k", "id": ""}
    assert engine_value([known, unknown, secret, custom_ref, component_ref, pending_ref]) == [
        "arn:aws:sns:::t",
        UNKNOWN,
        {SIG_KEY: SECRET_SIG, "value": "s"},
        "key-123",
        "urn:c",
        UNKNOWN,
    ]


def test_non_json_values_are_refused():
    with pytest.raises(TypeError, match="set is not a plan value"):
        engine_value({"x": {1, 2}})


def test_stack_config_reaches_the_pack_as_cli_strings():
    config = {"aws:region": "us-east-1", "medeez-platform:tags": {"Owner": "platform"}}
    assert cli_config_env(config) == {
        "aws:region": "us-east-1",
        "medeez-platform:tags": '{"Owner":"platform"}',
    }


def test_remediate_requests_keep_internal_keys():
    value = {"name": "t", "__defaults": ["name"]}
    assert engine_value(value, skip_internal=False) == value
    assert json_format.MessageToDict(to_struct(value, skip_internal=False)) == value
