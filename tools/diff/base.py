"""Plan a stack as it is at another git ref (the base branch), offline.

The ref's tree is exported with ``git archive`` into a temporary directory and its own
``tools.plan`` runs there, on this checkout's interpreter: the base is planned by the base's code
and config, exactly as a checkout of it would plan it. Plans are cached per commit under
``.build/base-plans/`` (a commit's plan never changes).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from stackspec.stack_file import PROJECT, PROJECT_DIR
from tools.gate.plan_input import Plan, PlanError, parse_plan
from tools.review_errors import OneLineParser, ReviewError

CACHE = PROJECT_DIR / ".build" / "base-plans"


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(  # noqa: S603 - git with our own arguments
        ["git", *args],  # noqa: S607 - git from PATH, as a developer runs it
        cwd=PROJECT_DIR,
        capture_output=True,
        check=False,
    )


def resolve(ref: str) -> str:
    """The commit ``ref`` names; a ref git does not know is one line."""
    if ref.startswith("-"):
        raise ReviewError(f"bad git ref {ref!r}")
    done = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if done.returncode != 0:
        raise ReviewError(f"unknown git ref {ref!r}: git cannot resolve it to a commit here")
    return done.stdout.decode().strip()


def empty_plan(stack: str) -> dict[str, Any]:
    return {"project": PROJECT, "stack": stack, "resources": []}


def plan_at(ref: str, stack: str, *, cache: Path = CACHE) -> tuple[Plan, str]:
    """``stack`` planned at ``ref``: (plan, label). A stack the ref does not have plans empty."""
    document, label = plan_document_at(ref, stack, cache=cache)
    return parse_plan(document, f"plan of {stack} at {ref}"), label


def plan_document_at(ref: str, stack: str, *, cache: Path = CACHE) -> tuple[dict[str, Any], str]:
    """The plan document (as ``make plan OUT=`` writes it) of ``stack`` at ``ref``, and a label."""
    commit = resolve(ref)
    label = f"{ref} ({commit[:8]})"
    cached = cache / f"{commit}-{stack}.json"
    if cached.exists():
        return json.loads(cached.read_text(encoding="utf-8")), label
    archive = _git("archive", "--format=tar", commit)
    if archive.returncode != 0:
        raise ReviewError(f"git archive {ref}: {archive.stderr.decode().strip().splitlines()[-1]}")
    with tempfile.TemporaryDirectory(prefix="medeez-base-") as tmp:
        root = Path(tmp)
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(root, filter="data")
        if not (root / f"Pulumi.{stack}.yaml").exists():
            return empty_plan(stack), f"{label}, where stack {stack} does not exist"
        out = root / "base-plan.json"
        env = {**os.environ, "PYTHONPATH": str(root)}
        done = subprocess.run(  # noqa: S603 - the base ref's own plan runner
            [sys.executable, "-m", "tools.plan", "--stack", stack, "--out", str(out)],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise ReviewError(f"cannot plan {stack} at {ref}: {last}")
        document = json.loads(out.read_text(encoding="utf-8"))
    cache.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(document) + "\n", encoding="utf-8")
    return document, label


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.diff.base --ref REF --stack STACK --out FILE``: CI's base-branch plan."""
    parser = OneLineParser(prog="python -m tools.diff.base")
    parser.add_argument("--ref", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        document, label = plan_document_at(args.ref, args.stack)
        parse_plan(document, f"plan of {args.stack} at {args.ref}")
    except (ReviewError, PlanError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The gate's comment names the base by this label.
    document = {**document, "base": label}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"planned {args.stack} at {label} into {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
