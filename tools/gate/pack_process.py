"""The policy pack's process, as the Pulumi CLI runs it: start it, read its port, connect, stop it.

What the CLI does for a pack whose ``PulumiPolicy.yaml`` says ``runtime: python`` (pulumi/pulumi
``NewPolicyAnalyzer`` and the ``pulumi-analyzer-policy-python`` shim), and what this module does:

1. run ``<virtualenv>/bin/python -u -m pulumi.policy <engine-address> .`` with the pack directory
   as the working directory, the virtualenv's ``bin`` first on ``PATH``, ``PYTHONHOME`` unset, and
   ``PULUMI_CONFIG``, ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` set (where the pack's
   virtualenv does not exist yet, the gate's own interpreter stands in; see :func:`pack_command`);
2. read the port the pack prints on its first stdout line and dial ``127.0.0.1:<port>``;
3. ``Handshake`` (the Python SDK answers UNIMPLEMENTED, which the CLI accepts), ``ConfigureStack``;
4. answer the run loop's calls (:meth:`PolicyPackProcess.call`; the order is
   :mod:`tools.gate.run_loop`'s);
5. on close, SIGINT (the SDK stops its server on KeyboardInterrupt), then kill if it lingers.
   :func:`stop_all` does the same for every pack still running, for the gate's signal handler.

The engine address is a real gRPC server (:class:`EngineHost`) that accepts the engine's ``Log``
calls, so a pack that logs through the engine is heard rather than failing to connect.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc, engine_pb2_grpc

from tools.gate.protocol import PackInfo, configure_stack_request, handshake_request
from tools.gate.run_loop import pack_info

#: The CLI raises gRPC's message limits to 400 MiB for analyzers (rpcutil.GrpcChannelOptions).
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
_RPC_TIMEOUT_S = 60.0
#: Packs started and not yet stopped, so a signal handler can stop them (:func:`stop_all`).
_RUNNING: set[subprocess.Popen[bytes]] = set()


class PackError(Exception):
    """The pack could not be started or answered with an error; the message says which."""


class PackRejected(PackError):
    """The pack refused a request as invalid (INVALID_ARGUMENT): its config, in ``Configure``."""

    def __init__(self, method: str, details: str) -> None:
        super().__init__(f"the policy pack rejected {method}: {details}")
        self.method = method
        self.details = details


@dataclass(frozen=True)
class PackManifest:
    """What the CLI reads from ``PulumiPolicy.yaml``."""

    runtime: str
    options: dict[str, str]
    version: str


def read_manifest(pack_dir: Path) -> PackManifest:
    """Parse ``<pack_dir>/PulumiPolicy.yaml``; a missing or malformed one raises PackError."""
    manifest = pack_dir / "PulumiPolicy.yaml"
    try:
        document = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackError(f"{manifest}: missing; {pack_dir} is not a policy pack") from None
    except (OSError, yaml.YAMLError) as exc:
        raise PackError(f"{manifest}: cannot read the pack manifest: {exc}") from None
    if not isinstance(document, dict):
        raise PackError(f"{manifest}: expected a mapping with 'runtime'")
    runtime = document.get("runtime")
    version = str(document.get("version") or "")
    if isinstance(runtime, str):
        return PackManifest(runtime, {}, version)
    if isinstance(runtime, dict) and isinstance(runtime.get("name"), str):
        options = runtime.get("options") or {}
        return PackManifest(
            runtime["name"], {str(k): str(v) for k, v in options.items() if str(v)}, version
        )
    raise PackError(f"{manifest}: 'runtime' must be a name or {{name, options}}")


def _pinned_versions(pack_dir: Path) -> dict[str, str]:
    """``name -> version`` for every ``name==version`` line of the pack's requirements.txt."""
    path = pack_dir / "requirements.txt"
    if not path.is_file():
        return {}
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[name.strip().lower().replace("_", "-")] = version.strip()
    return pins


def _check_pins(pack_dir: Path) -> None:
    """The gate's own environment stands in for the pack's: it must have the pack's pins."""
    for name, pinned in _pinned_versions(pack_dir).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "nothing"
        if installed != pinned:
            raise PackError(
                f"{pack_dir / 'requirements.txt'} pins {name}=={pinned} but {sys.executable} has "
                f"{installed}; run `make install` so the gate runs the pack on the versions it pins"
            )


def shown(path: str | Path, root: Path | None) -> str:
    """``path`` as a report shows it: relative to ``root`` when inside it (no runner's home
    directory in a PR comment), else as given. Symlinks are kept: a venv's python is one."""
    absolute = Path(os.path.abspath(path))
    if root is not None and absolute.is_relative_to(os.path.abspath(root)):
        return absolute.relative_to(os.path.abspath(root)).as_posix()
    return str(path)


def pack_command(
    pack_dir: Path, engine_address: str, display_root: Path | None = None
) -> tuple[list[str], dict[str, str], str]:
    """The argv and PATH change the python analyzer shim would use, and a note for the report.

    The shim runs ``<virtualenv>/bin/python``. The CLI creates that virtualenv from the pack's
    requirements.txt on first use; offline nothing can be installed, so when it does not exist the
    gate runs the pack with its own interpreter instead, after checking that it has exactly the
    versions the pack pins, and the report says so.
    """
    manifest = read_manifest(pack_dir)
    if manifest.runtime != "python":
        raise PackError(
            f"{pack_dir}: runtime {manifest.runtime!r}; the offline gate runs Python packs only"
        )
    virtualenv = manifest.options.get("virtualenv", "").rstrip("/")
    note = ""
    if virtualenv:
        venv = Path(virtualenv) if Path(virtualenv).is_absolute() else pack_dir / virtualenv
        if not (venv / "bin" / "python").is_file():
            _check_pins(pack_dir)
            note = (
                f"pack virtualenv {virtualenv} not created (the CLI builds it from "
                f"requirements.txt); ran the pack with {shown(sys.executable, display_root)}, "
                "which has its pinned versions"
            )
            venv = Path(sys.executable).parent.parent
    else:
        venv = Path(sys.executable).parent.parent
    python = venv / "bin" / "python"
    path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return [str(python), "-u", "-m", "pulumi.policy", engine_address, "."], {"PATH": path}, note


class _EngineServicer(engine_pb2_grpc.EngineServicer):
    """The part of the engine service a policy pack may call: ``Log``."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> empty_pb2.Empty:
        self.logs.append(f"{request.urn or 'pack'}: {request.message}")
        return empty_pb2.Empty()


class EngineHost:
    """A loopback engine endpoint whose address is handed to the pack, as the CLI's host is."""

    def __init__(self) -> None:
        self.servicer = _EngineServicer()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        engine_pb2_grpc.add_EngineServicer_to_server(self.servicer, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"
        self._server.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.stop(None)


def _drain(stream: Any, sink: list[str]) -> None:
    for line in iter(stream.readline, b""):
        sink.append(line.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


class PolicyPackProcess:
    """A running policy pack and a gRPC client to it. Use as a context manager."""

    def __init__(
        self,
        pack_dir: Path,
        *,
        project: str,
        stack: str,
        stack_config: Mapping[str, str],
        secret_keys: Sequence[str] = (),
        stack_tags: Mapping[str, str] | None = None,
        start_timeout_s: float = 30.0,
        display_root: Path | None = None,
    ) -> None:
        """``display_root``: paths in :attr:`launch_note` are shown relative to it."""
        self.pack_dir = pack_dir.resolve()
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config)
        self.secret_keys = list(secret_keys)
        self.stack_tags = dict(stack_tags or {})
        self.start_timeout_s = start_timeout_s
        self.display_root = display_root
        self.stderr: list[str] = []
        self.stdout: list[str] = []
        self.engine: EngineHost | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.returncode: int | None = None
        self.launch_note = ""
        self._stop_sent = False

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> PolicyPackProcess:
        # Only launch here: the caller can do other work (plan the stack) while the pack boots;
        # the first call connects.
        try:
            self.launch()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stderr_tail(self, lines: int = 15) -> str:
        tail = "\n".join(f"    {line}" for line in self.stderr[-lines:])
        return f"\n  pack stderr (last lines):\n{tail}" if tail else ""

    def start(self) -> None:
        """Launch the pack and connect to it."""
        self.launch()
        self.connect()

    def launch(self) -> None:
        """Start the pack process (it boots in the background)."""
        self.engine = EngineHost()
        argv, env_changes, self.launch_note = pack_command(
            self.pack_dir, self.engine.address, self.display_root
        )
        env = dict(os.environ)
        env.pop("PYTHONHOME", None)
        env.update(env_changes)
        env.update(
            {
                "PULUMI_PROJECT": self.project,
                "PULUMI_STACK": self.stack,
                "PULUMI_DRY_RUN": "true",
            }
        )
        if self.stack_config:
            env["PULUMI_CONFIG"] = json.dumps(self.stack_config, separators=(",", ":"))
        try:
            self._process = subprocess.Popen(  # noqa: S603 - argv built from the pack manifest
                argv,
                cwd=self.pack_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise PackError(f"cannot start the policy pack ({argv[0]}): {exc.strerror}") from None
        _RUNNING.add(self._process)
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        threading.Thread(
            target=_drain, args=(self._process.stderr, self.stderr), daemon=True
        ).start()

    def connect(self) -> None:
        """Read the port the pack prints, dial it, and run ``Handshake`` and ``ConfigureStack``."""
        if self._process is None:
            raise PackError("the policy pack was not launched")
        assert self._process.stdout is not None
        port = self._read_port()
        threading.Thread(
            target=_drain, args=(self._process.stdout, self.stdout), daemon=True
        ).start()
        self._channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=_CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout_s)
        except grpc.FutureTimeoutError:
            raise PackError(
                f"the policy pack printed port {port} but did not accept a connection"
                + self._stderr_tail()
            ) from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        engine = self.engine.address if self.engine else ""
        self.call("Handshake", handshake_request(engine, str(self.pack_dir)), optional=True)
        request = configure_stack_request(
            stack=self.stack,
            project=self.project,
            config=self.stack_config,
            secret_keys=self.secret_keys,
            tags=self.stack_tags,
        )
        self.call("ConfigureStack", request, optional=True)

    def _read_port(self) -> int:
        assert self._process is not None
        assert self._process.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(
            target=lambda: result.append(self._process.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(self.start_timeout_s)
        line = result[0].decode("utf-8", "replace").strip() if result else ""
        if not line.isdigit():
            self._process.poll()
            if reader.is_alive():
                why = f"did not print its port within {self.start_timeout_s:.0f} s"
            elif self._process.wait(timeout=5) != 0:
                why = f"exited with status {self._process.returncode} before serving"
            else:
                why = f"printed {line!r} instead of its port"
            raise PackError(f"the policy pack in {self.pack_dir} {why}" + self._stderr_tail())
        return int(line)

    def request_stop(self) -> None:
        """Close the connection and send SIGINT (the SDK stops its server on KeyboardInterrupt),
        without waiting; :meth:`close` waits."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._stub = None
        process = self._process
        if process is not None and process.poll() is None and not self._stop_sent:
            process.send_signal(signal.SIGINT)
            self._stop_sent = True

    def close(self) -> None:
        """Stop the pack as the CLI does (SIGINT), wait for it, and kill it if it hangs."""
        self.request_stop()
        process = self._process
        if process is not None and process.poll() is None:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process is not None:
            self.returncode = process.returncode
            _RUNNING.discard(process)
        if self.engine is not None:
            self.engine.stop()
            self.engine = None

    # -- calls -----------------------------------------------------------------------------------

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """The analyzer client, connecting on first use; invalid after :meth:`request_stop`."""
        if self._stub is None and self._process is not None and not self._stop_sent:
            self.connect()
        if self._stub is None:
            raise PackError("the policy pack is not running")
        return self._stub

    def call(self, method: str, request: Any, *, optional: bool = False) -> Any:
        """Call ``method``; None when ``optional`` and the pack answers UNIMPLEMENTED."""
        try:
            return getattr(self.stub, method)(request, timeout=_RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if optional and code == grpc.StatusCode.UNIMPLEMENTED:
                return None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            if code == grpc.StatusCode.INVALID_ARGUMENT:
                # The pack refused what it was sent (its config): its own words, no stderr.
                raise PackRejected(method, details) from None
            raise PackError(
                f"the policy pack failed in {method}: {details}" + self._stderr_tail()
            ) from None

    def info(self) -> PackInfo:
        """``GetAnalyzerInfo`` and ``GetPluginInfo``; the manifest's version wins, as in the CLI."""
        return pack_info(self, read_manifest(self.pack_dir).version)


def stop_all(grace_s: float = 2.0) -> None:
    """SIGINT every running pack, then kill those still running after ``grace_s``.

    Safe in a signal handler: it only signals and polls (no lock the interrupted code may hold).
    """
    processes = list(_RUNNING)
    for process in processes:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_alive(p) for p in processes):
        time.sleep(0.02)
    for process in processes:
        if _alive(process):
            process.kill()


def _alive(process: subprocess.Popen[bytes]) -> bool:
    try:
        pid, _ = os.waitpid(process.pid, os.WNOHANG)
    except ChildProcessError:  # already reaped
        return False
    return pid == 0
