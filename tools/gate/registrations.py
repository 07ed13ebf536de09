"""What the engine registers, and so analyzes, for a plan: the root stack resource, the default
providers, then the program's resources, each pointing at its provider."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from importlib import metadata
from typing import Any

from tools.gate.plan_input import STACK_TYPE, Plan, PlanResource


def default_providers(plan: Plan, provider_config: Mapping[str, Any]) -> list[PlanResource]:
    """The default provider the engine registers for each package whose custom resources name no
    provider (``pulumi:providers:aws::default_7_51_1``), with the inputs it gives it: the stack's
    ``<package>:<key>`` config and the plugin version. A default provider the plan already holds
    is reused as it is."""
    packages = sorted(
        {
            r.type.split(":", 1)[0]
            for r in plan.resources
            if r.custom and not r.type.startswith("pulumi:") and not r.provider
        }
    )
    in_plan = plan.by_urn()
    providers = []
    for package in packages:
        try:
            version = metadata.version(f"pulumi_{package}")
        except metadata.PackageNotFoundError:
            version = ""
        name = "default_" + version.replace(".", "_").replace("-", "_") if version else "default"
        urn = f"urn:pulumi:{plan.stack}::{plan.project}::pulumi:providers:{package}::{name}"
        if urn in in_plan:
            providers.append(in_plan[urn])
            continue
        inputs: dict[str, Any] = {
            key.split(":", 1)[1]: value
            for key, value in provider_config.items()
            if key.startswith(f"{package}:")
        }
        if version:
            inputs["version"] = version
        providers.append(
            PlanResource(
                urn=urn,
                type=f"pulumi:providers:{package}",
                name=name,
                custom=True,
                parent="",
                dependencies=(),
                property_dependencies={},
                inputs=inputs,
            )
        )
    return providers


def registrations(plan: Plan, provider_config: Mapping[str, Any]) -> list[PlanResource]:
    """Every resource the engine would see, in registration order: the root stack resource
    (always first; its stack-analysis properties are the stack outputs), the default providers
    (registered before their first use), then the plan's resources, each custom resource pointing
    at its package's default provider unless the plan names another."""
    providers = default_providers(plan, provider_config)
    by_package = {p.type.removeprefix("pulumi:providers:"): p.urn for p in providers}
    provider_urns = {p.urn for p in providers}
    resources = [
        replace(r, provider=by_package[r.type.split(":", 1)[0]])
        if r.custom and not r.provider and r.type.split(":", 1)[0] in by_package
        else r
        for r in plan.resources
        if r.urn not in provider_urns  # a default provider from the plan goes first, once
    ]
    head: list[PlanResource] = []
    if not any(r.type == STACK_TYPE for r in resources):
        head.append(
            PlanResource(
                urn=plan.stack_urn,
                type=STACK_TYPE,
                name=f"{plan.project}-{plan.stack}",
                custom=False,
                parent="",
                dependencies=(),
                property_dependencies={},
                inputs={},
            )
        )
    return head + providers + resources
