"""--policy-pack-config handled as the CLI handles it: parse, reconcile, validate."""

from __future__ import annotations

import pytest

from tools.gate.pack_config import (
    PackConfigError,
    PolicyConfig,
    PolicySchema,
    load_pack_config,
    parse_pack_config,
    reconcile,
)

TAGS = PolicySchema(
    name="required-tags",
    enforcement_level="advisory",
    properties={
        "requiredTags": {"type": "array", "items": {"type": "string"}, "default": ["Owner"]}
    },
    required=(),
)
PITR = PolicySchema(
    name="pitr",
    enforcement_level="mandatory",
    properties={"minDays": {"type": "integer", "minimum": 1}},
    required=("minDays",),
)


def test_values_are_levels_or_objects_and_empty_entries_are_dropped():
    parsed = parse_pack_config(
        {"a": "mandatory", "b": {"enforcementLevel": "disabled", "x": 1}, "c": {}, "d": {"y": [2]}},
        "cfg.json",
    )
    assert parsed == {
        "a": PolicyConfig("mandatory", None),
        "b": PolicyConfig("disabled", {"x": 1}),
        "d": PolicyConfig("", {"y": [2]}),
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"a": "blocking"},
            'cfg.json: a: "blocking" is not an enforcement level (allowed: advisory,',
        ),
        (
            {"a": {"enforcementLevel": 1}},
            "cfg.json: a.enforcementLevel: 1 is not an enforcement level",
        ),
        (
            {"a": 3},
            "cfg.json: a: 3 is not a valid value; must be an enforcement level string or an object",
        ),
        ([1], "cfg.json: expected a JSON object keyed by policy name or 'all'"),
    ],
)
def test_bad_values_are_named(document, message):
    with pytest.raises(PackConfigError) as caught:
        parse_pack_config(document, "cfg.json")
    assert str(caught.value).startswith(message)


def test_defaults_then_initial_config_then_all_then_per_policy():
    result = reconcile(
        [TAGS, PITR],
        {"pitr": PolicyConfig("", {"minDays": 7})},
        {"all": PolicyConfig("advisory", None), "pitr": PolicyConfig("mandatory", {"minDays": 35})},
        "cfg.json",
    )
    assert result["required-tags"] == PolicyConfig("advisory", {"requiredTags": ["Owner"]})
    assert result["pitr"] == PolicyConfig("mandatory", {"minDays": 35})
    # The CLI passes the "all" entry on to Configure too.
    assert result["all"] == PolicyConfig("advisory", None)


def test_initial_config_alone_fills_required_properties():
    result = reconcile([PITR], {"pitr": PolicyConfig("", {"minDays": 7})}, {}, "cfg.json")
    assert result == {"pitr": PolicyConfig("mandatory", {"minDays": 7})}


def test_properties_are_validated_against_each_policy_schema():
    with pytest.raises(PackConfigError) as caught:
        reconcile(
            [TAGS, PITR],
            {},
            {"required-tags": PolicyConfig("", {"requiredTags": "Owner"})},
            "cfg.json",
        )
    assert str(caught.value).splitlines() == [
        "cfg.json: invalid policy pack configuration:",
        "  required-tags.requiredTags: 'Owner' is not of type 'array'",
        "  pitr: 'minDays' is a required property",
    ]


def test_a_key_naming_no_policy_is_passed_on_for_the_pack_to_judge():
    # The CLI's applyConfig copies every key of the file into what Configure receives; the pack,
    # not the CLI, decides whether a name it does not know is an error.
    result = reconcile([TAGS], {}, {"tags": PolicyConfig("mandatory", None)}, "cfg.json")
    assert result == {
        "required-tags": PolicyConfig("advisory", {"requiredTags": ["Owner"]}),
        "tags": PolicyConfig("mandatory", None),
    }


def test_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    assert load_pack_config(empty) == {}
    with pytest.raises(PackConfigError, match="no such pack config file"):
        load_pack_config(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{'a': 1}")
    with pytest.raises(PackConfigError, match=r"bad.json: not JSON \(line 1, column 2"):
        load_pack_config(bad)
