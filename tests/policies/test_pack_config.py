"""The pack config: the CLI's semantics (the gate's one implementation), then the pack's own checks
on the result, run by the pack in ``Configure`` (so `pulumi preview` refuses what the gate does)."""

from __future__ import annotations

import json

import pytest
from hipaa_guardrails import docs, exemptions

from tests.policies.in_process import InProcessPack
from tools.gate.pack_config import PackConfigError
from tools.gate.pack_process import PackRejected
from tools.gate.protocol import configure_request

CONFIG_DIR = docs.CONFIG_DIR
GOOD_EXEMPTION = {
    "resource": "t",
    "reason": "A sentence long enough to review.",
    "ticket": "SEC-1",
    "expires": "2027-01-01",
}


@pytest.fixture(scope="module")
def pack() -> InProcessPack:
    return InProcessPack()


def _configure(pack, document):
    """What `pulumi preview --policy-pack-config` does with ``document``: reconcile, Configure."""
    config = pack.reconcile(document)
    pack.call("Configure", configure_request(config))
    return config


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_stack_configs_are_accepted(pack, stack):
    config = _configure(pack, json.loads((CONFIG_DIR / f"{stack}.json").read_text()))
    assert config["hipaa-exemptions-reported"].enforcement_level == "advisory"
    exempted = {
        (name, e["resource"])
        for name, c in config.items()
        for e in (c.properties or {}).get("exemptions", [])
    }
    # The only standing exemptions: the one cross-tenant reader (issue 10) and the boundary
    # that must carry its grants. Anything else needs a ticket of its own and this test changed.
    assert exempted == {
        ("hipaa-iam-tenant-leading-keys", "access-operations-policy"),
        ("hipaa-iam-tenant-leading-keys", "access-boundary"),
    }


def test_prod_requires_what_dev_relaxes(pack):
    dev = pack.reconcile(json.loads((CONFIG_DIR / "dev.json").read_text()))
    prod = pack.reconcile(json.loads((CONFIG_DIR / "prod.json").read_text()))
    for name in (
        "hipaa-backup-cross-region-copy",
        "hipaa-backup-vault-locked",
        "hipaa-stack-data-resources-protected",
    ):
        assert prod[name].properties["required"] is True
        assert dev[name].properties["required"] is False
        assert dev[name].enforcement_level == prod[name].enforcement_level == "mandatory"
    assert prod["hipaa-dynamodb-pitr-enabled"].properties["minRecoveryPeriodDays"] == 35


def test_all_mandatory_with_the_reporter_named_advisory_is_accepted(pack):
    config = _configure(
        pack,
        {
            "all": "mandatory",
            "hipaa-exemptions-reported": "advisory",
            "hipaa-dynamodb-stream-view-allowed": {"allowedViewTypes": ["NEW_IMAGE"]},
        },
    )
    assert config["hipaa-dynamodb-on-demand-or-autoscaled"].enforcement_level == "mandatory"
    assert config["hipaa-dynamodb-stream-view-allowed"].properties == {
        "allowedViewTypes": ["NEW_IMAGE"],
        "exemptions": [],
    }


def test_a_rule_lowered_by_name_is_reported_as_a_deviation(pack):
    _configure(pack, {"hipaa-dynamodb-encrypted-with-cmk": "advisory"})
    messages = [d.message() for d in exemptions.LEDGER.drain()]
    assert messages == [
        "CONFIG DEVIATION: hipaa-dynamodb-encrypted-with-cmk runs with enforcementLevel = "
        '"advisory" (secure default "mandatory"), as set in this stack\'s pack config'
    ]


# What the CLI itself rejects (JSON Schema of each policy, levels): the gate's reconciliation.
@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "test.json: expected a JSON object keyed by policy name or 'all'"),
        ({"hipaa-dynamodb-pitr-enabled": "strict"}, '"strict" is not an enforcement level'),
        ({"hipaa-dynamodb-pitr-enabled": 3}, "3 is not a valid value; must be an enforcement"),
        (
            {"hipaa-dynamodb-pitr-enabled": {"minRecoveryPeriodDays": 90}},
            "pitr-enabled.minRecoveryPeriodDays: 90 is greater than the maximum of 35",
        ),
        (
            {"hipaa-dynamodb-pitr-enabled": {"exemptions": [{"resource": "t", "reason": "x"}]}},
            "'ticket' is a required property",
        ),
        (
            {"hipaa-dynamodb-pitr-enabled": {"exemptions": [{**GOOD_EXEMPTION, "ticket": "s 1"}]}},
            "exemptions.0.ticket: 's 1' does not match",
        ),
    ],
)
def test_what_the_cli_rejects(pack, document, message):
    with pytest.raises(PackConfigError) as error:
        _configure(pack, document)
    assert message in str(error.value)


# What passes the CLI's checks and the pack refuses in Configure, under the CLI and the gate alike.
@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"hipaa-dynamodb-pitr": "mandatory"},
            "hipaa-dynamodb-pitr: no such policy in the pack "
            "(did you mean hipaa-dynamodb-pitr-enabled?)",
        ),
        ({"all": "advisory"}, "all: 'advisory' for every policy; 'all' may only be 'mandatory'"),
        ({"all": {"minRetentionDays": 3}}, "'all' takes only an enforcement level"),
        (
            {"all": "mandatory"},
            "hipaa-exemptions-reported: runs at 'mandatory'; the exemption reporter only runs at "
            "'advisory' with no properties "
            '(with "all": "mandatory", add "hipaa-exemptions-reported": "advisory")',
        ),
        (
            {"hipaa-exemptions-reported": "disabled"},
            "hipaa-exemptions-reported: runs at 'disabled'",
        ),
        (
            {"hipaa-dynamodb-pitr-enabled": {"minRecovery": 7}},
            "hipaa-dynamodb-pitr-enabled: unknown property minRecovery; "
            "allowed keys: enforcementLevel, minRecoveryPeriodDays, exemptions",
        ),
        (
            {
                "hipaa-dynamodb-pitr-enabled": {
                    "exemptions": [{**GOOD_EXEMPTION, "expires": "2027-02-30"}]
                }
            },
            "hipaa-dynamodb-pitr-enabled.exemptions[0].expires: '2027-02-30' "
            "is not a calendar date",
        ),
    ],
)
def test_what_the_pack_rejects_in_configure(pack, document, message):
    with pytest.raises(PackRejected) as error:
        _configure(pack, document)
    assert error.value.method == "Configure"
    assert error.value.details.startswith("invalid pack config:\n  - ")
    assert message in error.value.details


def test_every_problem_is_listed_at_once(pack):
    with pytest.raises(PackRejected) as error:
        _configure(pack, {"nope": "mandatory", "all": "disabled"})
    lines = error.value.details.splitlines()
    assert lines[0] == "invalid pack config:"
    # 'all' lowers the reporter too, which is a problem of its own.
    assert [line.split(":")[0] for line in lines[1:]] == [
        "  - all",
        "  - hipaa-exemptions-reported",
        "  - nope",
    ]
