"""The local environment's services, in the order setup builds them and validate checks them.

Each service is one module with ``ensure(ctx)`` (``make setup``) and ``check(ctx)``
(``make validate``), both built from its definition in ``stackspec.definitions``. Later services
use what earlier ones made (the table needs its key, the alarms the topic), hence the order.
Adding a service is adding a module here and a line below.
"""

from __future__ import annotations

from scripts.services import (
    access,
    audit_database,
    audit_trail,
    backup,
    budget,
    cache,
    cache_invalidator,
    keys,
    monitoring,
    network,
    recovery,
    stream_consumer,
    table,
)
from scripts.services.base import LocalService

SERVICES: tuple[LocalService, ...] = (
    keys,
    network,
    table,
    monitoring,
    audit_database,
    backup,
    audit_trail,
    recovery,
    budget,
    access,
    cache,
    # After access: the function runs as the stream-consumer role.
    stream_consumer,
    # After access (its role) and the cache (its user's secret).
    cache_invalidator,
)
