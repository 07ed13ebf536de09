"""The pack config files and the pack's own checks of them."""

from __future__ import annotations

import json

import pytest
from hipaa_guardrails import docs
from hipaa_guardrails.pack_config import PackConfigError, load_pack_config, main, parse_pack_config

CONFIG_DIR = docs.CONFIG_DIR


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_are_valid(stack):
    config = load_pack_config(CONFIG_DIR / f"{stack}.json")
    assert config.policies["hipaa-exemptions-reported"].enforcement_level == "advisory"
    assert config.exemptions() == []


def test_prod_requires_what_dev_relaxes():
    dev = load_pack_config(CONFIG_DIR / "dev.json").policies
    prod = load_pack_config(CONFIG_DIR / "prod.json").policies
    for name in (
        "hipaa-backup-cross-region-copy",
        "hipaa-backup-vault-locked",
        "hipaa-stack-data-resources-protected",
    ):
        assert prod[name].properties["required"] is True
        assert dev[name].properties["required"] is False
        assert dev[name].enforcement_level == prod[name].enforcement_level == "mandatory"
    assert prod["hipaa-dynamodb-pitr-enabled"].properties["minRecoveryPeriodDays"] == 35


def test_deviations_list_every_departure_from_the_defaults():
    dev = load_pack_config(CONFIG_DIR / "dev.json")
    assert "hipaa-backup-vault-locked: required = false (default true)" in dev.deviations()
    assert load_pack_config(CONFIG_DIR / "prod.json").deviations() == [
        'hipaa-dynamodb-stream-view-allowed: allowedViewTypes = ["NEW_AND_OLD_IMAGES"] '
        '(default ["KEYS_ONLY"])'
    ]


def test_reconciles_like_the_cli():
    config = parse_pack_config(
        {
            "all": "mandatory",
            "hipaa-iam-no-inline-policies": "advisory",
            "hipaa-dynamodb-stream-view-allowed": {"allowedViewTypes": ["NEW_IMAGE"]},
        },
        "test.json",
    )
    policies = config.policies
    assert policies["hipaa-dynamodb-on-demand-or-autoscaled"].enforcement_level == "mandatory"
    assert policies["hipaa-iam-no-inline-policies"].enforcement_level == "advisory"
    assert policies["hipaa-dynamodb-stream-view-allowed"].enforcement_level == "mandatory"
    assert policies["hipaa-dynamodb-stream-view-allowed"].properties == {
        "allowedViewTypes": ["NEW_IMAGE"],
        "exemptions": [],
    }
    cli = config.as_cli_config()["hipaa-kms-key-deletion-guarded"]
    assert cli == {
        "enforcementLevel": "mandatory",
        "properties": {"minDeletionWindowDays": 30, "exemptions": []},
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "test.json: the pack config must be a JSON object of policy names"),
        ({"hipaa-dynamodb-pitr": "mandatory"}, "test.json: hipaa-dynamodb-pitr: no such policy"),
        ({"hipaa-dynamodb-pitr-enabled": "strict"}, '"strict" is not one of advisory, mandatory'),
        ({"hipaa-dynamodb-pitr-enabled": 3}, "must be an enforcement level or an object, got 3"),
        ({"all": "advisory"}, "'all' may only be 'mandatory'"),
        ({"all": {"minRetentionDays": 3}}, "'all' takes only an enforcement level"),
        ({"hipaa-exemptions-reported": "disabled"}, "the exemption reporter cannot be configured"),
        (
            {"hipaa-dynamodb-pitr-enabled": {"minRecoveryPeriodDays": 90}},
            "pitr-enabled.minRecoveryPeriodDays: 90 is greater than the maximum of 35",
        ),
        (
            {"hipaa-dynamodb-pitr-enabled": {"minRecovery": 7}},
            "allowed keys: enforcementLevel, minRecoveryPeriodDays, exemptions",
        ),
        (
            {"hipaa-dynamodb-pitr-enabled": {"exemptions": [{"resource": "t", "reason": "x"}]}},
            "'ticket' is a required property",
        ),
        (
            {
                "hipaa-dynamodb-pitr-enabled": {
                    "exemptions": [
                        {
                            "resource": "t",
                            "reason": "A sentence long enough to review.",
                            "ticket": "sec 1",
                            "expires": "2027-01-01",
                        }
                    ]
                }
            },
            "exemptions[0].ticket: 'sec 1' does not match",
        ),
        (
            {
                "hipaa-dynamodb-pitr-enabled": {
                    "exemptions": [
                        {
                            "resource": "t",
                            "reason": "A sentence long enough to review.",
                            "ticket": "SEC-1",
                            "expires": "2027-02-30",
                        }
                    ]
                }
            },
            "'2027-02-30' is not a calendar date",
        ),
    ],
)
def test_bad_config_gets_a_clear_error(document, message):
    with pytest.raises(PackConfigError) as error:
        parse_pack_config(document, "test.json")
    assert message in str(error.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(PackConfigError) as error:
        parse_pack_config({"nope": "mandatory", "all": "disabled"}, "test.json")
    lines = str(error.value).splitlines()
    assert lines[0] == "invalid pack config:"
    assert len(lines) == 3


def test_unreadable_and_malformed_files(tmp_path):
    with pytest.raises(PackConfigError, match="cannot read the pack config"):
        load_pack_config(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"all": "mandatory",}')
    expected = "not valid JSON at line 1, column 21: Expecting property name"
    with pytest.raises(PackConfigError, match=expected):
        load_pack_config(bad)


def test_cli_reports_and_exits_2_on_bad_config(tmp_path, capsys):
    good = tmp_path / "good.json"
    exempted = {
        "resource": "app-table",
        "reason": "Restored copy for an incident review, deleted after.",
        "ticket": "SEC-7",
        "expires": "2027-01-15",
    }
    good.write_text(json.dumps({"hipaa-dynamodb-pitr-enabled": {"exemptions": [exempted]}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nope": "mandatory"}))
    assert main([str(good)]) == 0
    out = capsys.readouterr().out
    assert (
        "exemption  hipaa-dynamodb-pitr-enabled on app-table (ticket SEC-7, expires 2027-01-15"
        in out
    )
    assert main([str(good), str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: invalid pack config:")
    assert "Traceback" not in err
