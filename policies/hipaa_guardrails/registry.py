"""The registry: every guardrail of the pack, and the pack's policies built from them.

``all_rules()`` is what the gate and the docs read (name, severity, enforcement, citation, ids,
remediation). ``build_policies()`` turns each rule into a ``ResourceValidationPolicy`` or
``StackValidationPolicy`` whose validate function converts the analyzer's arguments to plain views,
runs the check, applies exemptions and reports each finding with its CFR citation. The exemption
reporter is appended last, so it runs after every rule that may record an exemption.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyProviderResource,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from hipaa_guardrails import exemptions, rules
from hipaa_guardrails.props import Deferred, plain
from hipaa_guardrails.spec import (
    Finding,
    Guardrail,
    NotApplicable,
    Resource,
    ResourceCheck,
    Scope,
    Stack,
    StackCheck,
)

PACK_NAME: Final = "medeez-hipaa-guardrails"
FRAMEWORK: Final = PolicyComplianceFramework(
    name="HIPAA Security Rule",
    version="45 CFR Part 164 Subpart C",
    specification="https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-164/subpart-C",
)


@cache
def all_rules() -> tuple[Guardrail, ...]:
    """Every guardrail, sorted by name: the ``RULE`` of each module under ``rules/``."""
    found: list[Guardrail] = []
    for module_info in pkgutil.walk_packages(rules.__path__, prefix=rules.__name__ + "."):
        module = importlib.import_module(module_info.name)
        rule = getattr(module, "RULE", None)
        if isinstance(rule, Guardrail):
            found.append(rule)
    names = [r.name for r in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise RuntimeError(f"rule names must be unique; duplicated: {', '.join(duplicates)}")
    return tuple(sorted(found, key=lambda r: r.name))


def rule(name: str) -> Guardrail:
    """The guardrail called ``name``; ``KeyError`` lists the known names."""
    for candidate in all_rules():
        if candidate.name == name:
            return candidate
    raise KeyError(f"no rule named {name!r}; rules: {', '.join(policy_names())}")


def policy_names() -> list[str]:
    """Every policy name the pack serves, the exemption reporter included."""
    return [r.name for r in all_rules()] + [exemptions.REPORT_POLICY]


def config_schema(guardrail: Guardrail) -> PolicyConfigSchema:
    """The rule's config schema: its own properties plus ``exemptions``."""
    properties: dict[str, dict[str, Any]] = {
        key: dict(value) for key, value in guardrail.config_properties.items()
    }
    properties["exemptions"] = exemptions.EXEMPTIONS_SCHEMA
    return PolicyConfigSchema(properties=properties)


def effective_config(guardrail: Guardrail, given: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with the given config (the CLI does the same before Configure)."""
    return {**guardrail.defaults(), "exemptions": [], **_whole_numbers(dict(given))}


def _whole_numbers(value: Any) -> Any:
    # Config crosses the wire as a protobuf Struct, where every number is a double: 7 arrives as
    # 7.0. Integral values go back to int so messages and comparisons read as written.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    return value


def tags(guardrail: Guardrail) -> list[str]:
    """Policy tags: citations and the cross-reference ids, for filtering in Pulumi Cloud."""
    result = [f"hipaa:{c}" for c in guardrail.controls]
    result += [f"catalog:{guardrail.catalog_id}"]
    for prefix, value in (
        ("aws-config", guardrail.aws_config),
        ("cdk-nag", guardrail.cdk_nag),
        ("checkov", guardrail.checkov),
    ):
        if value:
            result += [f"{prefix}:{v.strip()}" for v in value.split(",")]
    if guardrail.operational:
        result.append("operational")
    return result


def build_policies() -> list[Policy]:
    """The pack's policies: one per rule, then the exemption reporter."""
    policies: list[Policy] = []
    for guardrail in all_rules():
        common: dict[str, Any] = {
            "name": guardrail.name,
            "description": guardrail.description,
            "enforcement_level": guardrail.enforcement,
            "config_schema": config_schema(guardrail),
            "display_name": guardrail.title,
            "severity": guardrail.severity,
            "framework": PolicyComplianceFramework(
                name=FRAMEWORK.name,
                version=FRAMEWORK.version,
                reference=", ".join(guardrail.controls) or None,
                specification=FRAMEWORK.specification,
            ),
            "tags": tags(guardrail),
            "remediation_steps": guardrail.remediation,
            "url": guardrail.url,
        }
        if guardrail.scope is Scope.RESOURCE:
            policies.append(
                ResourceValidationPolicy(validate=resource_validator(guardrail), **common)
            )
        else:
            policies.append(StackValidationPolicy(validate=stack_validator(guardrail), **common))
    policies.append(reporter_policy())
    return policies


def _message(guardrail: Guardrail, cause: str) -> str:
    return f"{cause} [{guardrail.citation}]"


def resource_view(args: ResourceValidationArgs) -> Resource:
    """The plain view of a resource under validation."""
    return Resource(
        type=args.resource_type,
        name=args.name,
        urn=args.urn,
        props=plain(args.props),
        protect=bool(args.opts.protect) if args.opts is not None else False,
        provider_region=_provider_region(args.provider),
    )


def _provider_region(provider: PolicyProviderResource | None) -> str | None:
    if provider is None:
        return None
    region = plain(provider.props).get("region")
    return region if isinstance(region, str) and region else None


def stack_view(args: StackValidationArgs) -> Stack:
    """The plain view of a stack, keeping parents and (property) dependencies as references."""
    return Stack(resources=_convert_graph(args.resources))


def _convert_graph(resources: list[PolicyResource]) -> tuple[Resource, ...]:
    # Build leaves first: a Resource is frozen, so its dependencies must exist before it does.
    done: dict[str, Resource] = {}

    def convert(policy_resource: PolicyResource, path: tuple[str, ...]) -> Resource:
        urn = policy_resource.urn
        if urn in done:
            return done[urn]
        if urn in path:  # the engine forbids cycles; stop rather than recurse forever
            return Resource(policy_resource.resource_type, policy_resource.name, urn, {})
        nested = (*path, urn)
        parent = policy_resource.parent
        view = Resource(
            type=policy_resource.resource_type,
            name=policy_resource.name,
            urn=urn,
            props=plain(policy_resource.props),
            protect=bool(policy_resource.opts.protect),
            provider_region=_provider_region(policy_resource.provider),
            parent=convert(parent, nested) if parent is not None else None,
            dependencies=tuple(convert(d, nested) for d in policy_resource.dependencies),
            property_dependencies={
                key: tuple(convert(d, nested) for d in deps)
                for key, deps in policy_resource.property_dependencies.items()
            },
        )
        done[urn] = view
        return view

    return tuple(convert(r, ()) for r in resources)


def config_deviations(
    guardrail: Guardrail, config: Mapping[str, Any]
) -> list[exemptions.Deviation]:
    """The rule's config properties that differ from its secure defaults."""
    return [
        exemptions.Deviation(guardrail.name, key, config.get(key, default), default)
        for key, default in guardrail.defaults().items()
        if config.get(key, default) != default
    ]


def _prepare(
    guardrail: Guardrail, config: Mapping[str, Any]
) -> tuple[list[exemptions.Exemption], str | None]:
    """Record the rule's config deviations and exemptions; return the exemptions, or none and the
    problem when they cannot be used."""
    exemptions.LEDGER.deviate(config_deviations(guardrail, config))
    try:
        parsed = exemptions.parse_exemptions(guardrail.name, config)
    except exemptions.ExemptionConfigError as exc:
        return [], f"invalid pack config: {exc}"
    exemptions.LEDGER.declare(parsed)
    return parsed, None


def _apply(
    guardrail: Guardrail,
    findings: list[Finding],
    exemption_list: list[exemptions.Exemption],
    resource_names: Mapping[str, str],
    report: ReportViolation,
) -> bool:
    """Report findings not exempted; record exempted ones. True if anything was exempted."""
    exempted_any = False
    today = exemptions.today()
    for finding in findings:
        urn = finding.urn or ""
        name = resource_names.get(urn, "")
        match = next((e for e in exemption_list if urn and e.matches(urn, name)), None)
        message = _message(guardrail, finding.message)
        if match is not None and not match.expired(today):
            exemptions.LEDGER.record(
                exemptions.LedgerEntry(exemptions.EXEMPTED_PREFIX, match, urn, message)
            )
            exempted_any = True
            continue
        if match is not None:
            exemptions.LEDGER.record(
                exemptions.LedgerEntry(exemptions.EXPIRED_PREFIX, match, urn, message)
            )
        report(message, finding.urn)
    return exempted_any


def resource_validator(guardrail: Guardrail) -> Any:
    """The validate function of a resource rule."""
    check: ResourceCheck = guardrail.check  # type: ignore[assignment]

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        config = effective_config(guardrail, args.get_config())
        exemption_list, problem = _prepare(guardrail, config)
        if args.resource_type not in guardrail.resource_types:
            args.not_applicable(f"judges {', '.join(guardrail.resource_types)} only")
        if problem:
            # Bad exemptions must not silently exempt anything: report at the rule's own level.
            report(_message(guardrail, problem), None)
        view = resource_view(args)
        try:
            findings = [Finding(m, view.urn) for m in check(view, config)]
        except NotApplicable as exc:
            args.not_applicable(exc.reason)
            return
        except Deferred as exc:
            raise exc.as_sdk_error() from None
        exempted = _apply(guardrail, findings, exemption_list, {view.urn: view.name}, report)
        if exempted:
            match = next(e for e in exemption_list if e.matches(view.urn, view.name))
            args.not_applicable(f"{exemptions.EXEMPTED_PREFIX} ({match.describe()})")

    return validate


def stack_validator(guardrail: Guardrail) -> Any:
    """The validate function of a stack rule."""
    check: StackCheck = guardrail.check  # type: ignore[assignment]

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        config = effective_config(guardrail, args.get_config())
        exemption_list, problem = _prepare(guardrail, config)
        if problem:
            report(_message(guardrail, problem), None)
        stack = stack_view(args)
        try:
            findings = list(check(stack, config))
        except NotApplicable as exc:
            args.not_applicable(exc.reason)
            return
        except Deferred as exc:
            raise exc.as_sdk_error() from None
        names = {r.urn: r.name for r in stack.resources}
        _apply(guardrail, findings, exemption_list, names, report)

    return validate


def reporter_policy() -> StackValidationPolicy:
    """The advisory policy that reports every exemption (used, expired or unused) and every config
    deviation from the secure defaults."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        entries = exemptions.LEDGER.drain()
        if not entries:
            args.not_applicable("no exemptions or config deviations")
        for entry in entries:
            report(entry.message(), entry.urn)

    return StackValidationPolicy(
        name=exemptions.REPORT_POLICY,
        description=(
            "Every per-resource exemption and every deviation from the secure defaults is "
            "reported: none is ever silent."
        ),
        validate=validate,
        enforcement_level=EnforcementLevel.ADVISORY,
        display_name="Exemptions are reported",
        severity=Severity.LOW,
        tags=["exemptions", "operational"],
        remediation_steps=(
            "Nothing to fix here: this lists accepted risks. Review each exemption's reason, "
            "ticket and end date; remove it once the resource complies."
        ),
    )
