"""The pull-request workflow's comment step, run as CI runs it (bash, the step's env), with a stub
``gh`` that records the API calls: a crash or a cancel must replace an older verdict."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from stackspec.stack_file import PROJECT_DIR

WORKFLOW = PROJECT_DIR / ".github" / "workflows" / "pull-request.yml"
MARKER = "<!-- medeez-policy-gate:dev -->"
# The stub answers the comment listing with the given id (none: no comment yet) and records
# every call with the body it was sent.
GH_STUB = """#!/bin/bash
echo "$*" >> "$GH_LOG"
for arg in "$@"; do
  case "$arg" in body=@*) cat "${arg#body=@}" >> "$GH_LOG"; echo >> "$GH_LOG" ;; esac
done
if [[ "$*" == *"--paginate"* && -n "$EXISTING_COMMENT" ]]; then echo "$EXISTING_COMMENT"; fi
"""


def _comment_step() -> dict[str, object]:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    steps = jobs["policy-gate"]["steps"]
    return next(s for s in steps if s.get("name") == "Post or update the PR comment")


def test_the_comment_step_runs_whatever_happened_before_it():
    condition = str(_comment_step()["if"])
    assert condition.startswith("${{ always() && ")


def _run(tmp_path: Path, *, outcome: str, status: str, job: str, existing: str = "") -> str:
    workdir = tmp_path / "checkout"
    (workdir / ".build").mkdir(parents=True)
    if status in ("0", "1"):
        (workdir / ".build" / "gate-dev.md").write_text(f"{MARKER}\n### ✅ report\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(GH_STUB)
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "gh.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "GH_LOG": str(log),
        "EXISTING_COMMENT": existing,
        "STACK": "dev",
        "PR_NUMBER": "7",
        "REPO": "acme/medeez-platform",
        "GATE_OUTCOME": outcome,
        "GATE_STATUS": status,
        "JOB_STATUS": job,
        "RUN_URL": "https://github.example/acme/medeez-platform/actions/runs/1",
    }
    script = str(_comment_step()["run"])
    bash = shutil.which("bash") or "/bin/bash"
    # GitHub runs a step's script with `bash --noprofile --norc -eo pipefail`.
    subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=workdir,
        env=env,
        check=True,
    )
    return log.read_text()


def test_a_report_replaces_the_old_comment(tmp_path):
    calls = _run(tmp_path, outcome="success", status="0", job="success", existing="41")
    assert "--method PATCH repos/acme/medeez-platform/issues/comments/41" in calls
    assert f"{MARKER}\n### ✅ report\n" in calls


@pytest.mark.parametrize(
    ("outcome", "status", "job", "headline"),
    [
        ("cancelled", "", "cancelled", "`dev` was cancelled"),
        ("success", "130", "cancelled", "`dev` was cancelled"),
        ("success", "2", "failure", "`dev` could not judge this change (exit 2)"),
        ("failure", "", "failure", "`dev` crashed (exit unknown)"),
        ("skipped", "", "failure", "`dev` did not run (an earlier step failed)"),
    ],
)
def test_no_verdict_replaces_an_older_passed_comment(tmp_path, outcome, status, job, headline):
    calls = _run(tmp_path, outcome=outcome, status=status, job=job, existing="41")
    listing, patch, body = calls.split("\n", 2)
    assert listing.startswith("api repos/acme/medeez-platform/issues/7/comments --paginate")
    assert patch.startswith("api --method PATCH repos/acme/medeez-platform/issues/comments/41")
    lines = body.splitlines()
    assert lines[0] == MARKER
    assert lines[1] == f"### ⚠️ HIPAA policy gate: {headline}"
    assert "an earlier result of this gate no longer applies" in body
    assert "✅" not in body


def test_without_an_old_comment_one_is_posted(tmp_path):
    calls = _run(tmp_path, outcome="cancelled", status="", job="cancelled")
    assert "api --method POST repos/acme/medeez-platform/issues/7/comments" in calls
