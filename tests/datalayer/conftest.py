"""moto fixtures for the data layer (helpers in support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from datalayer.synthetic import generate_dataset
from scripts import seed_data
from tests.datalayer.support import AS_OF, SMALL, LocalEnv, Seeded, build_env, set_aws_env


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    set_aws_env(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def dev_env(aws: None) -> LocalEnv:
    return build_env("dev")


@pytest.fixture(scope="module", params=["dev", "prod"])
def seeded(request: pytest.FixtureRequest) -> Iterator[Seeded]:
    """A small dataset seeded once per module and stack (dev: ALL projections; prod: KEYS_ONLY
    and INCLUDE), so the access patterns are checked against both stacks' indexes."""
    with pytest.MonkeyPatch.context() as mp:
        set_aws_env(mp)
        with mock_aws():
            env = build_env(request.param)
            dataset = generate_dataset(7, AS_OF, SMALL)
            summary = seed_data.seed(env.clients, env.cfg, dataset, progress=False)
            yield Seeded(env=env, dataset=dataset, summary=summary)
