"""Tenant sessions: the credentials the data layer uses for one clinic's data.

``TenantSessions.session(clinic_id)`` assumes the stack's tenant role with the clinic as the
session tag ``clinicId`` (STS ``AssumeRole`` with ``Tags``), so every request made with the
session is confined by the role's policies: item keys to ``CLINIC#<clinic>`` and below, the PHI
key to that clinic's encryption context. Sessions are cached per clinic and renewed a margin
before they expire; a malformed clinic id is refused before any STS call.

Locally, moto's STS accepts the tags but does not enforce the role's conditions (README,
"Tenant isolation"); ``make isolation-check`` proves the policies themselves.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3

from stackspec.tenancy import CLINIC_TAG_KEY, check_clinic_id

#: Renew a session this long before STS says it expires, so no request starts on credentials
#: that lapse mid-flight.
DEFAULT_REFRESH_MARGIN_SECONDS = 300


@dataclass(frozen=True)
class _Cached:
    session: boto3.Session
    expires_at: float


class TenantSessions:
    """Per-clinic sessions of the tenant role, cached until ``refresh_margin_seconds`` before
    they expire (at most ``max_clinics`` kept, least recently used dropped first)."""

    def __init__(
        self,
        sts_client: Any,
        role_arn: str,
        *,
        region: str,
        duration_seconds: int = 3600,
        refresh_margin_seconds: int = DEFAULT_REFRESH_MARGIN_SECONDS,
        max_clinics: int = 1000,
        clock: Callable[[], float] = time.time,
        session_factory: Callable[..., boto3.Session] = boto3.Session,
    ) -> None:
        if not 900 <= duration_seconds <= 3600:
            raise ValueError("duration_seconds must be 900-3600 (STS role chaining caps it)")
        if not 0 <= refresh_margin_seconds < duration_seconds:
            raise ValueError("refresh_margin_seconds must be shorter than the session")
        self._sts = sts_client
        self._role_arn = role_arn
        self._region = region
        self._duration = duration_seconds
        self._margin = refresh_margin_seconds
        self._max = max_clinics
        self._clock = clock
        self._factory = session_factory
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()
        #: STS AssumeRole calls made (for tests and metrics).
        self.assumed = 0

    def session(self, clinic_id: str) -> boto3.Session:
        """A boto3 session whose credentials act for ``clinic_id`` only."""
        clinic = check_clinic_id(clinic_id)
        with self._lock:
            cached = self._cache.get(clinic)
            if cached is not None and self._clock() < cached.expires_at - self._margin:
                self._cache.move_to_end(clinic)
                return cached.session
            fresh = self._assume(clinic)
            self._cache[clinic] = fresh
            self._cache.move_to_end(clinic)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
            return fresh.session

    def expires_at(self, clinic_id: str) -> float | None:
        """When the cached session of ``clinic_id`` expires (epoch seconds), if one is cached."""
        with self._lock:
            cached = self._cache.get(clinic_id)
        return cached.expires_at if cached else None

    def client(self, clinic_id: str, service: str) -> Any:
        session: Any = self.session(clinic_id)
        return session.client(service)

    def _assume(self, clinic: str) -> _Cached:
        response = self._sts.assume_role(
            RoleArn=self._role_arn,
            RoleSessionName=f"clinic-{clinic}"[:64],
            DurationSeconds=self._duration,
            Tags=[{"Key": CLINIC_TAG_KEY, "Value": clinic}],
        )
        self.assumed += 1
        credentials = response["Credentials"]
        expiration = credentials["Expiration"]
        expires_at = (
            expiration.timestamp() if isinstance(expiration, datetime) else float(expiration)
        )
        session = self._factory(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self._region,
        )
        return _Cached(session=session, expires_at=expires_at)
