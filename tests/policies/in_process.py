"""The HIPAA pack's own analyzer, called in process by the gate's run loop.

The servicer is the one ``policies/__main__.py`` serves (the SDK's, with the pack's config checks in
``Configure``); the loop, the requests and the config reconciliation are the gate's. Only the gRPC
transport is left out (the gate's tests cover it), so a status the servicer sets (a refused config,
an unimplemented call) is turned into what the gate's client makes of it over gRPC.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc
from hipaa_guardrails import analyzer

from tools.gate.pack_config import PolicyConfig, load_pack_config, parse_pack_config, reconcile
from tools.gate.pack_process import PackError, PackRejected
from tools.gate.plan_input import Plan
from tools.gate.protocol import PackInfo
from tools.gate.run_loop import PackRun, pack_info, run_pack


class _Context:
    """The part of ``grpc.ServicerContext`` the SDK's servicer uses."""

    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details


class InProcessPack:
    """An :class:`tools.gate.run_loop.AnalyzerClient` over the pack's servicer."""

    def __init__(self) -> None:
        self.servicer = analyzer.in_process()

    def call(self, method: str, request: Any, *, optional: bool = False) -> Any:
        context = _Context()
        try:
            response = getattr(self.servicer, method)(request, context)
        except NotImplementedError:
            response = None
        if context.code == grpc.StatusCode.UNIMPLEMENTED and optional:
            return None
        if context.code == grpc.StatusCode.INVALID_ARGUMENT:
            raise PackRejected(method, context.details)
        if context.code is not None:
            raise PackError(f"the policy pack failed in {method}: {context.details}")
        return response

    def info(self) -> PackInfo:
        return pack_info(self)

    def reconcile(self, document: Any, source: str = "test.json") -> dict[str, PolicyConfig]:
        """``document`` as the CLI reconciles it against this pack's metadata."""
        info = self.info()
        return reconcile(
            [p.schema() for p in info.policies],
            info.initial_config,
            parse_pack_config(document, source),
            source,
        )

    def run(self, plan: Plan, config_file: Path, provider_config: dict[str, Any]) -> PackRun:
        """The gate's run loop over ``plan`` with the stack's pack config file."""
        info = self.info()
        config = reconcile(
            [p.schema() for p in info.policies],
            info.initial_config,
            load_pack_config(config_file),
            str(config_file),
        )
        return run_pack(self, plan, config, info, provider_config)
