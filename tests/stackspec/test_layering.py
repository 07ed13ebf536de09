"""stackspec sits below everything: importing all of it loads no Pulumi, no boto3 and nothing of
the layers built on it, so components, local tooling and datalayer can all depend on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from stackspec.stack_file import PROJECT_DIR

FORBIDDEN = ("pulumi", "pulumi_aws", "boto3", "components", "scripts", "datalayer", "tools")


def test_stackspec_imports_nothing_above_it() -> None:
    modules = sorted(
        ".".join(path.relative_to(PROJECT_DIR).with_suffix("").parts).removesuffix(".__init__")
        for path in (PROJECT_DIR / "stackspec").rglob("*.py")
    )
    assert "stackspec.definitions.backup" in modules
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe],
            cwd=Path(PROJECT_DIR),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    above = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert above == []
