"""D6: a table-stream consumer never drops records silently and never retries forever."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.props import MISSING, UNKNOWN, describe, get, is_present
from hipaa_guardrails.resource_types import LAMBDA_EVENT_SOURCE_MAPPING
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope


def check(mapping: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    source = get(mapping.props, "eventSourceArn")
    stream = get(mapping.props, "startingPosition") is not MISSING or (
        isinstance(source, str) and ":stream/" in source
    )
    if not stream:
        raise NotApplicable("not a stream event source")
    if not is_present(get(mapping.props, "destinationConfig", "onFailure", "destinationArn")):
        yield "destinationConfig.onFailure.destinationArn is not set; failed batches are dropped"
    retries = get(mapping.props, "maximumRetryAttempts")
    if retries is UNKNOWN:
        yield "maximumRetryAttempts is unknown during preview (fails closed)"
    elif retries is MISSING or retries == -1:
        yield "maximumRetryAttempts is unbounded; a poison record blocks the shard for 24 hours"
    bisect = get(mapping.props, "bisectBatchOnFunctionError")
    if bisect is not True:
        yield f"bisectBatchOnFunctionError is {describe(bisect)}; one bad record fails its batch"
    age = get(mapping.props, "maximumRecordAgeInSeconds")
    if age is UNKNOWN:
        yield "maximumRecordAgeInSeconds is unknown during preview (fails closed)"
    elif age is MISSING or age == -1:
        yield (
            "maximumRecordAgeInSeconds is unbounded; records are retried until the stream drops "
            "them (24 hours) instead of reaching the failure destination"
        )
    types = get(mapping.props, "functionResponseTypes")
    if types is UNKNOWN:
        yield "functionResponseTypes is unknown during preview (fails closed)"
    elif not isinstance(types, list) or "ReportBatchItemFailures" not in types:
        yield (
            "functionResponseTypes lacks ReportBatchItemFailures; a poison record is retried "
            "with every neighbour of its batch"
        )


RULE = Guardrail(
    name="hipaa-lambda-stream-consumer-failure-destination",
    catalog_id="D6",
    title="Stream consumers keep failed records",
    description=(
        "Stream event source mappings must send failed batches to a destination, bound retries "
        "and record age, split failing batches and report the failed records."
    ),
    severity=Severity.MEDIUM,
    controls=("164.312(b)", "164.312(c)(1)"),
    judgement=True,
    remediation=(
        "Set destination_config.on_failure.destination_arn (an encrypted SQS queue), "
        "maximum_retry_attempts, maximum_record_age_in_seconds, "
        "bisect_batch_on_function_error=True and function_response_types="
        "['ReportBatchItemFailures']."
    ),
    unknowns=(
        "An unknown retry count, record age, bisect flag or response type list fails closed; an "
        "unknown ARN that is set counts."
    ),
    scope=Scope.RESOURCE,
    resource_types=(LAMBDA_EVENT_SOURCE_MAPPING,),
    check=check,
    cdk_nag="Serverless-LambdaEventSourceMappingDestination",
)
