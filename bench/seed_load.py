"""Seed load rate into the local endpoint: items per second that ``make seed`` writes.

The same path a person takes: ``scripts/start-local.sh`` starts moto_server on a free loopback
port (its own pid file and log in a temporary directory), ``setup_local`` builds the dev stack's
keys and table there, and ``seed`` generates, encrypts and batch-writes the data over HTTP. The
server is stopped with ``scripts/stop-local.sh``, which stops only the pid it started.

The rate covers the whole seed: generating entities, encrypting PHI (Encryption SDK, cached data
keys), computing beacons and BatchWriteItem over HTTP; moto_server's request handling dominates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from datalayer.synthetic import DatasetShape, generate_dataset
from scripts.aws_target import Clients, Target
from scripts.seed_data import item_total, seed
from scripts.servers.postgres import free_port
from scripts.setup_database import setup_local
from stackspec.config.stack import load_stack_config
from stackspec.stack_file import PROJECT_DIR

STACK = "dev"
SHAPES = (
    ("make seed defaults", DatasetShape(clinics=3, patients_per_clinic=25)),
    ("larger", DatasetShape(clinics=10, patients_per_clinic=50)),
)


def script(name: str, state_dir: str, port: int) -> None:
    env = {**os.environ, "MOTO_PORT": str(port), "LOCAL_STATE_DIR": state_dir}
    subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [shutil.which("bash") or "/bin/bash", str(PROJECT_DIR / "scripts" / name)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )


def run() -> None:
    cfg = load_stack_config(STACK)
    print(f"== seed load rate into the local endpoint (moto_server over HTTP, stack {STACK})")
    with tempfile.TemporaryDirectory(prefix="medeez-bench-") as state_dir:
        port = free_port()
        started = time.perf_counter()
        script("start-local.sh", state_dir, port)
        try:
            up = time.perf_counter() - started
            endpoint = f"http://127.0.0.1:{port}"
            clients = Clients.for_target(Target(endpoint), cfg.region)
            started = time.perf_counter()
            setup_local(cfg, clients, target=endpoint)
            setup_seconds = time.perf_counter() - started
            print(f"  moto_server up in {up:.2f} s; make setup (dev) {setup_seconds:.2f} s")
            for seed_value, (label, shape) in enumerate(SHAPES, start=1):
                dataset = generate_dataset(seed_value, shape=shape)
                summary = seed(clients, cfg, dataset, progress=False)
                if summary["items"] != item_total(dataset):
                    raise AssertionError("seed wrote a different number of items than planned")
                kms = ", ".join(f"{n} {c}" for n, c in summary["kmsCalls"].items())
                print(
                    f"  {label}: {shape.clinics} clinics x {shape.patients_per_clinic} patients "
                    f"= {summary['items']:,} items in {summary['seconds']:.2f} s = "
                    f"{summary['items'] / summary['seconds']:,.0f} items/s "
                    f"({summary['batchRequests']} BatchWriteItem, KMS calls: {kms})"
                )
        finally:
            script("stop-local.sh", state_dir, port)
            Path(state_dir, "moto.log").unlink(missing_ok=True)
