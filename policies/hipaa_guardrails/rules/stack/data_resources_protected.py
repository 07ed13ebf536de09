"""Resources that keep data are protected from `pulumi destroy` and accidental replacement."""

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import Severity

from hipaa_guardrails.coverage import is_data_store
from hipaa_guardrails.spec import Finding, Guardrail, NotApplicable, Scope, Stack


def check(stack: Stack, config: Mapping[str, Any]) -> Iterator[Finding]:
    if not config["required"]:
        raise NotApplicable("protection is not required by this stack's pack config")
    for resource in stack.resources:
        if not is_data_store(resource.type):
            continue
        if not resource.protect:
            yield Finding(
                f"{resource.type} {resource.name} keeps data but is not protected, so "
                "`pulumi destroy` or a replacement could delete it",
                resource.urn,
            )


RULE = Guardrail(
    name="hipaa-stack-data-resources-protected",
    catalog_id="custom",
    title="Data stores are protected",
    description=(
        "Where the stack's pack config requires it, every resource that keeps data at rest "
        "(tables, keys, vaults, databases, buckets, log groups) must carry the `protect` option."
    ),
    severity=Severity.HIGH,
    controls=("164.312(c)(1)", "164.308(a)(7)(ii)(B)"),
    judgement=True,
    remediation=(
        "Pass opts=ResourceOptions(protect=True, retain_on_delete=True) to data-bearing resources "
        "(config: protection.protect / protection.retainOnDelete). The analyzer protocol carries "
        "`protect` but not `retainOnDelete`, so only `protect` is checked here."
    ),
    unknowns="Resource options are always known; unknown property values do not matter.",
    scope=Scope.STACK,
    check=check,
    config_properties={
        "required": {
            "type": "boolean",
            "default": True,
            "description": "Whether data-bearing resources must be protected in this stack.",
        }
    },
)
