"""The environment of a test that runs AWS calls on moto: nothing of the developer's AWS setup
(endpoint, profile, session, credential and config files) can leak in."""

from __future__ import annotations

import pytest

LEAKING = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN")


def isolate_from_real_aws(env: pytest.MonkeyPatch, *, managed_policies: bool = False) -> None:
    """Clear what would point calls elsewhere; with ``managed_policies``, moto knows AWS managed
    IAM policies, as start-local.sh runs moto_server (and as in AWS)."""
    for name in LEAKING:
        env.delenv(name, raising=False)
    env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    env.setenv("AWS_CONFIG_FILE", "/nonexistent")
    if managed_policies:
        env.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
