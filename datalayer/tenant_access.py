"""Tenant work through tenant sessions only.

:class:`TenantDataAccess` runs the catalog's tenant patterns and writes a clinic's items with
the credentials of that clinic's tenant session (:mod:`datalayer.tenant_session`), never with
the process's own: if the code asked for another clinic's key, IAM would refuse it. PHI is
encrypted and beacons are computed with a KMS client of the same session, so the PHI key is
used only under the clinic's encryption context. Cross-tenant patterns are refused here: they
belong to the operations role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from datalayer.access_patterns import (
    PATTERNS,
    AccessPattern,
    AccessPatternError,
    query_request,
    run_query,
)
from datalayer.beacons import BeaconKeyring
from datalayer.entities import AnyEntity, ItemCodec
from datalayer.phi import ClinicKeyring
from datalayer.store import (
    WriteStats,
    clinic_beacon_key_source,
    to_attribute_values,
    write_items,
)
from datalayer.tenant_session import TenantSessions
from stackspec.key_schema import BASE_TABLE, CLINIC_PARTITION, SEPARATOR
from stackspec.tenancy import check_clinic_id


class TenantBoundaryError(ValueError):
    """A request that is not one clinic's: refused before any call."""


class TenantDataAccess:
    def __init__(
        self,
        sessions: TenantSessions,
        *,
        table_name: str,
        phi_key_id: str,
        clinic_key_alias: Callable[[str], str],
        ttl_attribute: str,
        written_by: str,
    ) -> None:
        """``phi_key_id`` is the stack PHI key (it wraps the clinic beacon keys);
        ``clinic_key_alias`` names a clinic's own PHI key (``StackNames.clinic_key_alias``),
        which encrypts that clinic's PHI. ``written_by`` names the application principal on
        every item it writes (the audit trail's stream consumer records it as the writer)."""
        self._sessions = sessions
        self._written_by = written_by
        self._table = table_name
        self._phi_key_id = phi_key_id
        self._clinic_key_alias = clinic_key_alias
        self._ttl = ttl_attribute
        self._codecs: dict[str, ItemCodec] = {}

    def query(
        self, pattern: AccessPattern | str, params: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """Every item of a tenant pattern for ``params['clinicId']``, with that clinic's session."""
        resolved = PATTERNS.get(pattern, None) if isinstance(pattern, str) else pattern
        if resolved is None:
            raise AccessPatternError(f"unknown access pattern '{pattern}'")
        if resolved.cross_tenant:
            raise TenantBoundaryError(
                f"{resolved.name} is cross-tenant: it runs under the operations role, never a "
                "tenant session"
            )
        clinic = check_clinic_id(params.get("clinicId"))
        beacons = self.codec(clinic).beacons if resolved.uses_beacon else None
        request = query_request(resolved, self._table, params, beacons=beacons)
        return run_query(self._sessions.client(clinic, "dynamodb"), request)

    def get_item(self, clinic_id: str, pk: str, sk: str) -> dict[str, Any] | None:
        """One item of ``clinic_id``'s by key (attribute values), strongly consistent, with that
        clinic's session; None when there is none."""
        clinic = check_clinic_id(clinic_id)
        own = CLINIC_PARTITION.render(clinicId=clinic)
        if pk != own and not pk.startswith(own + SEPARATOR):
            raise TenantBoundaryError(f"item key {pk} is not clinic {clinic}'s")
        response = self._sessions.client(clinic, "dynamodb").get_item(
            TableName=self._table,
            Key=to_attribute_values(BASE_TABLE.key(pk, sk)),
            ConsistentRead=True,
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def codec(self, clinic_id: str) -> ItemCodec:
        """The clinic's codec: PHI cipher and beacon keys on the clinic session's KMS client."""
        clinic = check_clinic_id(clinic_id)
        if clinic not in self._codecs:
            session = self._sessions.session(clinic)
            kms = session.client("kms")
            self._codecs[clinic] = ItemCodec(
                cipher=ClinicKeyring(kms, self._clinic_key_alias),
                beacons=BeaconKeyring(
                    kms,
                    self._phi_key_id,
                    clinic_beacon_key_source(session.client("dynamodb"), self._table),
                ),
                ttl_attribute=self._ttl,
                written_by=self._written_by,
            )
        return self._codecs[clinic]

    def put(self, clinic_id: str, entities: Iterable[AnyEntity]) -> WriteStats:
        """Write ``entities`` of ``clinic_id`` (and their lookup items) with its session."""
        clinic = check_clinic_id(clinic_id)
        codec = self.codec(clinic)
        items: list[dict[str, Any]] = []
        for entity in entities:
            if entity.clinic_id != clinic:
                raise TenantBoundaryError(
                    f"{entity.entity_type} of clinic {entity.clinic_id!r} in a write for clinic "
                    f"{clinic!r}"
                )
            items.extend(codec.items(entity))
        own = CLINIC_PARTITION.render(clinicId=clinic)
        for item in items:
            pk = str(item["PK"])
            if pk != own and not pk.startswith(own + SEPARATOR):
                raise TenantBoundaryError(f"item key {pk} is not clinic {clinic}'s")
        return write_items(self._sessions.client(clinic, "dynamodb"), self._table, items)
