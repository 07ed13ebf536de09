"""The pack's analyzer: the SDK's, plus the pack's own config checks in ``Configure``.

The SDK accepts any ``Configure``; this pack refuses a config that :mod:`hipaa_guardrails.
pack_config` finds wrong, with INVALID_ARGUMENT and every problem, so ``pulumi preview`` fails
on it exactly as the offline gate does (both send the same reconciled config). An accepted config
that lowers a rule below its secure level is reported as a ``CONFIG DEVIATION``.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk_policy  # private servicer below; the SDK is pinned

from hipaa_guardrails import exemptions, pack_config
from hipaa_guardrails.registry import PACK_NAME, build_policies

_LEVEL_NAMES = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}


def received_config(request: analyzer_pb2.ConfigureAnalyzerRequest) -> dict[str, Any]:
    """The entries of a ``Configure`` request as :class:`pack_config.PolicyConfig`."""
    return {
        name: pack_config.PolicyConfig(
            _LEVEL_NAMES.get(entry.enforcementLevel, "advisory"),
            json_format.MessageToDict(entry.properties),
        )
        for name, entry in request.policyConfig.items()
    }


class ConfigCheckingAnalyzer(sdk_policy._PolicyAnalyzerServicer):
    """The SDK's analyzer servicer whose ``Configure`` runs the pack's config checks first."""

    def Configure(self, request: Any, context: Any) -> empty_pb2.Empty:
        config = received_config(request)
        found = pack_config.problems(config)
        if found:
            context.set_code(grpc.StatusCode.INVALID_ARGUMENT)
            context.set_details(pack_config.describe(found))
            return empty_pb2.Empty()
        exemptions.LEDGER.deviate(pack_config.level_deviations(config))
        result: empty_pb2.Empty = super().Configure(request, context)  # type: ignore[no-untyped-call]
        return result


def install() -> None:
    """Make ``PolicyPack`` serve :class:`ConfigCheckingAnalyzer` (it looks the servicer class up
    in its module when constructed)."""
    sdk_policy._PolicyAnalyzerServicer = ConfigCheckingAnalyzer  # type: ignore[misc]


def in_process() -> ConfigCheckingAnalyzer:
    """The pack's analyzer without a server, as ``__main__`` builds it (for tests)."""
    return ConfigCheckingAnalyzer(PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY)
