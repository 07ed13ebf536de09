"""D9: item access to a table is confined to the caller's tenant (dynamodb:LeadingKeys)."""

import fnmatch
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.iam import actions, sid
from hipaa_guardrails.props import as_list, statements
from hipaa_guardrails.rules.iam._documents import DOCUMENT_TYPES, document_findings
from hipaa_guardrails.spec import Guardrail, Resource, Scope

#: Item actions a LeadingKeys condition can confine to one partition-key prefix.
ITEM_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)
#: Actions that read across partitions and cannot be tenant-scoped at all.
CROSS_TENANT_ACTIONS = ("dynamodb:Scan", "dynamodb:PartiQLSelect")
OPERATORS = (
    "ForAllValues:StringEquals",
    "ForAllValues:StringLike",
)
#: KMS operations whose encryption context can (and for the PHI key must) name the tenant.
KMS_CRYPTO_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GenerateDataKeyPair",
)


def _granted(statement: Mapping[str, Any], candidates: tuple[str, ...]) -> list[str]:
    patterns = [a.lower() for a in actions(statement)]
    return [c for c in candidates if any(fnmatch.fnmatchcase(c.lower(), p) for p in patterns)]


def _on_tables(statement: Mapping[str, Any], pattern: re.Pattern[str]) -> bool:
    return any(r == "*" or pattern.fullmatch(str(r)) for r in as_list(statement.get("Resource")))


def _condition(statement: Mapping[str, Any]) -> Mapping[str, Any]:
    condition = statement.get("Condition")
    return condition if isinstance(condition, Mapping) else {}


def _leading_keys_values(statement: Mapping[str, Any]) -> list[str] | None:
    """The values of the statement's ForAllValues LeadingKeys condition, or None without one."""
    condition = _condition(statement)
    found: list[str] | None = None
    for op in OPERATORS:
        block = condition.get(op)
        if isinstance(block, Mapping) and "dynamodb:LeadingKeys" in block:
            found = (found or []) + [str(v) for v in as_list(block["dynamodb:LeadingKeys"])]
    return found


def _guarded(statement: Mapping[str, Any]) -> bool:
    """ForAllValues holds for a request with no partition key at all: a Null check (false) or a
    ForAnyValue condition on LeadingKeys must make the key required."""
    condition = _condition(statement)
    null = condition.get("Null")
    if isinstance(null, Mapping) and str(null.get("dynamodb:LeadingKeys")).lower() == "false":
        return True
    return any(
        op.startswith("ForAnyValue:")
        and isinstance(block, Mapping)
        and "dynamodb:LeadingKeys" in block
        for op, block in condition.items()
    )


def _value_problem(value: str, variable: str) -> str | None:
    """Why a LeadingKeys value does not confine a key to the principal's tenant, or None.

    Confining: the tenant variable appears once, nothing before it is a wildcard, and it ends
    the value or is followed by the key separator (``CLINIC#${tag}`` or ``CLINIC#${tag}#*``)."""
    if variable not in value:
        return f"does not reference {variable}, so it is the same for every tenant"
    before, _, after = value.partition(variable)
    if "*" in before or "?" in before:
        return "has a wildcard before the tenant, so it matches other tenants' keys"
    if variable in after:
        return f"repeats {variable}"
    if after and not after.startswith("#"):
        return (
            f"does not end the tenant at a delimiter ('{variable}{after}'), so tenant 'A' "
            "also reaches tenant 'AB'"
        )
    return None


def check(resource: Resource, config: Mapping[str, Any]) -> Iterator[str]:
    pattern = re.compile(str(config["tableArnPattern"]))
    variable = "${aws:PrincipalTag/" + str(config["tenantTag"]) + "}"
    context_key = "kms:EncryptionContext:" + str(config["tenantTag"])
    yield from document_findings(
        resource,
        lambda label, document: _findings(label, document, pattern, variable, context_key),
    )


def _findings(
    label: str,
    document: dict[str, Any],
    pattern: re.Pattern[str],
    variable: str,
    context_key: str,
) -> Iterator[str]:
    tenant_scoped = False
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _on_tables(statement, pattern):
            continue
        where = f"{label}: statement {sid(statement, index)}"
        cross = _granted(statement, CROSS_TENANT_ACTIONS)
        if cross:
            yield f"{where} allows {', '.join(cross)}, which reads every tenant's items"
        items = _granted(statement, ITEM_ACTIONS)
        if not items:
            continue
        values = _leading_keys_values(statement)
        shown = ", ".join(items[:3]) + (", ..." if len(items) > 3 else "")
        if values is None:
            yield (
                f"{where} allows {shown} without a ForAllValues:StringEquals/StringLike "
                "condition on dynamodb:LeadingKeys, so one tenant could read another's items"
            )
            continue
        tenant_scoped = True
        for value in values:
            problem = _value_problem(value, variable)
            if problem:
                yield f"{where}: dynamodb:LeadingKeys value '{value}' {problem}"
        if not _guarded(statement):
            yield (
                f"{where} allows {shown} under ForAllValues without requiring "
                "dynamodb:LeadingKeys (Null false): a request without partition keys passes"
            )
    if tenant_scoped:
        yield from _kms_findings(label, document, variable, context_key)


def _kms_findings(
    label: str, document: dict[str, Any], variable: str, context_key: str
) -> Iterator[str]:
    """A tenant-scoped policy uses keys (the PHI key) only with its tenant's context."""
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        crypto = _granted(statement, KMS_CRYPTO_ACTIONS)
        if not crypto:
            continue
        equals = _condition(statement).get("StringEquals")
        wanted = equals.get(context_key) if isinstance(equals, Mapping) else None
        if as_list(wanted) != [variable]:
            yield (
                f"{label}: statement {sid(statement, index)} allows {', '.join(crypto[:3])} "
                f"without StringEquals {context_key} = {variable}, so the tenant's credentials "
                "could decrypt another tenant's PHI"
            )
            continue
        # Keys named by a wildcard (the per-tenant keys created at onboarding) must be the
        # tenant's own: its tag, not only its context, must equal the principal's.
        tag_key = "aws:ResourceTag/" + context_key.rsplit(":", 1)[-1]
        wildcard = [r for r in as_list(statement.get("Resource")) if "*" in str(r).rsplit("/")[-1]]
        tagged = equals.get(tag_key) if isinstance(equals, Mapping) else None
        if wildcard and as_list(tagged) != [variable]:
            yield (
                f"{label}: statement {sid(statement, index)} allows {', '.join(crypto[:3])} on "
                f"{wildcard[0]} without StringEquals {tag_key} = {variable}, so the tenant's "
                "credentials could use another tenant's key"
            )


RULE = Guardrail(
    name="hipaa-iam-tenant-leading-keys",
    catalog_id="D9",
    title="Table item access confined to the tenant",
    description=(
        "IAM grants of item actions on DynamoDB tables must be confined to the caller's tenant: "
        "a ForAllValues dynamodb:LeadingKeys condition whose values reference the principal's "
        "tenant tag and end the tenant at a delimiter, with the key required (Null false); no "
        "cross-tenant reads (Scan, PartiQL select); and such a tenant-scoped policy uses KMS "
        "only with the tenant's encryption context, and keys named by a wildcard only when "
        "their tenant tag is the principal's."
    ),
    severity=Severity.HIGH,
    controls=("164.312(a)(1)", "164.308(a)(4)(ii)(B)", "164.308(a)(4)(ii)(C)"),
    remediation=(
        "Add Condition ForAllValues:StringLike {'dynamodb:LeadingKeys': ['CLINIC#${aws:PrincipalTag"
        "/clinicId}', 'CLINIC#${aws:PrincipalTag/clinicId}#*']} and Null {'dynamodb:LeadingKeys': "
        "'false'}; KMS statements of the policy need StringEquals {'kms:EncryptionContext:"
        "clinicId': '${aws:PrincipalTag/clinicId}'} (and, on key/*, {'aws:ResourceTag/clinicId':"
        " '${aws:PrincipalTag/clinicId}'}); give Scan only to audited operations or "
        "export roles, through an exemption with a ticket."
    ),
    unknowns=(
        "A policy document that is unknown during preview (built from the table ARN) defers "
        "this rule to `pulumi up`."
    ),
    scope=Scope.RESOURCE,
    resource_types=DOCUMENT_TYPES,
    check=check,
    config_properties={
        "tableArnPattern": {
            "type": "string",
            "minLength": 1,
            "default": r"arn:aws[a-z-]*:dynamodb:[^:]*:[^:]*:table/.*",
            "description": "Regular expression of the table (and index) ARNs this rule protects.",
        },
        "tenantTag": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_.:/=+@-]{1,128}$",
            "default": "clinicId",
            "description": (
                "The principal (session) tag naming the tenant; LeadingKeys values and the KMS "
                "encryption-context condition must reference it."
            ),
        },
    },
)
