"""Fixtures for the local tooling: moto in process, with the emulator's dummy credentials."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from scripts.aws_target import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, Clients
from stackspec.config.stack import StackConfig, load_stack_config
from tests.moto_env import isolate_from_real_aws


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """An isolated in-process AWS: no real credentials or endpoint can leak in, and no local
    emulator a developer started (an empty LOCAL_STATE_DIR, no MOTO_PORT)."""
    isolate_from_real_aws(monkeypatch)
    monkeypatch.delenv("MOTO_PORT", raising=False)
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "local-state"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", DUMMY_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", DUMMY_SECRET_ACCESS_KEY)
    with mock_aws():
        yield


@pytest.fixture
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """What start-local.sh sets for moto_server: AWS managed IAM policies exist, as in AWS.
    Opt-in per test: loading them costs about 0.7 s per moto reset."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def local_clients(cfg: StackConfig) -> Clients:
    session = boto3.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        region_name=cfg.region,
    )
    return Clients(session, emulator=True)


@pytest.fixture
def clients_for(moto: None) -> Callable[[StackConfig], Clients]:
    return local_clients


@pytest.fixture
def dev() -> StackConfig:
    return load_stack_config("dev")


@pytest.fixture
def prod() -> StackConfig:
    return load_stack_config("prod")


@pytest.fixture
def cli_on_moto(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a script's ``main`` against moto in process as if it were the local emulator (the
    real HTTP path is covered in tests/test_local_flow.py with moto_server)."""

    def for_target(cls: type[Clients], target: object, region: str) -> Clients:
        return Clients(boto3.Session(region_name=region), emulator=True)

    monkeypatch.setattr(Clients, "for_target", classmethod(for_target))
    # What local-up records, so the scripts resolve the local target; this process stands in
    # for the emulator's pid.
    state = Path(os.environ["LOCAL_STATE_DIR"])
    state.mkdir(parents=True)
    (state / "env").write_text("AWS_ENDPOINT_URL=http://127.0.0.1:5000\n")
    (state / "moto.pid").write_text(f"{os.getpid()} 5000\n")
