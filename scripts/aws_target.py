"""Where the data tooling points: the local AWS emulator, another endpoint, or AWS itself.

One place decides it for ``make setup``, ``make seed`` and ``make validate``
(:func:`resolve_target`), first match wins:

1. ``--endpoint-url URL``;
2. ``--target aws`` (``make ... TARGET=aws``): AWS itself, with the normal credential chain; the
   scripts print the account and region (from STS) before any other call;
3. ``AWS_ENDPOINT_URL``, when set (the variable the AWS SDKs and CLI honour);
4. otherwise (or ``--target local``) the emulator ``make local-up`` started: the endpoint it
   recorded in ``.local/env``, while its ``.local/moto.pid`` is alive. Nothing recorded or running
   is an error that says how to start it: nothing ever falls through to AWS.

Safety rule: only a loopback endpoint counts as local, and local clients always use the dummy
credentials below. Real credentials are never read for a local endpoint, and the dummy ones cannot
authenticate to AWS, so nothing that creates infrastructure can reach a real account by mistake.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError, NoCredentialsError

#: Credentials for the local emulator only (moto accepts any; AWS accepts none of these).
DUMMY_ACCESS_KEY_ID = "testing"
DUMMY_SECRET_ACCESS_KEY = "testing"  # a documented placeholder, not a secret

#: Default port of ``make local-up`` (moto_server's own default); override with MOTO_PORT.
DEFAULT_LOCAL_PORT = 5000

#: The values of ``--target`` (``make ... TARGET=``).
TARGETS = ("local", "aws")

REPO_DIR = Path(__file__).resolve().parent.parent


class UsageError(Exception):
    """Bad command-line input; the scripts print the message and exit 2."""


class NotRunning(UsageError):
    """No local emulator to talk to; the message says how to start one. Exit 2, nothing called."""


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
    #: How it was chosen ("--endpoint-url", "--target aws", "AWS_ENDPOINT_URL", ".local/env").
    source: str = field(default="", compare=False)

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None and is_loopback_url(self.endpoint_url)

    def describe(self) -> str:
        if self.endpoint_url is None:
            return "AWS"
        if self.is_local:
            return f"local endpoint {self.endpoint_url}"
        return f"endpoint {self.endpoint_url}"


def local_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where local services keep ``<service>.pid``, ``<service>.log`` and ``env`` (the directory
    ``scripts/start-local.sh`` uses: ``LOCAL_STATE_DIR``, default ``<repo>/.local``)."""
    env = os.environ if environ is None else environ
    return Path(env.get("LOCAL_STATE_DIR") or REPO_DIR / ".local")


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines (blank lines and ``#`` comments skipped); {} when the file is missing."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise UsageError(f"{path}:{number}: expected KEY=VALUE, got '{line}'")
        values[key.strip()] = value.strip()
    return values


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    # A killed server that nobody has reaped yet is a zombie: kill(0) succeeds, but it is gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:  # no /proc (macOS): launchd reaps orphans promptly
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def _moto_port(environ: Mapping[str, str]) -> int | None:
    text = environ.get("MOTO_PORT", "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= 65535 or text.startswith("0"):
        raise UsageError(f"MOTO_PORT must be a port number 1-65535, got '{text}'")
    return int(text)


def local_target(environ: Mapping[str, str] | None = None) -> Target:
    """The emulator ``make local-up`` started, from the endpoint it recorded in ``.local/env``;
    :class:`NotRunning` when nothing is recorded or its process has exited."""
    env = os.environ if environ is None else environ
    state = local_state_dir(env)
    env_file, pid_file = state / "env", state / "moto.pid"
    port = _moto_port(env)
    start = f"make local-up{f' MOTO_PORT={port}' if port else ''}"
    url = read_env_file(env_file).get("AWS_ENDPOINT_URL", "")
    if not url:
        raise NotRunning(
            f"no local emulator is running (no AWS_ENDPOINT_URL in {env_file}): start it with "
            f"`{start}`, or choose AWS explicitly with TARGET=aws (--target aws)"
        )
    if not is_loopback_url(check_endpoint_url(url)):
        raise UsageError(
            f"{env_file} records AWS_ENDPOINT_URL={url}, which is not a loopback address; "
            "local-up only listens on 127.0.0.1: run `make local-down local-up`"
        )
    try:
        pid_text = pid_file.read_text(encoding="utf-8").split()[:1]
    except FileNotFoundError:
        pid_text = []
    except OSError as exc:
        raise UsageError(f"cannot read {pid_file}: {exc.strerror}") from None
    if not pid_text or not pid_text[0].isdigit() or not _pid_alive(int(pid_text[0])):
        why = (
            f"pid {pid_text[0]} has exited"
            if pid_text and pid_text[0].isdigit()
            else f"{pid_file} is {'unreadable' if pid_text else 'missing'}"
        )
        raise NotRunning(
            f"the local emulator recorded in {env_file} ({url}) is not running ({why}; its "
            f"in-memory data is gone): start it again with `{start}`, then `make setup`"
        )
    recorded = urlsplit(url).port
    if port is not None and recorded != port:
        raise UsageError(
            f"MOTO_PORT={port}, but the emulator local-up started listens on {url} "
            f"({env_file}): drop MOTO_PORT, or move it with `make local-down local-up "
            f"MOTO_PORT={port}`"
        )
    return Target(url, source=str(env_file))


def resolve_target(
    endpoint_url: str | None = None,
    *,
    target: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """Where to send calls; see the module docstring for the order. Raises :class:`UsageError`
    (:class:`NotRunning` when no local emulator runs) before any call is made."""
    env = os.environ if environ is None else environ
    if target is not None and target not in TARGETS:
        raise UsageError(f"--target must be one of {', '.join(TARGETS)}, got '{target}'")
    if endpoint_url is not None:
        if target is not None:
            raise UsageError("give --endpoint-url or --target, not both")
        return Target(check_endpoint_url(endpoint_url.strip()), source="--endpoint-url")
    if target == "aws":
        # The SDKs send every call to a configured endpoint (AWS_ENDPOINT_URL or its per-service
        # AWS_ENDPOINT_URL_<SERVICE>), so "AWS" would silently mean that endpoint.
        configured = sorted(k for k, v in env.items() if k.startswith("AWS_ENDPOINT_URL") and v)
        if configured:
            raise UsageError(
                f"--target aws, but {', '.join(configured)} is set and the AWS SDKs would send "
                "calls there: unset it to use AWS, or drop TARGET=aws to use that endpoint"
            )
        return Target(None, source="--target aws")
    configured_url = env.get("AWS_ENDPOINT_URL", "").strip()
    if target is None and configured_url:
        return Target(check_endpoint_url(configured_url), source="AWS_ENDPOINT_URL")
    return local_target(env)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--target`` and ``--endpoint-url``, with the same meaning in every script."""
    parser.add_argument(
        "--target",
        choices=TARGETS,
        help="local: the emulator `make local-up` started (recorded in .local/env); aws: AWS "
        "itself, with your credentials (the account and region are printed first). Default: "
        "$AWS_ENDPOINT_URL when set, else local; never AWS unless asked for",
    )
    parser.add_argument(
        "--endpoint-url",
        help="send every call to this endpoint (instead of --target)",
    )


def announce_target(clients: Clients, target: Target, prog: str, out: TextIO) -> None:
    """For any target but the local emulator: print the account (STS GetCallerIdentity) and the
    region before any other call, so nobody writes to or reads an account by surprise."""
    if target.is_local:
        return
    identity = clients("sts").get_caller_identity()
    print(
        f"{prog}: target {target.describe()}: account {identity['Account']} "
        f"({identity['Arn']}), region {clients.region}",
        file=out,
        flush=True,
    )


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
            f"no AWS credentials found for {target.describe()}: configure a profile, SSO or "
            "role; for the local emulator, drop TARGET=aws and run `make local-up`"
        )
    return f"{target.describe()} refused a call: {exc}"
