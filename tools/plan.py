"""``make plan STACK=<stack> [OUT=plan.json]``: the Pulumi program without the CLI.

Runs ``__main__.py`` under the Pulumi mock runtime with the stack's YAML config and prints the
resource tree; with ``--out`` it also writes the plan as JSON (the shape the offline policy gate
reads). Inputs are camelCased exactly as the engine receives them, which is what a policy pack sees.

``secure:`` config values can only be decrypted by the Pulumi CLI; offline they are replaced by a
marked placeholder (``stackspec.stack_file.OFFLINE_SECRET_PLACEHOLDER``) and the run says so.
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import settings as runtime_settings

from stackspec.config.stack import parse_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import OFFLINE_SECRET_PLACEHOLDER, PROJECT, PROJECT_DIR, read_stack
from tools.mocks import RealisticMocks, RecordedResource, RecordingMonitor

PROGRAM = PROJECT_DIR / "__main__.py"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    secret_placeholders: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "resources": [r.to_json() for r in self.resources],
            "outputs": self.outputs,
        }

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def descendants(self, ancestor: RecordedResource) -> list[RecordedResource]:
        """Every resource below ``ancestor`` in the parent tree."""
        below: list[RecordedResource] = []
        frontier = {ancestor.urn}
        while frontier:
            children = [r for r in self.resources if r.parent in frontier]
            below.extend(children)
            frontier = {r.urn for r in children}
        return below

    def named(self, name: str) -> RecordedResource:
        matches = [r for r in self.resources if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources are named {name!r}")
        return matches[0]


def cli_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Config values as the CLI hands them to a program: strings, objects as JSON text."""
    return {
        key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()
    }


def run_program(
    stack: str, config: Mapping[str, Any], *, secret_keys: list[str] | None = None
) -> Plan:
    """Run the Pulumi program for ``stack`` under mocks and return everything it registered.

    The config is validated first, so a bad config raises ``ConfigError`` with nothing registered.
    """
    parse_stack_config(stack, config)
    mocks = RealisticMocks(region=str(config["aws:region"]))
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor)
    pulumi.runtime.set_all_config(cli_config(config), secret_keys or [])
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> pulumi.Output[None]:
        runpy.run_path(str(PROGRAM), run_name="__main__")
        root = runtime_settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}))
        return pulumi.Output.from_input(exported).apply(outputs.update)

    program()
    return Plan(
        project=PROJECT,
        stack=stack,
        # Registration order depends on when outputs resolve; URN order makes plans diffable.
        resources=sorted(monitor.recorded, key=lambda r: r.urn),
        outputs=dict(sorted(outputs.items())),
        secret_placeholders=[],
    )


def plan_stack(stack: str, project_dir: Path = PROJECT_DIR) -> Plan:
    """Plan a stack from its ``Pulumi.<stack>.yaml`` in ``project_dir``."""
    stack_file = read_stack(stack, project_dir)
    plan = run_program(stack, stack_file.config, secret_keys=stack_file.secret_keys)
    plan.secret_placeholders = stack_file.secret_paths
    return plan


def render_tree(plan: Plan) -> str:
    """The resource tree, as ``pulumi preview`` would list it."""
    children: dict[str, list[RecordedResource]] = {}
    for resource in plan.resources:
        children.setdefault(resource.parent, []).append(resource)
    root_urns = {r.parent for r in plan.resources if r.parent.split("::")[-2] == STACK_TYPE}
    lines = [f"{STACK_TYPE}  {plan.project}-{plan.stack}"]

    def walk(urn: str, indent: str) -> None:
        kids = children.get(urn, [])
        for index, child in enumerate(kids):
            last = index == len(kids) - 1
            flags = [
                flag
                for flag, on in (
                    ("protect", child.protect),
                    ("retainOnDelete", child.retain_on_delete),
                )
                if on
            ]
            region = child.inputs.get("region")
            notes = ([f"region={region}"] if region else []) + flags
            suffix = f"  [{', '.join(notes)}]" if notes else ""
            lines.append(f"{indent}{'└─ ' if last else '├─ '}{child.type}  {child.name}{suffix}")
            walk(child.urn, indent + ("   " if last else "│  "))

    for urn in sorted(root_urns):
        walk(urn, "")
    custom = sum(1 for r in plan.resources if r.custom)
    lines.append("")
    lines.append(
        f"Resources: {len(plan.resources)} ({custom} custom, "
        f"{len(plan.resources) - custom} components)"
    )
    lines.append("Outputs:")
    width = max((len(k) for k in plan.outputs), default=0)
    lines.extend(f"  {key:<{width}}  {value}" for key, value in plan.outputs.items())
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make plan", description="Offline plan of a stack under the Pulumi mock runtime."
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--out", type=Path, help="also write the plan as JSON to this file")
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="directory holding the Pulumi.<stack>.yaml files (default: this repo)",
    )
    args = parser.parse_args(argv)
    try:
        plan = plan_stack(args.stack, args.project_dir)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except pulumi.RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_tree(plan))
    if plan.secret_placeholders:
        print(
            f"\nnote: {len(plan.secret_placeholders)} secure config value(s) cannot be decrypted "
            f"offline and were planned as {OFFLINE_SECRET_PLACEHOLDER!r}: "
            + ", ".join(plan.secret_placeholders)
        )
    if args.out:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(plan.to_json(), indent=2, sort_keys=False) + "\n")
        except OSError as exc:
            print(f"error: cannot write the plan to {args.out}: {exc.strerror}", file=sys.stderr)
            return 2
        print(f"\nplan written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
