"""S3 (CKV_AWS_385): only this account (and AWS services acting for it) may publish to a topic."""

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import sid
from hipaa_guardrails.props import as_list, get, policy_document, statements
from hipaa_guardrails.resource_types import SNS_TOPIC, SNS_TOPIC_POLICY
from hipaa_guardrails.spec import Guardrail, NotApplicable, Resource, Scope

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
#: Condition keys that pin the caller (or the resource acting for it) to an account.
_ACCOUNT_KEYS = ("aws:sourceaccount", "aws:sourceowner", "aws:principalaccount")
_ARN_KEYS = ("aws:sourcearn", "aws:principalarn")
_EQUALS = re.compile(r"^(StringEquals|StringLike|ArnEquals|ArnLike)$")


def _account_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" else None


def _publishes(statement: Mapping[str, Any]) -> bool:
    if statement.get("NotAction"):
        return True
    patterns = [str(a).lower() for a in as_list(statement.get("Action"))]
    return any(re.fullmatch(re.escape(p).replace(r"\*", ".*"), "sns:publish") for p in patterns)


def _topic_account(resource: Resource, statement: Mapping[str, Any]) -> str | None:
    for candidate in [*as_list(statement.get("Resource")), get(resource.props, "arn")]:
        if isinstance(candidate, str):
            account = _account_of_arn(candidate)
            if account and _ACCOUNT_ID.match(account):
                return account
    return None


def _condition_values(statement: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    condition = statement.get("Condition")
    found: list[str] = []
    if not isinstance(condition, Mapping):
        return found
    for operator, block in condition.items():
        if not _EQUALS.match(str(operator)) or not isinstance(block, Mapping):
            continue
        for key, values in block.items():
            if str(key).lower() in keys:
                found += [str(v) for v in as_list(values)]
    return found


def _scoped_to(statement: Mapping[str, Any], account: str) -> bool:
    """True if a Condition pins the request to ``account`` (and nothing else)."""
    accounts = _condition_values(statement, _ACCOUNT_KEYS)
    arns = _condition_values(statement, _ARN_KEYS)
    if not accounts and not arns:
        return False
    return all(a == account for a in accounts) and all(_account_of_arn(a) == account for a in arns)


def _foreign(principal: Any, account: str) -> list[str]:
    """The AWS principals (ids or ARNs) not of ``account``."""
    if principal == "*":
        return ["*"]
    if not isinstance(principal, Mapping):
        return [str(principal)]
    foreign = []
    for kind, values in principal.items():
        for value in map(str, as_list(values)):
            if kind == "AWS":
                owner = value if _ACCOUNT_ID.match(value) else _account_of_arn(value)
                if owner != account:
                    foreign.append(value)
            elif kind != "Service":
                foreign.append(f"{kind} {value}")
    return foreign


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    try:
        document = policy_document(get(resource.props, "policy"), "policy")
    except ValueError as exc:
        yield str(exc)
        return
    if document is None:
        raise NotApplicable("no inline topic policy")
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _publishes(statement):
            continue
        where = sid(statement, index)
        account = _topic_account(resource, statement)
        if account is None:
            yield (
                f"policy statement {where} allows sns:Publish but names no topic ARN, so the "
                "topic's own account cannot be told from others"
            )
            continue
        if _scoped_to(statement, account):
            continue
        principal = statement.get("Principal")
        services = (
            [str(s) for s in as_list(principal.get("Service"))]
            if isinstance(principal, Mapping)
            else []
        )
        foreign = _foreign(principal, account)
        if foreign:
            yield (
                f"policy statement {where} lets {', '.join(foreign)} publish, which is not "
                f"account {account}, with no aws:SourceAccount/aws:SourceArn condition pinning "
                "it to this account"
            )
        elif services:
            yield (
                f"policy statement {where} lets {', '.join(services)} publish for any account: "
                f"add aws:SourceAccount = {account} (or an aws:SourceArn of this account)"
            )


RULE = Guardrail(
    name="hipaa-sns-topic-publish-same-account",
    catalog_id="S3",
    title="SNS topic takes publishes from this account only",
    description=(
        "SNS topic policies must not let other accounts publish: every Allow on sns:Publish "
        "names principals of the topic's own account, or AWS service principals pinned to it "
        "by an aws:SourceAccount or aws:SourceArn condition."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.312(c)(1)"),
    judgement=True,
    remediation=(
        "Name this account's principals, and give each service principal "
        "Condition StringEquals aws:SourceAccount = <account> (plus ArnLike aws:SourceArn)."
    ),
    unknowns=(
        "A policy document that is unknown during preview defers this rule to `pulumi up`; the "
        "topic's account is read from the statement's Resource (or the policy's arn)."
    ),
    scope=Scope.RESOURCE,
    resource_types=(SNS_TOPIC_POLICY, SNS_TOPIC),
    check=check,
    checkov="CKV_AWS_385",
)
