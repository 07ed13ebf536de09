"""``make isolation-check STACK=<stack> [TARGET=aws]``: the tenant-isolation case table.

Offline (default, or ``--target local``): the stack is planned under the Pulumi mock runtime and
every case is evaluated by ``tools.iam_eval`` over the documents the plan renders.

``--target aws``: the documents deployed in the account (the stack's IAM policies, read with
``iam:GetPolicy``/``GetPolicyVersion``) are evaluated by ``iam:SimulateCustomPolicy`` with the
case's context entries (``dynamodb:LeadingKeys``, ``aws:PrincipalTag/clinicId``,
``kms:EncryptionContext:clinicId``, ``aws:PrincipalArn``): AWS's own evaluator is the authority.
Needs ``iam:GetPolicy``, ``iam:GetPolicyVersion``, ``iam:SimulateCustomPolicy``,
``kms:DescribeKey`` and ``sts:GetCallerIdentity``.

Exit 0 when every case holds, 1 when one does not (or AWS cannot be asked), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from stackspec.config.stack import load_stack_config
from stackspec.definitions import stack_definition
from stackspec.definitions.access import AccessDefinition, Arns
from stackspec.errors import ConfigError
from tools.isolation import (
    Case,
    Documents,
    IsolationError,
    Report,
    documents_from_plan,
    request_context,
    role_document,
    run,
)


def _simulate_with(iam: Any) -> Any:
    import json

    def decide(case: Case, documents: Documents) -> str:
        entries = [
            {
                "ContextKeyName": key,
                "ContextKeyValues": [value] if isinstance(value, str) else list(value),
                "ContextKeyType": "string" if isinstance(value, str) else "stringList",
            }
            for key, value in request_context(case, documents).items()
        ]
        response = iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(documents.policies[case.role])],
            PermissionsBoundaryPolicyInputList=[json.dumps(documents.boundary)],
            ActionNames=[case.action],
            ResourceArns=[case.resource],
            ContextEntries=entries,
        )
        decision = str(response["EvaluationResults"][0]["EvalDecision"])
        return {"allowed": "Allow", "explicitDeny": "ExplicitDeny"}.get(decision, "ImplicitDeny")

    return decide


def _deployed(definition: AccessDefinition, region: str) -> Documents:
    """The stack's policies as deployed, and the live ARNs."""
    import json
    from urllib.parse import unquote

    import boto3

    session = boto3.Session(region_name=region)
    identity = session.client("sts").get_caller_identity()
    partition = str(identity["Arn"]).split(":")[1]
    account = str(identity["Account"])
    iam = session.client("iam")
    phi_alias = f"alias/{definition.prefix}-phi"
    phi_key_arn = session.client("kms").describe_key(KeyId=phi_alias)["KeyMetadata"]["Arn"]
    arns = Arns(
        partition=partition,
        account_id=account,
        region=region,
        table_arn=f"arn:{partition}:dynamodb:{region}:{account}:table/{definition.table_name}",
        phi_key_arn=phi_key_arn,
    )

    def document(name: str) -> dict[str, Any]:
        policy = iam.get_policy(PolicyArn=arns.policy(name))["Policy"]
        version = iam.get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]["Document"]
        parsed: dict[str, Any] = (
            json.loads(unquote(version)) if isinstance(version, str) else version
        )
        return parsed

    return Documents(
        policies={p: role_document(definition, p, document) for p in definition.roles},
        boundary=document(definition.boundary_name),
        boundary_name=definition.boundary_name,
        arns=arns,
        role_arns={p: arns.role(r.name) for p, r in definition.roles.items()},
    )


def _print(report: Report, stack: str, where: str) -> None:
    width = max(len(o.case.name) for o in report.outcomes)
    for outcome in report.outcomes:
        status = "PASS" if outcome.passed else "FAIL"
        expected = "allow" if outcome.case.allowed else "deny"
        print(
            f"{status}  {outcome.case.role:<15} {outcome.case.name:<{width}}  "
            f"expected {expected}, got {outcome.decision}"
        )
    failed = len(report.failed)
    print(
        f"{len(report.outcomes)} isolation cases of stack {stack} ({where}): "
        f"{len(report.outcomes) - failed} PASS, {failed} FAIL"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make isolation-check",
        description="Tenant-isolation case table over the stack's IAM policies.",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        default="local",
        help="local: offline over the plan (default); aws: iam:SimulateCustomPolicy",
    )
    args = parser.parse_args(argv)
    try:
        cfg = load_stack_config(args.stack)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    definition = stack_definition(cfg).access
    if args.target == "aws":
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError

            documents = _deployed(definition, cfg.region)
            iam = boto3.Session(region_name=cfg.region).client("iam")
            report = run(documents, _simulate_with(iam))
        except (BotoCoreError, ClientError) as exc:
            print(f"error: cannot check stack {args.stack} in AWS: {exc}", file=sys.stderr)
            return 1
        _print(report, args.stack, "iam:SimulateCustomPolicy")
        return 1 if report.failed else 0
    from tools.plan import plan_stack

    try:
        documents = documents_from_plan(plan_stack(args.stack), definition)
    except IsolationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    report = run(documents)
    _print(report, args.stack, "offline, tools.iam_eval over the plan")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
