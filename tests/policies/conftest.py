"""Every policy test starts with an empty exemption ledger (it is process-wide in the pack)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hipaa_guardrails import exemptions


@pytest.fixture(autouse=True)
def empty_ledger() -> Iterator[None]:
    exemptions.LEDGER.drain()
    yield
    exemptions.LEDGER.drain()
