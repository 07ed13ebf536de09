"""The analyzer driver against a real pack process (tests/gate/fixture_pack), over gRPC.

One pack process serves the whole module, as one serves a whole ``pulumi preview``; each test
re-sends ``Configure`` so no test depends on another's configuration.
"""

from __future__ import annotations

import copy
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.gate.plans import (
    ALARM,
    BACKUP_PLAN,
    COMPONENT,
    KEY,
    STACK_URN,
    TABLE,
    TOPIC,
    UNKNOWN,
    compliant_plan,
    find,
)
from tools.gate.pack_config import PolicyConfig, load_pack_config, reconcile
from tools.gate.pack_process import PackError, PolicyPackProcess, pack_command
from tools.gate.plan_input import parse_plan
from tools.gate.registrations import registrations
from tools.gate.run_loop import run_pack

FIXTURE_PACK = Path(__file__).parent / "fixture_pack"


@pytest.fixture(scope="module")
def pack():
    process = PolicyPackProcess(
        FIXTURE_PACK,
        project="medeez-platform",
        stack="dev",
        stack_config={"aws:region": "us-east-1"},
        stack_tags={"pulumi:project": "medeez-platform", "pulumi:runtime": "python"},
    )
    with process:
        yield process
    assert process.returncode == 0, "the pack did not exit cleanly on SIGINT"


def _run(pack, document, file_config=None):
    info = pack.info()
    config = reconcile(
        [p.schema() for p in info.policies], info.initial_config, file_config or {}, "t"
    )
    return run_pack(pack, parse_plan(document), config, info, {"aws:region": "us-east-1"})


def _found(run):
    return sorted((d.policy_name, d.urn, d.enforcement_level, d.severity) for d in run.diagnostics)


def test_analyzer_info_carries_each_policy_metadata(pack):
    info = pack.info()
    assert info.name == "gate-fixture"
    assert info.version == "0.3.0"  # PulumiPolicy.yaml wins over the SDK's 0.0.1, as in the CLI
    assert info.sdk_version == "1.21.0"
    pitr = info.policy("fixture-table-pitr")
    assert pitr is not None
    assert (pitr.enforcement_level, pitr.severity, pitr.policy_type) == (
        "mandatory",
        "high",
        "resource",
    )
    assert pitr.citation == "164.308(a)(7)(ii)(A)"
    assert pitr.framework == "HIPAA Security Rule"
    assert pitr.remediation == "Set pointInTimeRecovery.enabled to true."
    assert pitr.url == "https://example.invalid/fixture-table-pitr"
    topic = info.policy("fixture-topic-encrypted")
    assert topic is not None
    assert topic.citation == "164.312(a)(2)(iv)"  # from the hipaa: tag when there is no framework
    assert info.policy("fixture-alarms-route-to-topic").policy_type == "stack"
    assert [p.name for p in info.policies] == sorted(p.name for p in info.policies)


def test_a_compliant_plan_has_no_violation_and_every_resource_is_analyzed(pack):
    run = _run(pack, compliant_plan())
    assert run.diagnostics == []
    # Six resources of the plan, the root stack resource the engine always registers, and the
    # default aws provider (whose region the provider-known policy checked on every resource).
    assert run.analyzed_resources == 8
    assert run.not_applicable["fixture-table-pitr"] == 7


def test_remediations_run_first_and_analysis_sees_their_result(pack):
    run = _run(pack, compliant_plan())
    # The topic has no displayName; the remediate-level policy sets it before Analyze, so its own
    # validation (which would be reported as mandatory) passes.
    assert run.diagnostics == []
    assert run.remediations == [f"fixture-topic-display-name remediated {TOPIC}"]
    document = compliant_plan()
    find(document, TOPIC)["inputs"]["displayName"] = "Alerts"
    assert _run(pack, document).remediations == []


def test_injected_violations_come_back_exactly(pack):
    document = compliant_plan()
    find(document, TABLE)["inputs"]["pointInTimeRecovery"]["enabled"] = False
    del find(document, TOPIC)["inputs"]["kmsMasterKeyId"]
    run = _run(pack, document)
    assert _found(run) == [
        ("fixture-table-pitr", TABLE, "mandatory", "high"),
        ("fixture-topic-encrypted", TOPIC, "mandatory", "critical"),
    ]
    pitr = next(d for d in run.diagnostics if d.policy_name == "fixture-table-pitr")
    assert pitr.message == (
        "Tables keep point-in-time recovery on.\nTable app-table has point-in-time recovery off."
    )


def test_stack_analysis_sees_property_dependencies(pack):
    document = compliant_plan()
    find(document, ALARM)["propertyDependencies"] = {"alarmActions": []}
    assert _found(_run(pack, document)) == [
        ("fixture-alarms-route-to-topic", ALARM, "mandatory", "medium")
    ]


def test_stack_analysis_sees_parents_and_dependencies(pack):
    document = compliant_plan()
    find(document, TABLE)["dependencies"] = []
    run = _run(pack, document)
    assert _found(run) == [("fixture-table-in-component", TABLE, "mandatory", "high")]
    assert "does not depend on its KMS key" in run.diagnostics[0].message
    document = compliant_plan()
    find(document, TABLE)["parent"] = find(document, COMPONENT)["parent"]
    run = _run(pack, document)
    assert "not declared by the AppTable component" in run.diagnostics[0].message


def test_a_stack_level_violation_has_no_urn(pack):
    document = compliant_plan()
    document["resources"] = [
        r for r in document["resources"] if r["type"] != "aws:backup/plan:Plan"
    ]
    assert _found(_run(pack, document)) == [("fixture-stack-has-backup", "", "mandatory", "high")]


def test_the_root_stack_resource_carries_the_stack_outputs(pack):
    document = compliant_plan()
    document["outputs"] = {}
    assert _found(_run(pack, document)) == [
        ("fixture-stack-exports-table-name", STACK_URN, "advisory", "low")
    ]


def test_pack_config_sets_levels_and_properties(pack):
    document = compliant_plan()
    find(document, TABLE)["options"]["protect"] = False
    del find(document, KEY)["inputs"]["tags"]["DataClassification"]
    # Defaults: required tags ["Owner"], protection advisory.
    assert _found(_run(pack, document)) == [
        ("fixture-table-protected", TABLE, "advisory", "medium")
    ]
    file_config = load_pack_config(FIXTURE_PACK / "config.json")
    run = _run(pack, document, file_config)
    assert _found(run) == [
        ("fixture-required-tags", KEY, "advisory", "low"),
        ("fixture-table-protected", TABLE, "mandatory", "medium"),
    ]
    protected = next(d for d in run.diagnostics if d.policy_name == "fixture-table-protected")
    # The options' parent reached the policy.
    assert f"(parent {COMPONENT})" in protected.message


def test_an_unknown_value_is_sent_as_unknown(pack):
    document = compliant_plan()
    find(document, TABLE)["inputs"]["pointInTimeRecovery"] = UNKNOWN
    run = _run(pack, document)
    # The SDK cannot run a policy that reads an unknown during preview: it reports that as an
    # advisory diagnostic (pulumi-policy behaviour); the gate passes it on as it came.
    assert [(d.policy_name, d.enforcement_level) for d in run.diagnostics] == [
        ("fixture-table-pitr", "advisory")
    ]
    assert "can't run policy 'fixture-table-pitr'" in run.diagnostics[0].message
    assert run.diagnostics[0].urn == TABLE


def test_exempted_findings_are_reported_by_the_pack(pack):
    document = compliant_plan()
    find(document, TABLE)["inputs"]["pointInTimeRecovery"]["enabled"] = False
    exemption = {
        "resource": "app-table",
        "reason": "restore drill in progress",
        "ticket": "SEC-7",
        "expires": "2027-01-31",
    }
    config = {"fixture-table-pitr": PolicyConfig("", {"exemptions": [exemption]})}
    run = _run(pack, copy.deepcopy(document), config)
    assert _found(run) == [("fixture-table-pitr", TABLE, "mandatory", "high")]
    assert "EXEMPTED: fixture-table-pitr on app-table (ticket SEC-7" in run.diagnostics[0].message


def test_a_pack_that_fails_to_start_says_why(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('rules failed to import')\n")
    broken = PolicyPackProcess(tmp_path, project="p", stack="dev", stack_config={})
    with broken, pytest.raises(PackError) as caught:
        broken.info()
    message = str(caught.value)
    assert "exited with status 1 before serving" in message
    assert "rules failed to import" in message


def test_pack_manifest_problems(tmp_path):
    with pytest.raises(PackError, match=r"PulumiPolicy\.yaml: missing;"):
        pack_command(tmp_path, "127.0.0.1:1")
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: nodejs\n")
    with pytest.raises(
        PackError, match="runtime 'nodejs'; the offline gate runs Python packs only"
    ):
        pack_command(tmp_path, "127.0.0.1:1")
    (tmp_path / "PulumiPolicy.yaml").write_text(
        "runtime: {name: python, options: {virtualenv: venv}}\n"
    )
    (tmp_path / "requirements.txt").write_text("pulumi-policy==0.0.1\n")
    with pytest.raises(PackError, match=r"pins pulumi-policy==0.0.1 but .* has 1.21.0"):
        pack_command(tmp_path, "127.0.0.1:1")


def test_the_command_is_the_shims():
    argv, env, note = pack_command(FIXTURE_PACK, "127.0.0.1:9")
    assert Path(argv[0]) == FIXTURE_PACK / "../../../.venv/bin/python"
    assert argv[1:] == ["-u", "-m", "pulumi.policy", "127.0.0.1:9", "."]
    assert env["PATH"].split(":")[0].endswith(".venv/bin")
    assert note == ""


def test_registrations_add_the_stack_and_the_default_provider_the_engine_registers():
    plan = parse_plan(compliant_plan())
    resources = registrations(plan, {"aws:region": "us-east-1", "medeez-platform:x": "y"})
    version = metadata.version("pulumi_aws")
    name = "default_" + version.replace(".", "_")
    default = f"urn:pulumi:dev::medeez-platform::pulumi:providers:aws::{name}"
    assert [r.urn for r in resources[:2]] == [STACK_URN, default]
    assert resources[1].inputs == {"region": "us-east-1", "version": version}
    assert {r.urn: r.provider for r in resources[2:]} == {
        COMPONENT: "",
        KEY: default,
        TABLE: default,
        TOPIC: default,
        ALARM: default,
        BACKUP_PLAN: default,
    }


def test_an_explicit_provider_in_the_plan_is_kept():
    document = compliant_plan()
    dr = "urn:pulumi:dev::medeez-platform::pulumi:providers:aws::dr"
    document["resources"].insert(
        0,
        {
            **find(document, COMPONENT),
            "urn": dr,
            "type": "pulumi:providers:aws",
            "name": "dr",
            "custom": True,
            "inputs": {"region": "us-west-2"},
        },
    )
    find(document, TABLE)["provider"] = f"{dr}::0b4b5e6c-id"
    resources = {r.urn: r for r in registrations(parse_plan(document), {"aws:region": "us-east-1"})}
    assert resources[TABLE].provider == dr
    # The others still use the default provider, registered once.
    assert resources[TOPIC].provider.endswith(
        "::default_" + metadata.version("pulumi_aws").replace(".", "_")
    )
    assert sum(1 for urn in resources if "::pulumi:providers:aws::" in urn) == 2


def test_the_stand_in_interpreter_is_named_relative_to_the_repo(tmp_path):
    # The pack's virtualenv does not exist, so the gate's own interpreter stands in; the note goes
    # into PR comments, where the runner's home directory has no place.
    (tmp_path / "PulumiPolicy.yaml").write_text(
        "runtime: {name: python, options: {virtualenv: venv}}\n"
    )
    pins = [f"{name}=={metadata.version(name)}" for name in ("pulumi-policy", "pulumi")]
    (tmp_path / "requirements.txt").write_text("\n".join(pins) + "\n")
    root = Path(sys.executable).parent.parent.parent  # the directory that holds .venv
    _, _, note = pack_command(tmp_path, "127.0.0.1:1", display_root=root)
    interpreter = Path(sys.executable).relative_to(root).as_posix()
    assert note == (
        "pack virtualenv venv not created (the CLI builds it from requirements.txt); ran the pack "
        f"with {interpreter}, which has its pinned versions"
    )
    assert not interpreter.startswith("/")
