"""Where setup, seed and validate send their calls (scripts/aws_target.py), through each script's
own main(): every branch of the resolution, against a real moto_server on a free loopback port
(the local emulator, as `make local-up` starts it) or moto in process (AWS, with STS)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts import seed_data, setup_database, validate_setup
from scripts.aws_target import Clients, Target, UsageError, resolve_target
from scripts.servers.postgres import free_port
from scripts.setup_database import setup_local
from stackspec.config.stack import load_stack_config
from tests.datalayer.support import build_env

REPO = Path(__file__).resolve().parents[2]
START = REPO / "scripts" / "start-local.sh"
STOP = REPO / "scripts" / "stop-local.sh"

Main = Callable[[list[str]], int]
#: Each script with arguments that would read or write the dev stack.
SCRIPTS: dict[str, tuple[Main, list[str]]] = {
    "setup": (setup_database.main, ["--stack", "dev", "--timeout", "1"]),
    "seed": (seed_data.main, ["--stack", "dev", "--clinics", "1", "--patients", "1"]),
    "validate": (validate_setup.main, ["--stack", "dev", "--wait", "0"]),
}


@dataclass
class Emulator:
    state: Path
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """moto_server started by start-local.sh (its state in a private directory), with the dev
    stack set up on it."""
    emu = Emulator(tmp_path_factory.mktemp("emulator") / "state", free_port())
    env = {
        **os.environ,
        "MOTO_PORT": str(emu.port),
        "LOCAL_STATE_DIR": str(emu.state),
        "LOCAL_AUDIT": "0",  # moto_server alone (tests/scripts/test_local_audit_servers.py)
    }
    started = subprocess.run([str(START)], env=env, capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    try:
        cfg = load_stack_config("dev")
        setup_local(cfg, Clients.for_target(Target(emu.endpoint), cfg.region))
        yield emu
    finally:
        subprocess.run([str(STOP)], env=env, capture_output=True, check=False)


@pytest.fixture
def clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No endpoint, port or credentials from the developer's environment; an empty local state
    directory (returned)."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "MOTO_PORT":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    state = tmp_path / "state"
    monkeypatch.setenv("LOCAL_STATE_DIR", str(state))
    return state


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every AWS operation the scripts' clients make, in order: (service, operation)."""
    made: list[tuple[str, str]] = []
    original = Clients.__call__

    def tracked(self: Clients, service: str, region: str | None = None) -> Any:
        client = original(self, service, region)
        if not getattr(client, "_tracked", False):

            def record(model: Any, **_: Any) -> None:
                made.append((service, model.name))

            client.meta.events.register("before-call", record)
            client._tracked = True
        return client

    monkeypatch.setattr(Clients, "__call__", tracked)
    return made


def dead_pid() -> int:
    process = subprocess.Popen(["true"])  # noqa: S607
    process.wait()
    return process.pid


# --- nothing running: a clear error, exit 2, no call ------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_nothing_running_is_exit_2_and_nothing_is_called(
    name: str, clean: Path, calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    main, argv = SCRIPTS[name]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"{name}: no local emulator is running (no AWS_ENDPOINT_URL in {clean}/env): start it "
        "with `make local-up`, or choose AWS explicitly with TARGET=aws (--target aws)\n"
    )
    assert calls == []


def test_an_emulator_that_died_is_not_running(
    clean: Path, calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    clean.mkdir()
    (clean / "env").write_text("AWS_ENDPOINT_URL=http://127.0.0.1:5731\n")
    pid = dead_pid()
    (clean / "moto.pid").write_text(f"{pid} 5731\n")
    assert seed_data.main(SCRIPTS["seed"][1]) == 2
    assert capsys.readouterr().err == (
        f"seed: the local emulator recorded in {clean}/env (http://127.0.0.1:5731) is not "
        f"running (pid {pid} has exited; its in-memory data is gone): start it again with "
        "`make local-up`, then `make setup`\n"
    )
    assert calls == []


def test_a_malformed_env_file_names_the_line(clean: Path) -> None:
    clean.mkdir()
    (clean / "env").write_text("# written by make local\nAWS_ENDPOINT_URL http://x\n")
    with pytest.raises(UsageError) as error:
        resolve_target()
    assert str(error.value) == (
        f"{clean}/env:2: expected KEY=VALUE, got 'AWS_ENDPOINT_URL http://x'"
    )


# --- the emulator local-up recorded in .local/env ---------------------------------------------


def test_the_endpoint_local_up_recorded_is_used(
    emulator: Emulator, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(emulator.state))
    assert validate_setup.main(["--stack", "dev", "--format", "json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["target"] == f"local endpoint {emulator.endpoint}"
    assert payload["counts"]["FAIL"] == 0  # it read the stack that was set up there


def test_target_local_prefers_the_recorded_emulator_over_aws_endpoint_url(
    emulator: Emulator, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(emulator.state))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    assert validate_setup.main(["--stack", "dev", "--target", "local"]) == 0
    summary = capsys.readouterr().out.splitlines()[-1]
    # It read the emulator local-up recorded, not the AWS_ENDPOINT_URL nothing answers at.
    assert re.fullmatch(
        rf"\d+ checks of stack dev on local endpoint {re.escape(emulator.endpoint)}: "
        r"\d+ PASS, 0 FAIL, \d+ SKIP",
        summary,
    ), summary


def test_moto_port_is_checked_against_the_recorded_emulator(
    emulator: Emulator, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(emulator.state))
    monkeypatch.setenv("MOTO_PORT", str(emulator.port))
    assert validate_setup.main(["--stack", "dev"]) == 0
    capsys.readouterr()
    other = emulator.port + 1 if emulator.port < 65535 else emulator.port - 1
    monkeypatch.setenv("MOTO_PORT", str(other))
    assert validate_setup.main(["--stack", "dev"]) == 2
    assert capsys.readouterr().err == (
        f"validate: MOTO_PORT={other}, but the emulator local-up started listens on "
        f"{emulator.endpoint} ({emulator.state}/env): drop MOTO_PORT, or move it with "
        f"`make local-down local-up MOTO_PORT={other}`\n"
    )
    monkeypatch.setenv("MOTO_PORT", "50a")
    assert validate_setup.main(["--stack", "dev"]) == 2
    assert "MOTO_PORT must be a port number 1-65535, got '50a'" in capsys.readouterr().err


# --- AWS_ENDPOINT_URL, when set, is honoured ---------------------------------------------------


def test_aws_endpoint_url_is_honoured(
    emulator: Emulator, clean: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # No local state at all: the variable alone points the script at the emulator.
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator.endpoint)
    assert setup_database.main(["--stack", "dev"]) == 0
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .startswith(
            f"nothing to change: local endpoint {emulator.endpoint} already matches stack dev"
        )
    )


# --- AWS only when asked for, and then the account first ---------------------------------------


@pytest.fixture
def aws(clean: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


@pytest.mark.parametrize("name", SCRIPTS)
def test_target_aws_prints_account_and_region_before_any_other_call(
    name: str, aws: None, calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    main, argv = SCRIPTS[name]
    force = ["--force"] if name == "seed" else []
    assert main([*argv, "--target", "aws", *force]) == 1  # nothing is deployed in this account
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (
        f"{name}: target AWS: account 123456789012 (arn:aws:sts::123456789012:user/moto), "
        "region us-east-1"
    )
    assert calls[0] == ("sts", "GetCallerIdentity")
    assert len(calls) > 1  # and then it did read


def test_target_aws_with_a_configured_endpoint_is_ambiguous(
    clean: Path, monkeypatch: pytest.MonkeyPatch, calls: list[tuple[str, str]], capsys
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:5731")
    assert validate_setup.main(["--stack", "dev", "--target", "aws"]) == 2
    assert capsys.readouterr().err == (
        "validate: --target aws, but AWS_ENDPOINT_URL_DYNAMODB is set and the AWS SDKs would "
        "send calls there: unset it to use AWS, or drop TARGET=aws to use that endpoint\n"
    )
    assert calls == []


def test_endpoint_url_and_target_together_are_a_usage_error(clean: Path, capsys) -> None:
    argv = ["--stack", "dev", "--endpoint-url", "http://127.0.0.1:5731", "--target", "aws"]
    assert setup_database.main(argv) == 2
    assert capsys.readouterr().err == "setup: give --endpoint-url or --target, not both\n"


def test_an_unknown_target_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        seed_data.main(["--stack", "dev", "--target", "prod"])
    assert exit_info.value.code == 2
    assert "argument --target: invalid choice: 'prod' (choose from 'local', 'aws')" in (
        capsys.readouterr().err
    )


# --- seed writes only locally unless forced ----------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "where"),
    [
        (["--target", "aws"], {}, "AWS (from --target aws)"),
        (
            [],
            {"AWS_ENDPOINT_URL": "http://10.0.0.7:4566"},
            "endpoint http://10.0.0.7:4566 (from AWS_ENDPOINT_URL)",
        ),
        (
            ["--endpoint-url", "https://dynamodb.us-east-1.amazonaws.com"],
            {},
            "endpoint https://dynamodb.us-east-1.amazonaws.com (from --endpoint-url)",
        ),
    ],
)
def test_seed_refuses_a_non_local_target_without_force(
    argv: list[str],
    env: dict[str, str],
    where: str,
    clean: Path,
    monkeypatch: pytest.MonkeyPatch,
    calls: list[tuple[str, str]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert seed_data.main(["--stack", "dev", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seed: refusing to write synthetic data to {where}")
    assert err.endswith(
        "seed writes only to the local emulator unless forced (make seed TARGET=aws FORCE=1, "
        "or --force); production stacks are refused either way\n"
    )
    assert calls == []


def test_seed_with_force_writes_to_aws_after_naming_the_account(
    aws: None, calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    env = build_env("dev")  # stands in for what `pulumi up` deployed
    calls.clear()
    argv = ["--stack", "dev", "--clinics", "1", "--patients", "2", "--no-progress", "--no-verify"]
    assert seed_data.main([*argv, "--target", "aws", "--force"]) == 0
    err, out = capsys.readouterr()[::-1]
    assert err.startswith("seed: target AWS: account 123456789012")
    assert "seed: medeez-dev-app on AWS (us-east-1)" in out
    assert calls[0] == ("sts", "GetCallerIdentity")
    assert env.dynamodb.scan(TableName="medeez-dev-app", Select="COUNT")["Count"] > 0


def test_seed_refuses_production_even_when_forced(
    aws: None, calls: list[tuple[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert seed_data.main(["--stack", "prod", "--target", "aws", "--force"]) == 2
    assert "stack prod holds production PHI; seed writes synthetic records and refuses" in (
        capsys.readouterr().err
    )
    assert calls == []


# --- the Makefile passes MOTO_PORT and TARGET through -------------------------------------------


def make(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *argv],  # noqa: S607 - make from PATH, as people run it
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_passes_moto_port_and_target_to_the_scripts(emulator: Emulator) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "MAKE"))}
    env["LOCAL_STATE_DIR"] = str(emulator.state)
    other = emulator.port + 1 if emulator.port < 65535 else emulator.port - 1

    wrong_port = make("seed", "STACK=dev", f"MOTO_PORT={other}", env=env)
    assert f"seed: MOTO_PORT={other}, but the emulator local-up started listens on " in (
        wrong_port.stderr
    )
    right_port = make("validate", "STACK=dev", f"MOTO_PORT={emulator.port}", env=env)
    assert right_port.returncode == 0, right_port.stderr
    assert f"on local endpoint {emulator.endpoint}: " in right_port.stdout

    aws = make("seed", "STACK=dev", "TARGET=aws", env=env)
    assert aws.returncode != 0
    assert "seed: refusing to write synthetic data to AWS" in aws.stderr
    ambiguous = make(
        "validate", "STACK=dev", "TARGET=aws", env={**env, "AWS_ENDPOINT_URL": emulator.endpoint}
    )
    assert "validate: --target aws, but AWS_ENDPOINT_URL is set" in ambiguous.stderr
    bad_force = make("seed", "STACK=dev", "FORCE=yes", env=env)
    assert "FORCE must be 1 or unset, got 'yes'" in bad_force.stderr
    bad_target = make("validate", "STACK=dev", "TARGET=prod", env=env)
    assert "TARGET must be local or aws, got 'prod'" in bad_target.stderr


def test_boto3_clients_of_a_local_target_never_read_real_credentials(
    emulator: Emulator, clean: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(emulator.state))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKING00000")
    target = resolve_target()
    session = Clients.for_target(target, "us-east-1").session
    assert isinstance(session, boto3.Session)
    credentials = session.get_credentials()
    assert credentials is not None
    assert credentials.access_key == "testing"
