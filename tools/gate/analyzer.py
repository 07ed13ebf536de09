"""Start a Python policy pack the way the Pulumi CLI does and talk to it over the analyzer protocol.

What the CLI does for a pack whose ``PulumiPolicy.yaml`` says ``runtime: python`` (pulumi/pulumi
``NewPolicyAnalyzer`` and the ``pulumi-analyzer-policy-python`` shim), and what this module does:

1. run ``<virtualenv>/bin/python -u -m pulumi.policy <engine-address> .`` with the pack directory
   as the working directory, the virtualenv's ``bin`` first on ``PATH``, ``PYTHONHOME`` unset, and
   ``PULUMI_CONFIG``, ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN`` set (where the pack's
   virtualenv does not exist yet, the gate's own interpreter stands in; see :func:`pack_command`);
2. read the port the pack prints on its first stdout line and dial ``127.0.0.1:<port>``;
3. ``Handshake`` (the Python SDK answers UNIMPLEMENTED, which the CLI accepts), ``ConfigureStack``;
4. ``GetAnalyzerInfo``, ``GetPluginInfo``, ``Configure`` with the reconciled pack config;
5. per registered resource ``Remediate`` then ``Analyze`` of the remediated properties (the
   engine's two passes), then ``AnalyzeStack`` once with the whole stack;
6. on close, SIGINT (the SDK stops its server on KeyboardInterrupt), then kill if it lingers.

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
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, engine_pb2_grpc

from tools.gate.pack_config import PolicyConfig, PolicySchema
from tools.gate.plan_input import STACK_TYPE, Plan, PlanResource
from tools.gate.wire import to_struct

#: The CLI raises gRPC's message limits to 400 MiB for analyzers (rpcutil.GrpcChannelOptions).
_MAX_MESSAGE = 400 * 1024 * 1024
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", _MAX_MESSAGE),
    ("grpc.max_send_message_length", _MAX_MESSAGE),
]
_RPC_TIMEOUT_S = 60.0

ENFORCEMENT_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_ENFORCEMENT_VALUES = {name: value for value, name in ENFORCEMENT_NAMES.items()}
SEVERITY_NAMES = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


class PackError(Exception):
    """The pack could not be started or answered with an error; the message says which."""


@dataclass(frozen=True)
class PolicyMeta:
    """One policy's metadata, from ``GetAnalyzerInfo``."""

    name: str
    description: str
    enforcement_level: str
    severity: str
    policy_type: str
    framework: str
    framework_version: str
    citation: str
    tags: tuple[str, ...]
    remediation: str
    url: str
    config_properties: dict[str, Any]
    config_required: tuple[str, ...]

    def schema(self) -> PolicySchema:
        """What pack-config reconciliation needs from this policy."""
        return PolicySchema(
            self.name, self.enforcement_level, self.config_properties, self.config_required
        )


@dataclass(frozen=True)
class PackInfo:
    """The pack's ``AnalyzerInfo``, with the plugin (SDK) version."""

    name: str
    version: str
    sdk_version: str
    policies: tuple[PolicyMeta, ...]
    initial_config: dict[str, PolicyConfig]

    def policy(self, name: str) -> PolicyMeta | None:
        """The metadata of policy ``name``, if the pack has it."""
        return next((p for p in self.policies if p.name == name), None)


@dataclass(frozen=True)
class Diagnostic:
    """One ``AnalyzeDiagnostic``, attributed to a URN the way the engine attributes it."""

    policy_name: str
    pack_name: str
    description: str
    message: str
    enforcement_level: str
    severity: str
    urn: str


@dataclass
class PackRun:
    """Everything the pack said about one plan."""

    info: PackInfo
    diagnostics: list[Diagnostic] = field(default_factory=list)
    not_applicable: dict[str, int] = field(default_factory=dict)
    remediations: list[str] = field(default_factory=list)
    analyzed_resources: int = 0


def _citation(policy: analyzer_pb2.PolicyInfo) -> str:
    if policy.framework.reference:
        return policy.framework.reference
    hipaa = [t.split(":", 1)[1] for t in policy.tags if t.lower().startswith("hipaa:")]
    return ", ".join(hipaa)


def _policy_meta(policy: analyzer_pb2.PolicyInfo) -> PolicyMeta:
    schema = json_format.MessageToDict(policy.configSchema.properties)
    return PolicyMeta(
        name=policy.name,
        description=policy.description,
        enforcement_level=ENFORCEMENT_NAMES.get(policy.enforcementLevel, "advisory"),
        severity=SEVERITY_NAMES.get(policy.severity, ""),
        policy_type={
            analyzer_pb2.POLICY_TYPE_RESOURCE: "resource",
            analyzer_pb2.POLICY_TYPE_STACK: "stack",
        }.get(policy.policy_type, ""),
        framework=policy.framework.name,
        framework_version=policy.framework.version,
        citation=_citation(policy),
        tags=tuple(policy.tags),
        remediation=policy.remediation_steps,
        url=policy.url,
        config_properties=schema,
        config_required=tuple(policy.configSchema.required),
    )


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


def pack_command(pack_dir: Path, engine_address: str) -> tuple[list[str], dict[str, str], str]:
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
                f"requirements.txt); ran the pack with {sys.executable}, which has its pinned "
                "versions"
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
    ) -> None:
        self.pack_dir = pack_dir.resolve()
        self.project = project
        self.stack = stack
        self.stack_config = dict(stack_config)
        self.secret_keys = list(secret_keys)
        self.stack_tags = dict(stack_tags or {})
        self.start_timeout_s = start_timeout_s
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
        argv, env_changes, self.launch_note = pack_command(self.pack_dir, self.engine.address)
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
        self._handshake()
        self._configure_stack()

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

    def _call(self, method: str, request: Any, *, optional: bool = False) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=_RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            code = exc.code() if hasattr(exc, "code") else None
            if optional and code == grpc.StatusCode.UNIMPLEMENTED:
                return None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            raise PackError(
                f"the policy pack failed in {method}: {details}" + self._stderr_tail()
            ) from None

    def _handshake(self) -> None:
        directory = str(self.pack_dir)
        self._call(
            "Handshake",
            analyzer_pb2.AnalyzerHandshakeRequest(
                engine_address=self.engine.address if self.engine else "",
                root_directory=directory,
                program_directory=directory,
            ),
            optional=True,
        )

    def _configure_stack(self) -> None:
        self._call(
            "ConfigureStack",
            analyzer_pb2.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                dry_run=True,
                config=self.stack_config,
                config_secret_keys=self.secret_keys,
                tags=self.stack_tags,
            ),
            optional=True,
        )

    def info(self) -> PackInfo:
        """``GetAnalyzerInfo`` and ``GetPluginInfo``."""
        response = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        plugin = self._call("GetPluginInfo", empty_pb2.Empty(), optional=True)
        initial = {
            name: PolicyConfig(
                ENFORCEMENT_NAMES.get(value.enforcementLevel, "advisory"),
                json_format.MessageToDict(value.properties) or None,
            )
            for name, value in response.initialConfig.items()
        }
        # As the CLI does, the version in PulumiPolicy.yaml wins over the one the pack reports.
        return PackInfo(
            name=response.name,
            version=read_manifest(self.pack_dir).version or response.version,
            sdk_version=plugin.version if plugin is not None else "",
            policies=tuple(
                sorted((_policy_meta(p) for p in response.policies), key=lambda p: p.name)
            ),
            initial_config=initial,
        )

    def configure(self, config: Mapping[str, PolicyConfig]) -> None:
        """``Configure`` with one entry per policy (the CLI skips the call for an empty config)."""
        if not config:
            return
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, value in config.items():
            entry = request.policyConfig[name]
            entry.enforcementLevel = _ENFORCEMENT_VALUES[value.enforcement_level or "advisory"]
            if value.properties:
                entry.properties.update(value.properties)
        self._call("Configure", request)

    def remediate(
        self, resource: PlanResource, provider: PlanResource | None = None
    ) -> analyzer_pb2.RemediateResponse | None:
        """``Remediate`` one resource (None when the pack does not implement it)."""
        request = analyzer_pb2.AnalyzeRequest(
            urn=resource.urn,
            type=resource.type,
            name=resource.urn.rsplit("::", 1)[-1],
            # Unlike Analyze, the engine keeps internal keys here (SkipInternalKeys: false).
            properties=to_struct(resource.inputs, skip_internal=False),
            options=_options(resource),
        )
        if provider is not None:
            request.provider.CopyFrom(_provider(provider))
        response: analyzer_pb2.RemediateResponse | None = self._call(
            "Remediate", request, optional=True
        )
        return response

    def analyze(
        self, resource: PlanResource, provider: PlanResource | None = None
    ) -> analyzer_pb2.AnalyzeResponse:
        """``Analyze`` one resource with its inputs, options and provider."""
        request = analyzer_pb2.AnalyzeRequest(
            urn=resource.urn,
            type=resource.type,
            name=resource.urn.rsplit("::", 1)[-1],
            properties=to_struct(resource.inputs),
            options=_options(resource),
        )
        if provider is not None:
            request.provider.CopyFrom(_provider(provider))
        response: analyzer_pb2.AnalyzeResponse = self._call("Analyze", request)
        return response

    def analyze_stack(self, resources: Sequence[PlanResource]) -> analyzer_pb2.AnalyzeResponse:
        """``AnalyzeStack`` once: parents, dependencies, property dependencies and providers."""
        request = analyzer_pb2.AnalyzeStackRequest()
        by_urn = {r.urn: r for r in resources}
        for resource in resources:
            item = request.resources.add(
                urn=resource.urn,
                type=resource.type,
                name=resource.urn.rsplit("::", 1)[-1],
                properties=to_struct(resource.inputs),
                options=_options(resource),
                parent=resource.parent,
                dependencies=list(resource.dependencies),
            )
            for key, urns in resource.property_dependencies.items():
                if urns:  # the engine skips properties with no dependencies
                    item.propertyDependencies[key].urns.extend(urns)
            if resource.provider in by_urn:
                item.provider.CopyFrom(_provider(by_urn[resource.provider]))
        response: analyzer_pb2.AnalyzeResponse = self._call("AnalyzeStack", request)
        return response


def _provider(provider: PlanResource) -> analyzer_pb2.AnalyzerProviderResource:
    return analyzer_pb2.AnalyzerProviderResource(
        urn=provider.urn,
        type=provider.type,
        name=provider.urn.rsplit("::", 1)[-1],
        properties=to_struct(provider.inputs),
    )


def _options(resource: PlanResource) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=resource.protect,
        ignoreChanges=list(resource.ignore_changes),
        deleteBeforeReplace=bool(resource.delete_before_replace),
        deleteBeforeReplaceDefined=resource.delete_before_replace is not None,
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(),
        parent=resource.parent,
    )


def default_providers(plan: Plan, provider_config: Mapping[str, Any]) -> list[PlanResource]:
    """The default provider the engine registers for each package whose custom resources name no
    provider (``pulumi:providers:aws::default_7_51_1``), with the inputs it gives it: the stack's
    ``<package>:<key>`` config and the plugin version. A default provider the plan already holds
    is reused as it is."""
    packages = sorted(
        {
            r.type.split(":", 1)[0]
            for r in plan.resources
            if r.custom and not r.type.startswith("pulumi:") and not r.provider
        }
    )
    in_plan = plan.by_urn()
    providers = []
    for package in packages:
        try:
            version = metadata.version(f"pulumi_{package}")
        except metadata.PackageNotFoundError:
            version = ""
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        urn = f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:providers:{package}::{name}"
        if urn in in_plan:
            providers.append(in_plan[urn])
            continue
        inputs: dict[str, Any] = {
            key.split(":", 1)[1]: value
            for key, value in provider_config.items()
            if key.startswith(f"{package}:")
        }
        if version:
            inputs["version"] = version
        providers.append(
            PlanResource(
                urn=urn,
                type=f"pulumi:providers:{package}",
                name=name,
                custom=True,
                parent="",
                dependencies=(),
                property_dependencies={},
                inputs=inputs,
            )
        )
    return providers


def registrations(plan: Plan, provider_config: Mapping[str, Any]) -> list[PlanResource]:
    """Every resource the engine would see, in registration order: the root stack resource
    (always first; its stack-analysis properties are the stack outputs), the default providers
    (registered before their first use), then the plan's resources, each custom resource pointing
    at its package's default provider unless the plan names another."""
    providers = default_providers(plan, provider_config)
    by_package = {p.type.removeprefix("pulumi:providers:"): p.urn for p in providers}
    provider_urns = {p.urn for p in providers}
    resources = [
        replace(r, provider=by_package[r.type.split(":", 1)[0]])
        if r.custom and not r.provider and r.type.split(":", 1)[0] in by_package
        else r
        for r in plan.resources
        if r.urn not in provider_urns  # a default provider from the plan goes first, once
    ]
    head: list[PlanResource] = []
    if not any(r.type == STACK_TYPE for r in resources):
        head.append(
            PlanResource(
                urn=plan.stack_urn,
                type=STACK_TYPE,
                name=f"{plan.project}-{plan.stack}",
                custom=False,
                parent="",
                dependencies=(),
                property_dependencies={},
                inputs={},
            )
        )
    return head + providers + resources


def _attribute(diagnostics: Any, sink: list[Diagnostic], *, resource_urn: str = "") -> None:
    for d in diagnostics:
        level = ENFORCEMENT_NAMES.get(d.enforcementLevel, "advisory")
        sink.append(
            Diagnostic(
                policy_name=d.policyName,
                pack_name=d.policyPackName,
                description=d.description,
                message=d.message,
                # The engine reports a remediate-level violation that still fires as mandatory.
                enforcement_level="mandatory" if level == "remediate" else level,
                severity=SEVERITY_NAMES.get(d.severity, ""),
                # For Analyze the engine always reports against the analyzed resource; for
                # AnalyzeStack it uses the URN the policy named ("" = the stack as a whole).
                urn=resource_urn or d.urn,
            )
        )


def _remediated(
    pack: PolicyPackProcess, resource: PlanResource, provider: PlanResource | None, run: PackRun
) -> PlanResource:
    response = pack.remediate(resource, provider)
    if response is None:
        return resource
    for remediation in response.remediations:
        if remediation.diagnostic:
            # The engine shows a remediation that could not run as an advisory violation.
            run.diagnostics.append(
                Diagnostic(
                    policy_name=remediation.policyName,
                    pack_name=remediation.policyPackName,
                    description=remediation.description,
                    message=remediation.diagnostic,
                    enforcement_level="advisory",
                    severity="",
                    urn=resource.urn,
                )
            )
        elif remediation.HasField("properties"):
            resource = replace(resource, inputs=json_format.MessageToDict(remediation.properties))
            run.remediations.append(f"{remediation.policyName} remediated {resource.urn}")
    return resource


def run_pack(
    pack: PolicyPackProcess,
    plan: Plan,
    config: Mapping[str, PolicyConfig],
    info: PackInfo,
    provider_config: Mapping[str, Any] | None = None,
) -> PackRun:
    """Configure the running pack, then analyze every resource and the stack as a preview does.

    ``provider_config`` is the stack's config (``aws:region``...), the inputs of the default
    providers the engine registers.
    """
    pack.configure(config)
    run = PackRun(info=info)
    resources = registrations(plan, provider_config or {})
    by_urn = {r.urn: r for r in resources}
    for index, resource in enumerate(resources):
        provider = by_urn.get(resource.provider)
        # As the engine does: remediations first, then analysis of the remediated properties.
        resource = _remediated(pack, resource, provider, run)
        resources[index] = resource
        response = pack.analyze(resource, provider)
        run.analyzed_resources += 1
        _attribute(response.diagnostics, run.diagnostics, resource_urn=resource.urn)
        for item in response.not_applicable:
            run.not_applicable[item.policy_name] = run.not_applicable.get(item.policy_name, 0) + 1
    # In stack analysis the engine shows each resource's state; for the root stack resource that
    # is its outputs (the program's exports).
    stack_view = [replace(r, inputs=plan.outputs) if r.type == STACK_TYPE else r for r in resources]
    response = pack.analyze_stack(stack_view)
    _attribute(response.diagnostics, run.diagnostics)
    return run
