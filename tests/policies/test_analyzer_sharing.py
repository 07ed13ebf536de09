"""The pack's analyzer converts a resource's properties once per request, not once per policy:
every policy of one ``Analyze`` call gets the same read-only view, and the next call a new one."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2
from hipaa_guardrails import analyzer
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import policy as sdk_policy

QUEUE = "aws:sqs/queue:Queue"


class _Context:
    def set_code(self, code: Any) -> None:
        raise AssertionError(f"unexpected status {code}")

    def set_details(self, details: str) -> None:
        raise AssertionError(details)


def _request(name: str, retention: int) -> Any:
    properties = struct_pb2.Struct()
    properties.update({"name": name, "messageRetentionSeconds": retention})
    return analyzer_pb2.AnalyzeRequest(
        type=QUEUE,
        properties=properties,
        urn=f"urn:pulumi:dev::medeez-platform::{QUEUE}::{name}",
        name=name,
    )


def test_every_policy_of_a_request_shares_one_view_and_requests_do_not(monkeypatch) -> None:
    servicer = analyzer.in_process()
    shared = sdk_policy.unknown_checking_proxy  # the per-request wrapper in_process installed
    views: list[Any] = []

    def recording(value: Any, *args: Any, **kwargs: Any) -> Any:
        views.append(shared(value, *args, **kwargs))
        return views[-1]

    monkeypatch.setattr(sdk_policy, "unknown_checking_proxy", recording)
    first = servicer.Analyze(_request("failures", 1209600), _Context())
    per_request = len(views)
    assert per_request > 50  # one call per resource policy of the pack
    assert all(view is views[0] for view in views)
    servicer.Analyze(_request("other", 60), _Context())
    second = views[per_request:]
    assert len(second) == per_request
    assert all(view is second[0] for view in second)
    assert second[0] is not views[0]
    assert second[0]["messageRetentionSeconds"] == 60
    # The shared view changes nothing a rule decides: the unencrypted queue is still reported.
    assert any("kmsMasterKeyId" in d.message for d in first.diagnostics)
