"""Tenant isolation, proved on the exact policy documents a stack renders.

The case table (:func:`case_table`) says, for each role, what a request may and may not do: its
own clinic's items allowed, another clinic's denied, a clinic whose id extends the caller's
(``c1`` and ``c10``) denied, requests without partition keys denied, Scan and PartiQL denied,
the PHI key with another clinic's context denied, and every tenant pattern of the access-pattern
catalog allowed for the caller's own clinic (and denied for the others). Each case is judged
either offline by :mod:`tools.iam_eval` over the plan's documents, or in AWS by
``iam:SimulateCustomPolicy`` over the deployed documents (``python -m tools.isolation``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from datalayer.access_patterns import CATALOG, AccessPattern
from datalayer.beacons import LOOKUP_KEY_FORMATS, BeaconKeyring, IdentifierKind
from stackspec.definitions.access import CLINIC_TAG, AccessDefinition, Arns, RolePurpose
from stackspec.key_schema import CLINIC_PARTITION, PATIENT_PARTITION, STAFF_EMAIL_LOOKUP
from stackspec.tenancy import CLINIC_CONTEXT_KEY
from tools.iam_eval import Request, evaluate
from tools.plan import Plan

#: The caller's clinic, another clinic, and one whose id begins with the caller's.
OWN = "c1"
OTHER = "c2"
EXTENDS = "c10"

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    role: RolePurpose
    action: str
    resource: str
    context: Mapping[str, str | Sequence[str]]
    allowed: bool
    #: Session tags of the caller (the tenant role's clinic), merged into the request context.
    clinic: str | None = OWN


@dataclass(frozen=True)
class Documents:
    """What a stack's roles carry: each role's policy and the shared boundary."""

    policies: Mapping[RolePurpose, Document]
    boundary: Document
    boundary_name: str
    arns: Arns
    role_arns: Mapping[RolePurpose, str]


@dataclass(frozen=True)
class Outcome:
    case: Case
    decision: str

    @property
    def passed(self) -> bool:
        return (self.decision == "Allow") == self.case.allowed


class _FixedBeacons(BeaconKeyring):
    """Where a beacon goes, without a key: the case table needs the key's shape, not its value."""

    def __init__(self) -> None:
        super().__init__(kms_client=None, key_id="")

    def lookup_key(
        self, clinic_id: str, kind: IdentifierKind, value: str, *, system: str | None = None
    ) -> str:
        beacon = "0f" * 16
        fmt = LOOKUP_KEY_FORMATS[kind]
        if system:
            return fmt.render(clinicId=clinic_id, system=system, beacon=beacon)
        return fmt.render(clinicId=clinic_id, beacon=beacon)


def _index_arn(arns: Arns, pattern: AccessPattern) -> str:
    name = pattern.index_name
    return arns.table_arn if name is None else f"{arns.table_arn}/index/{name}"


def _pattern_key(pattern: AccessPattern, clinic: str) -> str:
    params = {**pattern.example, "clinicId": clinic}
    return pattern.values(params, _FixedBeacons())[":pk"]


def _keys(*keys: str) -> dict[str, list[str]]:
    return {"dynamodb:LeadingKeys": list(keys)}


def _context(clinic: str) -> dict[str, str]:
    return {f"kms:EncryptionContext:{CLINIC_CONTEXT_KEY}": clinic}


def _clinic_key(arns: Arns, which: str) -> str:
    """A KMS key of the stack's region (clinic keys are created at onboarding: any key id)."""
    return f"arn:{arns.partition}:kms:{arns.region}:{arns.account_id}:key/{which}-clinic-key"


def _key_tag(clinic: str) -> dict[str, str]:
    """The key's clinicId tag, as IAM sees it (aws:ResourceTag)."""
    return {f"aws:ResourceTag/{CLINIC_TAG}": clinic}


def case_table(arns: Arns) -> list[Case]:
    """Every case, for the stack whose ARNs are ``arns``."""
    table = arns.table_arn
    own = CLINIC_PARTITION.render(clinicId=OWN)
    own_patient = PATIENT_PARTITION.render(clinicId=OWN, patientId="p1")
    tenant, ops, deploy, stream = (
        RolePurpose.TENANT,
        RolePurpose.OPERATIONS,
        RolePurpose.DEPLOY,
        RolePurpose.STREAM_CONSUMER,
    )
    cases = [
        Case("own clinic partition: GetItem", tenant, "dynamodb:GetItem", table, _keys(own), True),
        Case("own patient: PutItem", tenant, "dynamodb:PutItem", table, _keys(own_patient), True),
        Case(
            "own keys in one batch: BatchGetItem",
            tenant,
            "dynamodb:BatchGetItem",
            table,
            _keys(own, own_patient),
            True,
        ),
        Case(
            "another clinic: GetItem",
            tenant,
            "dynamodb:GetItem",
            table,
            _keys(CLINIC_PARTITION.render(clinicId=OTHER)),
            False,
        ),
        Case(
            "another clinic's patient: UpdateItem",
            tenant,
            "dynamodb:UpdateItem",
            table,
            _keys(PATIENT_PARTITION.render(clinicId=OTHER, patientId="p1")),
            False,
        ),
        Case(
            "a clinic whose id extends the caller's (c10): GetItem",
            tenant,
            "dynamodb:GetItem",
            table,
            _keys(CLINIC_PARTITION.render(clinicId=EXTENDS)),
            False,
        ),
        Case(
            "a clinic whose id extends the caller's (c10): its patient, Query",
            tenant,
            "dynamodb:Query",
            table,
            _keys(PATIENT_PARTITION.render(clinicId=EXTENDS, patientId="p1")),
            False,
        ),
        Case(
            "one foreign key in a batch: BatchWriteItem",
            tenant,
            "dynamodb:BatchWriteItem",
            table,
            _keys(own, CLINIC_PARTITION.render(clinicId=OTHER)),
            False,
        ),
        Case("no partition key: Query", tenant, "dynamodb:Query", f"{table}/index/X", {}, False),
        Case("no partition key: GetItem", tenant, "dynamodb:GetItem", table, {}, False),
        Case("Scan", tenant, "dynamodb:Scan", table, {}, False),
        Case("Scan naming the own clinic", tenant, "dynamodb:Scan", table, _keys(own), False),
        Case("PartiQL select", tenant, "dynamodb:PartiQLSelect", table, {}, False),
        Case("PartiQL update", tenant, "dynamodb:PartiQLUpdate", table, _keys(own), False),
        Case("no clinic session tag", tenant, "dynamodb:GetItem", table, _keys(own), False, None),
        Case(
            "staff sign-in email (cross-tenant key)",
            tenant,
            "dynamodb:Query",
            f"{table}/index/ExternalIDs",
            _keys(STAFF_EMAIL_LOOKUP.render(email="dr@clinic.example.test")),
            False,
        ),
        Case(
            "PHI key, own context: Decrypt",
            tenant,
            "kms:Decrypt",
            arns.phi_key_arn,
            _context(OWN),
            True,
        ),
        Case(
            "PHI key, own context: GenerateDataKey",
            tenant,
            "kms:GenerateDataKey",
            arns.phi_key_arn,
            _context(OWN),
            True,
        ),
        Case(
            "PHI key, another clinic's context: Decrypt",
            tenant,
            "kms:Decrypt",
            arns.phi_key_arn,
            _context(OTHER),
            False,
        ),
        Case(
            "PHI key, extending clinic's context (c10): Encrypt",
            tenant,
            "kms:Encrypt",
            arns.phi_key_arn,
            _context(EXTENDS),
            False,
        ),
        Case("PHI key, no context: Decrypt", tenant, "kms:Decrypt", arns.phi_key_arn, {}, False),
        # Per-clinic PHI keys: granted by the key's clinicId tag, with the clinic's context.
        Case(
            "own clinic key, own context: Decrypt",
            tenant,
            "kms:Decrypt",
            _clinic_key(arns, "own"),
            {**_key_tag(OWN), **_context(OWN)},
            True,
        ),
        Case(
            "own clinic key, own context: GenerateDataKey",
            tenant,
            "kms:GenerateDataKey",
            _clinic_key(arns, "own"),
            {**_key_tag(OWN), **_context(OWN)},
            True,
        ),
        Case(
            "own clinic key: DescribeKey",
            tenant,
            "kms:DescribeKey",
            _clinic_key(arns, "own"),
            _key_tag(OWN),
            True,
        ),
        Case(
            "another clinic's key, own context: Decrypt",
            tenant,
            "kms:Decrypt",
            _clinic_key(arns, "other"),
            {**_key_tag(OTHER), **_context(OWN)},
            False,
        ),
        Case(
            "another clinic's key, its context: Decrypt",
            tenant,
            "kms:Decrypt",
            _clinic_key(arns, "other"),
            {**_key_tag(OTHER), **_context(OTHER)},
            False,
        ),
        Case(
            "extending clinic's key (c10): GenerateDataKey",
            tenant,
            "kms:GenerateDataKey",
            _clinic_key(arns, "extends"),
            {**_key_tag(EXTENDS), **_context(OWN)},
            False,
        ),
        Case(
            "another clinic's key: DescribeKey",
            tenant,
            "kms:DescribeKey",
            _clinic_key(arns, "other"),
            _key_tag(OTHER),
            False,
        ),
        Case(
            "own clinic key, another clinic's context: Decrypt",
            tenant,
            "kms:Decrypt",
            _clinic_key(arns, "own"),
            {**_key_tag(OWN), **_context(OTHER)},
            False,
        ),
        Case(
            "untagged key, own context: Decrypt",
            tenant,
            "kms:Decrypt",
            _clinic_key(arns, "untagged"),
            _context(OWN),
            False,
        ),
        Case(
            "attach a policy to itself",
            tenant,
            "iam:AttachRolePolicy",
            arns.role("medeez-x-tenant"),
            {},
            False,
        ),
        # Operations: cross-tenant, read-only.
        Case("operations: Scan", ops, "dynamodb:Scan", table, {}, True, None),
        Case(
            "operations: staff sign-in email",
            ops,
            "dynamodb:Query",
            f"{table}/index/ExternalIDs",
            _keys(STAFF_EMAIL_LOOKUP.render(email="dr@clinic.example.test")),
            True,
            None,
        ),
        Case("operations: no writes", ops, "dynamodb:PutItem", table, _keys(own), False, None),
        Case(
            "operations: any clinic's PHI context",
            ops,
            "kms:Decrypt",
            arns.phi_key_arn,
            _context(OTHER),
            True,
            None,
        ),
        Case(
            "operations: any clinic's key, its context",
            ops,
            "kms:Decrypt",
            _clinic_key(arns, "other"),
            {**_key_tag(OTHER), **_context(OTHER)},
            True,
            None,
        ),
        Case(
            "operations: untagged key with a context",
            ops,
            "kms:Decrypt",
            _clinic_key(arns, "untagged"),
            _context(OTHER),
            False,
            None,
        ),
        Case(
            "operations: PHI key without context",
            ops,
            "kms:Decrypt",
            arns.phi_key_arn,
            {},
            False,
            None,
        ),
        # Stream consumer: reads the stream, writes nothing.
        Case(
            "stream: GetRecords", stream, "dynamodb:GetRecords", f"{table}/stream/x", {}, True, None
        ),
        Case("stream: no PutItem", stream, "dynamodb:PutItem", table, _keys(own), False, None),
        Case("stream: no Query", stream, "dynamodb:Query", table, _keys(own), False, None),
        # Cache invalidator: reads the stream, reads and writes nothing of the table.
        Case(
            "invalidator: GetRecords",
            RolePurpose.CACHE_INVALIDATOR,
            "dynamodb:GetRecords",
            f"{table}/stream/x",
            {},
            True,
            None,
        ),
        Case(
            "invalidator: no GetItem",
            RolePurpose.CACHE_INVALIDATOR,
            "dynamodb:GetItem",
            table,
            _keys(own),
            False,
            None,
        ),
        Case(
            "invalidator: no PutItem",
            RolePurpose.CACHE_INVALIDATOR,
            "dynamodb:PutItem",
            table,
            _keys(own),
            False,
            None,
        ),
        # Deploy: control plane only, cannot lift the boundary.
        Case("deploy: no item reads", deploy, "dynamodb:GetItem", table, _keys(own), False, None),
        Case("deploy: no Scan", deploy, "dynamodb:Scan", table, {}, False, None),
        Case(
            "deploy: a role without the boundary",
            deploy,
            "iam:CreateRole",
            arns.role("medeez-x-escape"),
            {"iam:PermissionsBoundary": "arn:aws:iam::1:policy/other"},
            False,
            None,
        ),
        Case(
            "deploy: a role carrying the boundary",
            deploy,
            "iam:CreateRole",
            arns.role("medeez-x-escape"),
            {"iam:PermissionsBoundary": "<boundary>"},
            True,
            None,
        ),
        Case(
            "deploy: remove a role's boundary",
            deploy,
            "iam:DeleteRolePermissionsBoundary",
            arns.role("medeez-x-tenant"),
            {},
            False,
            None,
        ),
    ]
    for pattern in CATALOG:
        if pattern.cross_tenant:
            continue
        resource = _index_arn(arns, pattern)
        for clinic, allowed, whose in (
            (OWN, True, "own clinic"),
            (OTHER, False, "another clinic"),
            (EXTENDS, False, "extending clinic c10"),
        ):
            cases.append(
                Case(
                    f"catalog {pattern.name}: {whose}",
                    tenant,
                    "dynamodb:Query",
                    resource,
                    _keys(_pattern_key(pattern, clinic)),
                    allowed,
                )
            )
    return cases


def with_stack(cases: list[Case], documents: Documents) -> list[Case]:
    """The cases whose ARNs name roles and policies of the stack (the deploy and self-attach
    cases use the stack's own role names)."""
    tenant_arn = documents.role_arns[RolePurpose.TENANT]
    out: list[Case] = []
    for case in cases:
        resource = case.resource
        if resource.endswith(":role/medeez-x-tenant"):
            resource = tenant_arn
        elif resource.endswith(":role/medeez-x-escape"):
            resource = tenant_arn.rsplit("-", 1)[0] + "-escape"
        context = {
            k: documents.arns.policy(documents.boundary_name) if v == "<boundary>" else v
            for k, v in case.context.items()
        }
        out.append(
            Case(case.name, case.role, case.action, resource, context, case.allowed, case.clinic)
        )
    return out


def request_context(case: Case, documents: Documents) -> dict[str, str | Sequence[str]]:
    """The request context: the case's keys, the caller's role ARN and its session tag."""
    context: dict[str, str | Sequence[str]] = dict(case.context)
    context["aws:PrincipalArn"] = documents.role_arns[case.role]
    if case.role is RolePurpose.TENANT and case.clinic is not None:
        context[f"aws:PrincipalTag/{CLINIC_TAG}"] = case.clinic
    return context


def evaluate_offline(case: Case, documents: Documents) -> str:
    result = evaluate(
        Request(case.action, case.resource, request_context(case, documents)),
        {"policy": documents.policies[case.role]},
        boundary=documents.boundary,
    )
    return str(result.decision)


@dataclass(frozen=True)
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.passed]


def run(
    documents: Documents, decide: Callable[[Case, Documents], str] = evaluate_offline
) -> Report:
    cases = with_stack(case_table(documents.arns), documents)
    return Report([Outcome(case, decide(case, documents)) for case in cases])


def role_document(
    definition: AccessDefinition, purpose: RolePurpose, document: Callable[[str], dict[str, Any]]
) -> dict[str, Any]:
    """Every managed policy of the role as one document (the deploy role has five): a case
    judges the role, not one of its policies."""
    statements = [
        statement
        for name in definition.policy_names(purpose).values()
        for statement in document(name)["Statement"]
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def documents_from_plan(plan: Plan, definition: AccessDefinition) -> Documents:
    """The documents exactly as the plan renders them, found by their physical names, and the
    ARNs the plan's outputs give the table, the PHI key and the roles."""
    by_name = {
        str(r.inputs.get("name")): r for r in plan.resources if r.type == "aws:iam/policy:Policy"
    }

    def document(name: str) -> dict[str, Any]:
        if name not in by_name:
            raise IsolationError(f"the plan of stack {plan.stack} has no IAM policy {name}")
        parsed: dict[str, Any] = json.loads(str(by_name[name].inputs["policy"]))
        return parsed

    outputs = plan.outputs
    table_arn = str(outputs["tableArn"])
    _, partition, _, region, account_id, _ = table_arn.split(":", 5)
    arns = Arns(
        partition=partition,
        account_id=account_id,
        region=region,
        table_arn=table_arn,
        phi_key_arn=str(outputs["phiKeyArn"]),
    )
    roles = {str(r.inputs.get("name")): r for r in plan.resources if r.type == "aws:iam/role:Role"}
    for role in definition.roles.values():
        if role.name not in roles:
            raise IsolationError(f"the plan of stack {plan.stack} has no IAM role {role.name}")
    return Documents(
        policies={p: role_document(definition, p, document) for p in definition.roles},
        boundary=document(definition.boundary_name),
        boundary_name=definition.boundary_name,
        arns=arns,
        role_arns={p: arns.role(r.name) for p, r in definition.roles.items()},
    )


class IsolationError(RuntimeError):
    """The documents to check cannot be found."""
