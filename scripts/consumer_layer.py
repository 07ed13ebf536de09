"""``make consumer-layer``: build the stream consumer's dependency layer, ``.build/stream-consumer-
layer.zip``, which the plan references (``StreamConsumer``'s ``LayerVersion``).

It holds what the handler imports beyond the standard library and boto3 (which the runtime
ships): psycopg with its binary wheel, at the version ``requirements.txt`` pins, for the
function's runtime and architecture (``pip install --platform manylinux2014_aarch64
--python-version 3.12 --only-binary=:all:``), under ``python/``; and the RDS CA bundle under
``rds/global-bundle.pem`` (the function's ``AUDIT_RDS_CA_BUNDLE`` is ``/opt/rds/...``).

It needs the network (PyPI and AWS's trust store), so it is a deploy step, run before
``pulumi up`` (README, "The stream consumer"); tests and the offline plan never run it. Exit 0
built, 1 failed (one line saying what), 2 usage.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

from stackspec.config.stack import load_stack_config
from stackspec.definitions.stream_consumer import (
    CA_BUNDLE_URL,
    LAYER_REQUIREMENTS,
    StreamConsumerDefinition,
    stream_consumer_definition,
)
from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT_DIR

PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def pinned(requirements: Path, names: Sequence[str] = LAYER_REQUIREMENTS) -> list[str]:
    """``name==version`` for each of ``names`` pinned in ``requirements`` (extras dropped)."""
    pins: dict[str, str] = {}
    for line in requirements.read_text().splitlines():
        found = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?==([^\s;#]+)", line.strip())
        if found:
            pins[found.group(1).lower()] = found.group(3)
    if "psycopg" in pins:
        # psycopg[binary] pins psycopg-binary to the same version.
        pins.setdefault("psycopg-binary", pins["psycopg"])
    missing = [name for name in names if name not in pins]
    if missing:
        raise ValueError(f"{requirements.name}: no pinned version of {', '.join(missing)}")
    return [f"{name}=={pins[name]}" for name in names]


def pip_command(
    definition: StreamConsumerDefinition, target: Path, pins: Sequence[str]
) -> list[str]:
    """The pip call that fetches wheels for the function's runtime and architecture only."""
    version = definition.runtime.removeprefix("python")
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
        version,
        "--platform",
        PLATFORMS[definition.architecture],
        "--target",
        str(target / "python"),
        *pins,
    ]


def build(definition: StreamConsumerDefinition, project_dir: Path = PROJECT_DIR) -> Path:
    work = project_dir / ".build" / "stream-consumer-layer"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    pins = pinned(project_dir / "requirements.txt")
    subprocess.run(pip_command(definition, work, pins), check=True)  # noqa: S603 - our own pip
    bundle = work / Path(definition.ca_bundle_path).relative_to("/opt")
    bundle.parent.mkdir(parents=True)
    with urllib.request.urlopen(CA_BUNDLE_URL, timeout=30) as response:  # noqa: S310 - https
        bundle.write_bytes(response.read())
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
        definition = stream_consumer_definition(load_stack_config(args.stack))
        out = build(definition)
    except ConfigError as exc:
        print(f"consumer-layer: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"consumer-layer: failed: {exc}", file=sys.stderr)
        return 1
    print(
        f"consumer-layer: wrote {out.relative_to(PROJECT_DIR)} for {definition.runtime} "
        f"{definition.architecture}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
