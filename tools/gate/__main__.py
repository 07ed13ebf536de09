"""``make gate PLAN=<plan.json> STACK=<stack> [FORMAT=text|markdown|json|sarif] [OUTPUT=<file>]``
and ``make preview STACK=<stack>``.

Runs the HIPAA policy pack against an offline plan exactly as ``pulumi preview --policy-pack
policies --policy-pack-config policies/config/<stack>.json`` would: the pack is started as the CLI
starts it (:mod:`tools.gate.pack_process`) and driven over the analyzer gRPC protocol
(:mod:`tools.gate.run_loop`).

Without ``--plan`` the gate plans the stack itself first (what ``make plan`` does, in the same
process, while the pack boots) and keeps the plan in ``--save-plan``: that is ``make preview``.

Exit status: 0 no mandatory violation; 1 at least one mandatory violation (the merge is blocked);
2 the gate could not judge the plan (bad arguments, unreadable or malformed plan, unknown stack,
invalid pack config, a pack that does not start); 130 (SIGINT) or 143 (SIGTERM) interrupted: the
pack is stopped and nothing was judged. Nothing is a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import yaml

from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT, PROJECT_DIR, list_stacks, read_stack
from tools.gate.formats import FORMATS, renderer
from tools.gate.pack_config import PackConfigError, load_pack_config, reconcile
from tools.gate.pack_process import PackError, PackRejected, PolicyPackProcess, stop_all
from tools.gate.plan_input import Plan, PlanError, load_plan, parse_plan
from tools.gate.report import GateReport, build_report, repo_relative
from tools.gate.run_loop import run_pack
from tools.gate.wire import cli_config_env

if TYPE_CHECKING:
    from tools.review.sections import Review

USAGE_ERROR = 2
BUILD_DIR = PROJECT_DIR / ".build"


class UsageError(Exception):
    """A problem with what the gate was asked to do; exit 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.gate",
        description="Run the HIPAA policy pack against an offline plan over the Pulumi analyzer "
        "protocol. Exit 0: no mandatory violation; 1: mandatory violations; 2: usage error; "
        "130/143: interrupted by SIGINT/SIGTERM (the pack is stopped, nothing judged).",
    )
    parser.add_argument(
        "--plan",
        type=Path,
        help="plan JSON from `make plan OUT=`; without it the stack is planned first",
    )
    parser.add_argument(
        "--save-plan",
        type=Path,
        help="where to keep the plan made without --plan (default .build/plan-<stack>.json)",
    )
    parser.add_argument("--stack", required=True, help="stack name (Pulumi.<stack>.yaml)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument("--output", type=Path, help="write the report here instead of stdout")
    parser.add_argument(
        "--write",
        action="append",
        default=[],
        metavar="FORMAT:PATH",
        help="also write FORMAT to PATH (repeatable), e.g. --write sarif:gate.sarif",
    )
    parser.add_argument(
        "--pack", type=Path, default=PROJECT_DIR / "policies", help="policy pack directory"
    )
    parser.add_argument(
        "--pack-config",
        type=Path,
        help="pack config JSON (default: <pack>/config/<stack>.json)",
    )
    parser.add_argument(
        "--review",
        action="store_true",
        help="add cost, capacity (and with --base-plan the change and its diagram) to the "
        "Markdown report: the PR comment",
    )
    parser.add_argument(
        "--base-plan",
        type=Path,
        help="the base branch's plan of the stack (python -m tools.diff.base), for --review",
    )
    return parser


def _extra_outputs(values: list[str]) -> list[tuple[str, Path]]:
    outputs = []
    for value in values:
        name, sep, path = value.partition(":")
        if not sep or not path or name not in FORMATS:
            raise UsageError(
                f"--write {value!r}: expected FORMAT:PATH with FORMAT one of {', '.join(FORMATS)}"
            )
        outputs.append((name, Path(path)))
    return outputs


def project_stack_tags(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """The stack tags the CLI derives from ``Pulumi.yaml`` (``pulumi:project``, ``pulumi:runtime``,
    ``pulumi:description``) and sends in ``ConfigureStack``."""
    try:
        document = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(
            f"{project_dir / 'Pulumi.yaml'}: cannot read the project file: {exc}"
        ) from None
    if not isinstance(document, dict):
        raise UsageError(f"{project_dir / 'Pulumi.yaml'}: not a Pulumi project file")
    runtime = document.get("runtime")
    tags = {
        "pulumi:project": str(document.get("name", "")),
        "pulumi:runtime": str(
            runtime.get("name", "") if isinstance(runtime, dict) else runtime or ""
        ),
    }
    if document.get("description"):
        tags["pulumi:description"] = str(document["description"])
    return tags


def _plan_now(stack: str, save_to: Path, show_tree: bool) -> Plan:
    """Plan ``stack`` under the mock runtime (as ``make plan`` does) and keep it on disk."""
    import pulumi

    from tools.plan import plan_stack, render_tree

    try:
        planned = plan_stack(stack)
    except pulumi.RunError as exc:
        raise UsageError(f"the program failed under the mock runtime: {exc}") from None
    document = planned.to_json()
    _write(save_to, json.dumps(document, indent=2) + "\n")
    if show_tree:
        sys.stdout.write(render_tree(planned) + "\n\n")
    return parse_plan(document, str(save_to))


def evaluate(args: argparse.Namespace, resources: ExitStack) -> GateReport:
    """Load everything, run the pack, and build the report; raises on any usage problem.

    The pack is stopped (SIGINT) as soon as it has answered; ``resources`` waits for it to exit,
    so the caller can render while it shuts down.
    """
    known = list_stacks()
    if args.stack not in known:
        raise UsageError(
            f"unknown stack {args.stack!r}: stacks are {', '.join(known) or 'none'} "
            "(one Pulumi.<stack>.yaml each)"
        )
    if args.plan is not None and args.save_plan is not None:
        raise UsageError(
            "--save-plan keeps the plan the gate makes itself; it cannot go with --plan"
        )
    plan: Plan | None = None
    if args.plan is not None:
        plan = load_plan(args.plan)
        if plan.stack != args.stack or plan.project != PROJECT:
            raise UsageError(
                f"{args.plan}: planned for {plan.project}/{plan.stack}, not "
                f"{PROJECT}/{args.stack}; run `make plan STACK={args.stack} OUT={args.plan}`"
            )
    pack_config_path = args.pack_config or args.pack / "config" / f"{args.stack}.json"
    pack_config = load_pack_config(pack_config_path)
    stack_file = read_stack(args.stack)
    stack_config = cli_config_env(stack_file.config)
    secret_keys = stack_file.secret_keys
    pack = resources.enter_context(
        PolicyPackProcess(
            args.pack,
            project=PROJECT,
            stack=args.stack,
            stack_config=stack_config,
            secret_keys=secret_keys,
            stack_tags=project_stack_tags(),
            display_root=PROJECT_DIR,
        )
    )
    plan_path = args.plan
    if plan is None:
        # The pack boots in its own process meanwhile.
        plan_path = args.save_plan or BUILD_DIR / f"plan-{args.stack}.json"
        show_tree = args.format == "text" and args.output is None
        plan = _plan_now(args.stack, plan_path, show_tree)
    info = pack.info()
    config = reconcile(
        [p.schema() for p in info.policies],
        info.initial_config,
        pack_config,
        str(pack_config_path),
    )
    try:
        run = run_pack(pack, plan, config, info, provider_config=stack_file.config)
    except PackRejected as exc:
        if exc.method != "Configure":
            raise
        # The pack judged the reconciled config as it would under `pulumi preview`.
        raise PackConfigError(f"{pack_config_path}: {exc.details}") from None
    pack.request_stop()
    report = build_report(
        run,
        project=plan.project,
        stack=plan.stack,
        plan_path=repo_relative(plan_path, PROJECT_DIR),
        pack_config_path=repo_relative(pack_config_path, PROJECT_DIR),
        resource_count=run.analyzed_resources,
    )
    # What the pack said besides its answers: engine Log calls and its stderr (warnings).
    report.pack_log = (
        (list(pack.engine.servicer.logs) if pack.engine else [])
        + run.remediations
        + [f"stderr: {line}" for line in pack.stderr if line.strip()]
    )
    report.launch_note = pack.launch_note
    # After the pack has answered, so that a signal during analysis meets the gate as it always
    # has (a review thread running then let gRPC's shutdown chatter reach stderr first).
    report.review, report.warnings = _review(plan, args)
    return report


def _review(plan: Plan, args: argparse.Namespace) -> tuple[Review | None, list[str]]:
    """With --review (the pull request's gate): the PR comment's sections, the budget check among
    them. Neither changes the verdict. Without it nothing more is computed: pricing the plan
    means sampling the data layer's workload, which would cost every local ``make preview``
    about half a second (``make cost`` checks the budget on demand)."""
    if not args.review:
        return None, []
    from tools.review.sections import build_review

    base = None
    label = "base"
    if args.base_plan is not None:
        from tools.plan_source import read_plan_file
        from tools.review_errors import ReviewError

        try:
            base = read_plan_file(args.base_plan, args.stack)
        except ReviewError as exc:
            raise UsageError(str(exc)) from None
        label = _base_label(args.base_plan)
    review = build_review(plan, base=base, base_label=label)
    return review, review.warnings


def _base_label(path: Path) -> str:
    """What the base plan says it was planned from (``tools.diff.base`` records it)."""
    try:
        label = json.loads(path.read_text(encoding="utf-8")).get("base")
    except (OSError, ValueError):
        label = None
    return str(label) if label else str(path)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None


def _interrupted(signum: int, _frame: FrameType | None) -> None:
    # Whatever runs now (the mock runtime planning, a call to the pack) must not turn this into a
    # traceback or into exit 1, the status for violations: stop the pack, say so, leave at once.
    stop_all()
    name = signal.Signals(signum).name
    os.write(
        sys.stderr.fileno(),
        f"policy gate: interrupted by {name}; stopped the policy pack, nothing was judged "
        f"(exit {128 + signum})\n".encode(),
    )
    os._exit(128 + signum)


@contextmanager
def _interrupts_stop_the_pack() -> Iterator[None]:
    """SIGINT and SIGTERM stop the pack and exit 128 + signal, for the duration."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread can set handlers (the gate called from a test's thread)
        return
    previous = {s: signal.signal(s, _interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the gate; returns the exit status."""
    args = _parser().parse_args(argv)
    with _interrupts_stop_the_pack():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    report: GateReport | None = None
    try:
        extra = _extra_outputs(args.write)
        with ExitStack() as resources:
            report = evaluate(args, resources)
            if args.output is not None:
                _write(args.output, renderer(args.format, PROJECT_DIR)(report))
            else:
                sys.stdout.write(renderer(args.format, PROJECT_DIR)(report))
            for name, path in extra:
                _write(path, renderer(name, PROJECT_DIR)(report))
    except (UsageError, PlanError, PackConfigError, PackError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader went away (`| head`); Python would complain again when flushing at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return report.exit_code if report is not None else USAGE_ERROR
    if args.output is not None or extra:
        verdict = "passed" if report.passed else f"{len(report.mandatory)} mandatory violation(s)"
        written = ", ".join(str(p) for p in [args.output, *(p for _, p in extra)] if p)
        print(f"policy gate {report.stack}: {verdict}; wrote {written}", file=sys.stderr)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
