"""What an identity policy grants on every resource: the action catalogs of the IAM risk rules.

Checkov's CKV_AWS_286-290 judge a policy the way Cloudsplaining does: an Allow statement whose
Resource is ``*`` has no resource constraint, and the actions it grants there are judged against
lists of risky actions (privilege-escalation methods after Rhino Security Labs and
pathfinding.cloud, actions that return credentials) or against their access level (permissions
management, write). Those tools classify access levels with the full IAM action database; this
pack stays dependency-free and offline, so it keeps short catalogs of the risky actions and reads
the access level of other actions from their verb (``Put...``, ``Create...``): a judgement that
errs towards flagging.

A statement's actions may be patterns (``iam:Put*``, ``*``) and may be ``NotAction``; both are
matched case-insensitively, as IAM matches them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hipaa_guardrails.iam import sid
from hipaa_guardrails.props import as_list, statements


@dataclass(frozen=True)
class Grant:
    """One Allow statement without a resource constraint: where it is and what it matches."""

    where: str
    """The statement's Sid (``'Name'``) or position (``#2``)."""
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    conditional: bool

    def allows(self, action: str) -> bool:
        """True if this statement grants ``action`` (a concrete ``service:Name``)."""
        wanted = action.lower()
        if self.not_actions:
            return not any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.not_actions)
        return any(fnmatch.fnmatchcase(wanted, p.lower()) for p in self.actions)


def _is_everything(statement: Mapping[str, Any]) -> bool:
    """True when the statement applies to every resource: ``*`` among its resources, or an Allow
    with NotResource (everything but the listed ones)."""
    if "NotResource" in statement:
        return True
    return "*" in [str(r) for r in as_list(statement.get("Resource"))]


def unconstrained_grants(document: Mapping[str, Any]) -> list[Grant]:
    """The document's Allow statements that apply to every resource."""
    found = []
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow" or not _is_everything(statement):
            continue
        found.append(
            Grant(
                where=sid(statement, index),
                actions=tuple(str(a) for a in as_list(statement.get("Action"))),
                not_actions=tuple(str(a) for a in as_list(statement.get("NotAction"))),
                conditional=bool(statement.get("Condition")),
            )
        )
    return found


def denied_everywhere(document: Mapping[str, Any], action: str) -> bool:
    """True if an unconditional Deny on every resource removes ``action``."""
    wanted = action.lower()
    for statement in statements(document):
        if (
            statement.get("Effect") == "Deny"
            and not statement.get("Condition")
            and _is_everything(statement)
        ):
            patterns = [str(a).lower() for a in as_list(statement.get("Action"))]
            if any(fnmatch.fnmatchcase(wanted, p) for p in patterns):
                return True
    return False


class _Reader:
    """A document's unconstrained grants, read once and asked about many actions: where (the
    statement ids) each action is allowed on every resource; nowhere if an unconditional Deny
    removes it. With ``unconditional``, statements with a Condition do not count (the Condition
    is taken as the constraint)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.grants = unconstrained_grants(document)
        self._seen: dict[tuple[str, bool], list[str]] = {}

    def where(self, action: str, *, unconditional: bool = False) -> list[str]:
        key = (action, unconditional)
        if key not in self._seen:
            candidates = [
                g.where
                for g in self.grants
                if g.allows(action) and not (unconditional and g.conditional)
            ]
            denied = bool(candidates) and denied_everywhere(self.document, action)
            self._seen[key] = [] if denied else candidates
        return self._seen[key]


def shown(items: Sequence[str], limit: int = 4) -> str:
    """``a, b, c, d, ...``: a message-sized list."""
    return ", ".join(items[:limit]) + (", ..." if len(items) > limit else "")


# --- CKV_AWS_286: privilege escalation ----------------------------------------------------------

#: Escalation methods: each is a set of actions that, all granted on every resource, let a
#: principal give itself (or a role it controls) more power. After Rhino Security Labs' published
#: methods and the pathfinding.cloud catalog, the lists Cloudsplaining and so Checkov use.
ESCALATION_METHODS: dict[str, tuple[str, ...]] = {
    "access keys for any user": ("iam:CreateAccessKey",),
    "a console password for any user": ("iam:CreateLoginProfile",),
    "any user's console password": ("iam:UpdateLoginProfile",),
    "joining any group": ("iam:AddUserToGroup",),
    "rewriting any managed policy": ("iam:CreatePolicyVersion",),
    "reviving any policy version": ("iam:SetDefaultPolicyVersion",),
    "attaching any policy to a user": ("iam:AttachUserPolicy",),
    "attaching any policy to a group": ("iam:AttachGroupPolicy",),
    "attaching any policy to a role": ("iam:AttachRolePolicy",),
    "inline policies on any user": ("iam:PutUserPolicy",),
    "inline policies on any group": ("iam:PutGroupPolicy",),
    "inline policies on any role": ("iam:PutRolePolicy",),
    "rewriting any role's trust policy": ("iam:UpdateAssumeRolePolicy",),
    # Stricter than Cloudsplaining, which needs the compute action in the same policy: another
    # policy of the principal may hold it, so passing any role is an escalation on its own.
    "passing any role to a service": ("iam:PassRole",),
    "any role on a new instance": ("iam:PassRole", "ec2:RunInstances"),
    "any role on a new spot instance": ("iam:PassRole", "ec2:RequestSpotInstances"),
    "any role on a new function, invoked": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    ),
    "any role on a new function, triggered by a stream": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    "any role on a new function, opened by a permission": (
        "iam:PassRole",
        "lambda:CreateFunction",
        "lambda:AddPermission",
    ),
    "new code in any function": ("lambda:UpdateFunctionCode",),
    "any role on a new Glue endpoint": ("iam:PassRole", "glue:CreateDevEndpoint"),
    "new keys on any Glue endpoint": ("glue:UpdateDevEndpoint",),
    "any role on a new Glue job": ("iam:PassRole", "glue:CreateJob", "glue:StartJobRun"),
    "any role on a new stack": ("iam:PassRole", "cloudformation:CreateStack"),
    "any role on a new stack set": (
        "iam:PassRole",
        "cloudformation:CreateStackSet",
        "cloudformation:CreateStackInstances",
    ),
    "executing a change set of any stack": (
        "cloudformation:CreateChangeSet",
        "cloudformation:ExecuteChangeSet",
    ),
    "any role on a new pipeline": ("iam:PassRole", "datapipeline:CreatePipeline"),
    "any role on a new build": ("iam:PassRole", "codebuild:CreateProject", "codebuild:StartBuild"),
    "any role on a new task": ("iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"),
    "any role on a new service": (
        "iam:PassRole",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
    ),
    "a shell in any running task": ("ecs:ExecuteCommand", "ecs:DescribeTasks"),
    "any role on a new notebook": ("iam:PassRole", "sagemaker:CreateNotebookInstance"),
    "any role on a new training job": ("iam:PassRole", "sagemaker:CreateTrainingJob"),
    "any role on a new processing job": ("iam:PassRole", "sagemaker:CreateProcessingJob"),
    "a sign-in URL of any notebook": ("sagemaker:CreatePresignedNotebookInstanceUrl",),
    "any role on a new App Runner service": ("iam:PassRole", "apprunner:CreateService"),
    "new user data on any instance": (
        "ec2:ModifyInstanceAttribute",
        "ec2:StopInstances",
        "ec2:StartInstances",
    ),
    "an SSH key on any instance": ("ec2-instance-connect:SendSSHPublicKey",),
    "commands on any managed instance": ("ssm:SendCommand",),
    "a session on any managed instance": ("ssm:StartSession",),
}


def escalations(document: Mapping[str, Any]) -> Iterator[str]:
    """One message naming the escalation methods the document grants on every resource."""
    methods: list[str] = []
    actions: set[str] = set()
    where: set[str] = set()
    reader = _Reader(document)
    if not reader.grants:
        return
    for method, needed in ESCALATION_METHODS.items():
        places = [reader.where(action) for action in needed]
        if all(places):
            methods.append(method)
            actions.update(needed)
            where.update(w for found in places for w in found)
    if methods:
        yield (
            f"statement {', '.join(sorted(where))} allows {shown(sorted(actions), 6)} on every "
            f"resource (*): privilege escalation by {shown(methods, 3)}"
        )


# --- CKV_AWS_287: credentials exposure ----------------------------------------------------------

#: Actions whose response carries credentials, tokens or passwords (Cloudsplaining's list).
CREDENTIAL_ACTIONS: tuple[str, ...] = (
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreateServiceSpecificCredential",
    "iam:ResetServiceSpecificCredential",
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
    "sso:GetRoleCredentials",
    "secretsmanager:GetSecretValue",
    "ecr:GetAuthorizationToken",
    "ecr-public:GetAuthorizationToken",
    "codeartifact:GetAuthorizationToken",
    "ec2:GetPasswordData",
    "rds-db:connect",
    "redshift:GetClusterCredentials",
    "redshift:GetClusterCredentialsWithIAM",
    "redshift-serverless:GetCredentials",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdToken",
    "cognito-identity:GetOpenIdTokenForDeveloperIdentity",
    "cognito-idp:GetSigningCertificate",
    "codepipeline:PollForJobs",
    "connect:GetFederationToken",
    "lightsail:GetInstanceAccessDetails",
    "lightsail:GetRelationalDatabaseMasterUserPassword",
    "lightsail:DownloadDefaultKeyPair",
    "lightsail:CreateBucketAccessKey",
    "appsync:CreateApiKey",
    "chime:CreateApiKey",
    "grafana:CreateWorkspaceApiKey",
    "airflow:CreateCliToken",
    "airflow:CreateWebLoginToken",
    "cloud9:CreateEnvironmentToken",
    "gamelift:RequestUploadCredentials",
    "gamelift:GetInstanceAccess",
    "license-manager:GetAccessToken",
    "mediapackage:RotateChannelCredentials",
    "mediapackage:RotateIngestEndpointCredentials",
    "emr-containers:GetManagedEndpointSessionCredentials",
)


def credential_exposures(document: Mapping[str, Any]) -> Iterator[str]:
    """One message per statement granting credential-returning actions on every resource."""
    by_statement: dict[str, list[str]] = {}
    reader = _Reader(document)
    if not reader.grants:
        return
    for action in CREDENTIAL_ACTIONS:
        for where in reader.where(action):
            by_statement.setdefault(where, []).append(action)
    for where, found in by_statement.items():
        yield (
            f"statement {where} allows {shown(found)} on every resource (*): these return "
            "credentials, tokens or passwords of any principal, database or registry"
        )


# --- access levels: permissions management (CKV_AWS_289) and write (CKV_AWS_290) ----------------

#: Verbs that begin the name of an action at the Write access level (or Permissions management).
WRITE_VERBS: tuple[str, ...] = (
    "Abort",
    "Accept",
    "Activate",
    "Add",
    "Allocate",
    "Apply",
    "Assign",
    "Associate",
    "Attach",
    "Authorize",
    "BatchDelete",
    "BatchPut",
    "BatchUpdate",
    "BatchWrite",
    "Cancel",
    "Change",
    "Complete",
    "Copy",
    "Create",
    "Deactivate",
    "Decrease",
    "Delete",
    "Deregister",
    "Detach",
    "Disable",
    "Disassociate",
    "Enable",
    "Execute",
    "Export",
    "Import",
    "Increase",
    "Initiate",
    "Invoke",
    "Modify",
    "Move",
    "Publish",
    "Purge",
    "Put",
    "Reboot",
    "Register",
    "Reject",
    "Release",
    "Remove",
    "Replace",
    "Reset",
    "Restore",
    "Retire",
    "Revoke",
    "Rotate",
    "Run",
    "Schedule",
    "Send",
    "Set",
    "Start",
    "Stop",
    "Terminate",
    "Update",
    "Upload",
    "Write",
)

#: Write actions IAM cannot scope to a resource (Resource must be ``*``): not a finding on ``*``.
WILDCARD_ONLY_WRITES: frozenset[str] = frozenset(
    {
        "cloudwatch:putmetricdata",
        "xray:puttracesegments",
        "xray:puttelemetryrecords",
        "kms:createkey",
    }
)

#: What permissions-management actions change: who may do what.
_PERMISSION_WORDS = re.compile(r"(Polic(y|ies)|Permission|Acl|Grant|PublicAccessBlock)")

#: Permissions-management actions whose names do not say so, and catalog entries that wildcard
#: patterns (``iam:Put*``) are matched against.
PERMISSIONS_ACTIONS: tuple[str, ...] = (
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeleteGroupPolicy",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteUserPolicy",
    "iam:DetachGroupPolicy",
    "iam:DetachRolePolicy",
    "iam:DetachUserPolicy",
    "iam:PutGroupPolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "kms:CreateGrant",
    "kms:PutKeyPolicy",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "s3:DeleteBucketPolicy",
    "s3:PutAccessPointPolicy",
    "s3:PutAccountPublicAccessBlock",
    "s3:PutBucketAcl",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutObjectAcl",
    "sns:AddPermission",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sqs:AddPermission",
    "sqs:RemovePermission",
    "sqs:SetQueueAttributes",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "secretsmanager:DeleteResourcePolicy",
    "secretsmanager:PutResourcePolicy",
    "dynamodb:DeleteResourcePolicy",
    "dynamodb:PutResourcePolicy",
    "backup:DeleteBackupVaultAccessPolicy",
    "backup:PutBackupVaultAccessPolicy",
    "ecr:SetRepositoryPolicy",
    "logs:PutResourcePolicy",
    "organizations:AttachPolicy",
    "ram:CreateResourceShare",
)
_PERMISSIONS_LOWER = frozenset(a.lower() for a in PERMISSIONS_ACTIONS)


def _split(action: str) -> tuple[str, str]:
    service, _, name = action.partition(":")
    return service, name


def _starts_with_write_verb(name: str) -> bool:
    return any(name.lower().startswith(verb.lower()) for verb in WRITE_VERBS)


def is_permissions_management(pattern: str) -> bool:
    """True if the action (or any action the pattern matches) manages permissions."""
    if any(c in pattern for c in "*?"):
        return any(fnmatch.fnmatchcase(a, pattern.lower()) for a in _PERMISSIONS_LOWER)
    if pattern.lower() in _PERMISSIONS_LOWER:
        return True
    _, name = _split(pattern)
    return _starts_with_write_verb(name) and bool(_PERMISSION_WORDS.search(name))


def is_write(pattern: str) -> bool:
    """True if the action (or some action the pattern can match) is at the Write level.

    A pattern's fixed prefix decides: ``Put*`` and ``*Item`` can match writes, ``Describe*``
    and ``List*`` cannot. Wildcard-only writes (no resource-level permission exists) do not
    count.
    """
    if pattern.lower() in WILDCARD_ONLY_WRITES:
        return False
    if pattern == "*":
        return True
    _, name = _split(pattern)
    head = re.split(r"[*?]", name, maxsplit=1)[0].lower()
    wildcard = head != name.lower()
    if not wildcard:
        return _starts_with_write_verb(name) and pattern.lower() not in _PERMISSIONS_LOWER
    verbs = [verb.lower() for verb in WRITE_VERBS]
    return any(verb.startswith(head) or head.startswith(verb) for verb in verbs)


def _level_findings(
    document: Mapping[str, Any], judge: Callable[[str], bool]
) -> Iterator[tuple[str, list[str]]]:
    for grant in unconstrained_grants(document):
        if grant.conditional:
            continue
        if grant.not_actions:
            yield grant.where, [f"every action but {shown(list(grant.not_actions))}"]
            continue
        found = [a for a in grant.actions if judge(a) and not denied_everywhere(document, a)]
        if found:
            yield grant.where, found


def permissions_management(document: Mapping[str, Any]) -> Iterator[str]:
    """Messages for unconditional grants of permissions-management actions on every resource."""
    for where, found in _level_findings(document, is_permissions_management):
        yield (
            f"statement {where} allows {shown(found)} on every resource (*) without a "
            "condition: it can change who may do what to any resource"
        )


def write_access(document: Mapping[str, Any]) -> Iterator[str]:
    """Messages for unconditional grants of write actions on every resource."""
    for where, found in _level_findings(document, is_write):
        yield (
            f"statement {where} allows {shown(found)} on every resource (*) without a "
            "condition: it can change or delete any resource of those services"
        )
