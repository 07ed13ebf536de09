"""Shared fixtures: the dev and prod plans, recorded once per session under the mock runtime."""

from __future__ import annotations

import pytest

from tools.plan import Plan, plan_stack


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return plan_stack("dev")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return plan_stack("prod")
