"""The identity-policy documents a resource carries, wherever pulumi-aws puts them."""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from hipaa_guardrails.props import get, items_of, policy_document
from hipaa_guardrails.resource_types import (
    IAM_GROUP_POLICY,
    IAM_POLICY,
    IAM_ROLE,
    IAM_ROLE_POLICY,
    IAM_USER_POLICY,
)
from hipaa_guardrails.spec import Resource

#: Types whose ``policy`` input is an identity policy.
POLICY_TYPES = (IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY)
DOCUMENT_TYPES = (*POLICY_TYPES, IAM_ROLE)


def identity_documents(resource: Resource) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, document) for each identity policy on the resource; raises ValueError for text that
    is not a policy document, and defers on unknown documents."""
    if resource.type in POLICY_TYPES:
        document = policy_document(get(resource.props, "policy"), "policy")
        if document is not None:
            yield "policy", document
    elif resource.type == IAM_ROLE:
        for index, inline in enumerate(items_of(get(resource.props, "inlinePolicies"))):
            path = f"inlinePolicies[{index}].policy"
            document = policy_document(get(inline, "policy"), path)
            if document is not None:
                yield path, document


def document_findings(
    resource: Resource, find: Callable[[str, dict[str, Any]], Iterable[str]]
) -> Iterator[str]:
    """``find(label, document)`` over each identity policy of the resource; text that is not a
    policy document is itself the finding."""
    try:
        documents = list(identity_documents(resource))
    except ValueError as exc:
        yield str(exc)
        return
    for label, document in documents:
        yield from find(label, document)
