"""The dev and prod plans as the review commands read them (the gate's plan shape)."""

from __future__ import annotations

import pytest

from tests.tools.review_support import Document, document
from tools.gate.plan_input import Plan, parse_plan


@pytest.fixture(scope="session")
def dev_doc(dev_plan) -> Document:
    return document(dev_plan)


@pytest.fixture(scope="session")
def prod_doc(prod_plan) -> Document:
    return document(prod_plan)


@pytest.fixture(scope="session")
def dev(dev_doc) -> Plan:
    return parse_plan(dev_doc, "dev")


@pytest.fixture(scope="session")
def prod(prod_doc) -> Plan:
    return parse_plan(prod_doc, "prod")
