"""L6: functions run on a runtime AWS still patches (not deprecated or about to be)."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, get
from hipaa_guardrails.resource_types import LAMBDA_FUNCTION
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

#: Managed runtimes with no deprecation date before 2027 (AWS Lambda "Runtime deprecation
#: policy", read 2026-12-01). Review this list when AWS announces a date.
SUPPORTED_RUNTIMES = frozenset(
    {
        "python3.12",
        "python3.13",
        "nodejs22.x",
        "java21",
        "dotnet8",
        "ruby3.4",
        "provided.al2023",
    }
)


def check(function: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    runtime = get(function.props, "runtime")
    if runtime is MISSING and get(function.props, "packageType") == "Image":
        raise NotApplicable("a container image function has no managed runtime")
    if runtime is UNKNOWN:
        yield "runtime is unknown during preview (fails closed)"
    elif runtime not in SUPPORTED_RUNTIMES:
        shown = "not set" if runtime is MISSING else runtime
        allowed = ", ".join(sorted(SUPPORTED_RUNTIMES))
        yield f"runtime is {shown}; use one AWS still patches: {allowed}"


RULE = Guardrail(
    name="hipaa-lambda-runtime-supported",
    catalog_id="L6",
    title="Lambda runtime supported",
    description=(
        "Functions must use a managed runtime that is not deprecated, so the language runtime "
        "keeps getting security patches."
    ),
    severity=Severity.MEDIUM,
    controls=("164.308(a)(1)(ii)(B)", "164.308(a)(5)(ii)(B)"),
    remediation=(
        "Pin a supported runtime (streamConsumer.runtime) and rebuild the layer for it "
        "(make consumer-layer)."
    ),
    unknowns="An unknown runtime fails closed.",
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_FUNCTION,),
    check=check,
    cdk_nag="AwsSolutions-L1",
    checkov="CKV_AWS_363",
)
