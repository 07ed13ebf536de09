"""Where the data tooling points: a local AWS emulator on loopback, or AWS itself.

Every script reads the endpoint from ``--endpoint-url`` or ``AWS_ENDPOINT_URL`` (the variable the
AWS SDKs and CLI honour), so the same commands work against ``make local-up`` and against AWS.

Safety rule: only a loopback endpoint counts as local, and local clients always use the dummy
credentials below. Real credentials are never read for a local endpoint, and the dummy ones cannot
authenticate to AWS, so nothing that creates infrastructure can reach a real account by mistake.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

#: Credentials for the local emulator only (moto accepts any; AWS accepts none of these).
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"  # a documented placeholder, not a secret

#: Default port of ``make local-up`` (moto_server's own default); override with MOTO_PORT.
DEFAULT_LOCAL_PORT = 5000


class UsageError(Exception):
    """Bad command-line input; the scripts print the message and exit 2."""


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host, else :class:`UsageError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"endpoint URL '{url}' is not usable: give http(s)://host[:port], "
            f"e.g. http://127.0.0.1:{DEFAULT_LOCAL_PORT}"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise UsageError(f"endpoint URL '{url}' has an invalid port") from None
    return url


@dataclass(frozen=True)
class Target:
    """An endpoint (None = AWS's own) and whether it is the local emulator."""

    endpoint_url: str | None

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None and is_loopback_url(self.endpoint_url)

    def describe(self) -> str:
        if self.endpoint_url is None:
            return "AWS"
        if self.is_local:
            return f"local endpoint {self.endpoint_url}"
        return f"endpoint {self.endpoint_url}"


def resolve_target(endpoint_url: str | None = None) -> Target:
    """The target from an explicit URL, else ``AWS_ENDPOINT_URL``, else AWS."""
    url = endpoint_url if endpoint_url is not None else os.environ.get("AWS_ENDPOINT_URL")
    if url is None or not url.strip():
        return Target(None)
    return Target(check_endpoint_url(url.strip()))


def session_for(target: Target, region: str) -> boto3.Session:
    """A session for ``target``: dummy credentials for the local emulator, the default credential
    chain (profile, SSO, role) for AWS."""
    if target.is_local:
        return boto3.Session(
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
            region_name=region,
        )
    return boto3.Session(region_name=region)


def uses_dummy_credentials(session: boto3.Session) -> bool:
    credentials = session.get_credentials()
    return credentials is not None and credentials.access_key == DUMMY_ACCESS_KEY_ID


@dataclass
class Clients:
    """boto3 clients for one session and endpoint, created once per (service, region)."""

    session: boto3.Session
    endpoint_url: str | None = None
    #: True for the local emulator (over HTTP or moto in process): fewer retries, and calls it
    #: does not implement are reported as such instead of as errors.
    emulator: bool = False
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)

    @property
    def region(self) -> str:
        return str(self.session.region_name)

    def __call__(self, service: str, region: str | None = None) -> Any:
        where = region or self.region
        key = (service, where)
        if key not in self._cache:
            config = Config(
                retries={"mode": "standard", "max_attempts": 2 if self.emulator else 5},
                # The streams client would otherwise use an account-id host that neither moto
                # nor a custom endpoint serves.
                account_id_endpoint_mode="disabled",
            )
            self._cache[key] = self.session.client(
                service,  # type: ignore[call-overload]
                region_name=where,
                endpoint_url=self.endpoint_url,
                config=config,
            )
        return self._cache[key]

    @classmethod
    def for_target(cls, target: Target, region: str) -> Clients:
        return cls(session_for(target, region), target.endpoint_url, emulator=target.is_local)

    def use(self, service: str, client: Any, region: str | None = None) -> None:
        """Put a prepared client (e.g. one wrapped in a botocore Stubber) in the cache."""
        self._cache[(service, region or self.region)] = client


def not_emulated(exc: BaseException, *, emulator: bool) -> bool:
    """True when a local emulator says it does not implement the call: moto raises
    NotImplementedError in process and answers a bare HTTP 500 (or 404 for an unknown route) over
    HTTP. Against AWS nothing counts as "not emulated": every error is a real error."""
    if isinstance(exc, NotImplementedError):
        return True
    response = getattr(exc, "response", None)
    if not emulator or not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    # An implemented call fails with an AWS error code; an unimplemented one with a bare status.
    return code in ("404", "500", "501")


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def describe_call_failure(target: Target, exc: BaseException) -> str:
    """One line for a call that failed before any check could run (no traceback)."""
    if isinstance(exc, EndpointConnectionError):
        hint = "; start it with `make local-up`" if target.is_local else ""
        return f"nothing answers at {target.endpoint_url or exc.kwargs.get('endpoint_url')}{hint}"
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found: configure a profile, SSO or role for AWS, or set "
            f"AWS_ENDPOINT_URL=http://127.0.0.1:{DEFAULT_LOCAL_PORT} for the local emulator"
        )
    return f"{target.describe()} refused a call: {exc}"
