"""``make invalidator-layer``: build the cache invalidator's dependency layer, ``.build/cache-
invalidator-layer.zip``, which the plan references (``CacheInvalidator``'s ``LayerVersion``).

It holds what the handler imports beyond the standard library and boto3 (which the runtime
ships): valkey-py, the AWS Encryption SDK and cryptography at the versions ``requirements.txt``
pins, with their own dependencies, as wheels for the function's runtime and architecture, under
``python/``. No CA bundle: ElastiCache's certificates chain to Amazon's public roots, which the
runtime's system trust store holds.

It needs the network (PyPI), so it is a deploy step, run before ``pulumi up``; tests and the
offline plan never run it. Exit 0 built, 1 failed (one line saying what), 2 usage.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from scripts.consumer_layer import PLATFORMS, pinned
from stackspec.config.stack import load_stack_config
from stackspec.definitions.cache_invalidator import (
    LAYER_REQUIREMENTS,
    CacheInvalidatorDefinition,
    cache_invalidator_definition,
)
from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT_DIR


def pip_command(
    definition: CacheInvalidatorDefinition, target: Path, pins: Sequence[str]
) -> list[str]:
    """The pip call that fetches wheels for the function's runtime and architecture only."""
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--only-binary=:all:",
        "--implementation",
        "cp",
        "--python-version",
        definition.runtime.removeprefix("python"),
        "--platform",
        PLATFORMS[definition.architecture],
        "--target",
        str(target / "python"),
        *pins,
    ]


def build(definition: CacheInvalidatorDefinition, project_dir: Path = PROJECT_DIR) -> Path:
    work = project_dir / ".build" / "cache-invalidator-layer"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pins = pinned(project_dir / "requirements.txt", LAYER_REQUIREMENTS)
    subprocess.run(pip_command(definition, work, pins), check=True)  # noqa: S603 - our own pip
    out = project_dir / definition.layer_zip
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(p for p in work.rglob("*") if p.is_file()):
            archive.write(file, file.relative_to(work).as_posix())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stack", required=True)
    args = parser.parse_args(argv)
    try:
        definition = cache_invalidator_definition(load_stack_config(args.stack))
        out = build(definition)
    except ConfigError as exc:
        print(f"invalidator-layer: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"invalidator-layer: failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"invalidator-layer: wrote {out.relative_to(PROJECT_DIR)} for {definition.runtime} "
        f"{definition.architecture}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
