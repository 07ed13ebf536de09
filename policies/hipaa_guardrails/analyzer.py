"""The pack's analyzer: the SDK's, plus the pack's own config checks in ``Configure``.

The SDK accepts any ``Configure``; this pack refuses a config that :mod:`hipaa_guardrails.
pack_config` finds wrong, with INVALID_ARGUMENT and every problem, so ``pulumi preview`` fails
on it exactly as the offline gate does (both send the same reconciled config). An accepted config
that lowers a rule below its secure level is reported as a ``CONFIG DEVIATION``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel
from pulumi_policy import policy as sdk_policy  # private servicer below; the SDK is pinned

from hipaa_guardrails import exemptions, pack_config, registry
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


class _OncePerRequest(threading.local):
    """Within one ``Analyze``/``AnalyzeStack`` call (per thread): each protobuf message's
    ``MessageToDict`` result, so the SDK converts a resource's properties once, not once per
    policy (53 times per resource, most of the pack's time)."""

    active = False
    converted: dict[tuple[str, bytes], Any]
    results: dict[tuple[str, int], tuple[Any, Any]]


_ONCE = _OncePerRequest()


class _JsonFormat(ModuleType):
    """``json_format`` as the SDK's module sees it: the real one, with ``MessageToDict`` answered
    from the per-request cache while a request is analyzed. The dict is shared by the policies of
    that request, which only read it (the SDK wraps it in a read-only proxy)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)

    @staticmethod
    def MessageToDict(message: Any, *args: Any, **kwargs: Any) -> Any:
        if not _ONCE.active or args or kwargs:
            return json_format.MessageToDict(message, *args, **kwargs)
        # Keyed by content, never by identity: protobuf hands out short-lived wrapper objects
        # whose ids are reused for other messages.
        key = (message.DESCRIPTOR.full_name, message.SerializeToString(deterministic=True))
        if key not in _ONCE.converted:
            _ONCE.converted[key] = json_format.MessageToDict(message)
        return _ONCE.converted[key]


def _once_per_request(name: str, function: Any) -> Any:
    """``function`` answered once per argument object within a request: the SDK deserializes and
    wraps a resource's (cached, so identical) properties, and looks up its options and provider,
    once per policy; with 200 resources and 90 policies that was most of the analysis. The cache
    holds the argument itself, so an id is never reused for another object while it lives."""

    def once(value: Any, *args: Any, **kwargs: Any) -> Any:
        if not _ONCE.active or args or kwargs:
            return function(value, *args, **kwargs)
        key = (name, id(value))
        hit = _ONCE.results.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        result = function(value)
        _ONCE.results[key] = (value, result)
        return result

    once.shares_per_request = True  # type: ignore[attr-defined]
    return once


@contextmanager
def _converting_once() -> Iterator[None]:
    _ONCE.active, _ONCE.converted, _ONCE.results = True, {}, {}
    try:
        yield
    finally:
        _ONCE.active, _ONCE.converted, _ONCE.results = False, {}, {}


class ConfigCheckingAnalyzer(sdk_policy._PolicyAnalyzerServicer):
    """The SDK's analyzer servicer whose ``Configure`` runs the pack's config checks first, and
    whose analyses convert each resource's properties once."""

    def Analyze(self, request: Any, context: Any) -> Any:
        with _converting_once():
            return super().Analyze(request, context)  # type: ignore[no-untyped-call]

    def AnalyzeStack(self, request: Any, context: Any) -> Any:
        with _converting_once():
            return super().AnalyzeStack(request, context)  # type: ignore[no-untyped-call]

    def _get_resource_options(self, request: Any) -> Any:
        parent = super()._get_resource_options
        return _once_per_request("options", parent)(request)

    def _get_provider_resource(self, request: Any) -> Any:
        parent = super()._get_provider_resource
        return _once_per_request("provider", parent)(request)

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
    _share_conversions()


def _share_conversions() -> None:
    """Point the SDK's module at the caching ``json_format`` (idempotent)."""
    # The SDK's module imports json_format by name; it is not part of its public interface.
    if not isinstance(getattr(sdk_policy, "json_format", None), _JsonFormat):
        setattr(sdk_policy, "json_format", _JsonFormat("json_format"))  # noqa: B010
    # Likewise the SDK's module-level names for deserializing and proxying the properties, and
    # the registry's plain view of them (rules only read it).
    for module, name in (
        (sdk_policy, "deserialize_properties"),
        (sdk_policy, "unknown_checking_proxy"),
        (registry, "plain"),
    ):
        current = getattr(module, name)
        if not getattr(current, "shares_per_request", False):
            setattr(module, name, _once_per_request(name, current))


def in_process() -> ConfigCheckingAnalyzer:
    """The pack's analyzer without a server, as ``__main__`` builds it (for tests)."""
    _share_conversions()
    return ConfigCheckingAnalyzer(PACK_NAME, "0.0.1", build_policies(), EnforcementLevel.ADVISORY)
