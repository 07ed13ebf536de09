"""S3-1 (TLS version): buckets refuse requests below TLS 1.2."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import actions
from hipaa_guardrails.props import as_list, get, policy_document, statements
from hipaa_guardrails.resource_types import S3_BUCKET_POLICY
from hipaa_guardrails.rules.s3._attached import BUCKET_TYPES, attached
from hipaa_guardrails.spec import Finding, Guardrail, Scope, Stack


def _floor(statement: Mapping[str, Any]) -> float | None:
    """The TLS version below which a Deny-everyone-everything statement refuses requests."""
    principal = statement.get("Principal")
    everyone = principal == "*" or (
        isinstance(principal, Mapping) and "*" in as_list(principal.get("AWS"))
    )
    if statement.get("Effect") != "Deny" or not everyone:
        return None
    if not {"s3:*", "*"} & set(actions(statement)):
        return None
    block = (statement.get("Condition") or {}).get("NumericLessThan")
    if not isinstance(block, Mapping) or "s3:TlsVersion" not in block:
        return None
    try:
        return max(float(v) for v in as_list(block["s3:TlsVersion"]))
    except (TypeError, ValueError):
        return None


def _denies_below(policy_resource: Any, minimum: float) -> bool:
    try:
        document = policy_document(get(policy_resource.props, "policy"), "policy")
    except ValueError:
        return False
    if document is None:
        return False
    floors = [f for s in statements(document) if (f := _floor(s)) is not None]
    return any(f >= minimum for f in floors)


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    minimum = float(config["minTlsVersion"])
    for bucket in stack.of_type(*BUCKET_TYPES):
        if not any(_denies_below(p, minimum) for p in attached(stack, bucket, S3_BUCKET_POLICY)):
            yield Finding(
                f"bucket {bucket.name} has no bucket policy denying s3:* to everyone when "
                f"s3:TlsVersion is NumericLessThan {config['minTlsVersion']}",
                bucket.urn,
            )


RULE = Guardrail(
    name="hipaa-s3-bucket-tls-minimum-version",
    catalog_id="S3-1",
    title="S3 refuses TLS below 1.2",
    description=(
        "Every S3 bucket must have a policy that denies requests made with a TLS version below "
        "the minimum (1.2)."
    ),
    severity=Severity.HIGH,
    controls=("164.312(e)(1)", "164.312(e)(2)(i)"),
    judgement=True,
    remediation=(
        "Add to the bucket policy a Deny of s3:* for Principal * with Condition "
        '{"NumericLessThan": {"s3:TlsVersion": "1.2"}} on the bucket and bucket/*.'
    ),
    unknowns="A bucket policy that is unknown during preview defers this rule to `pulumi up`.",
    scope=Scope.STACK,
    resource_types=BUCKET_TYPES,
    check=check,
    url="https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html",
    config_properties={
        "minTlsVersion": {
            "type": "string",
            "enum": ["1.2", "1.3"],
            "default": "1.2",
            "description": "The lowest TLS version a bucket may accept.",
        }
    },
)
