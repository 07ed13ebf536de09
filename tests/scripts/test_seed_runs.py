"""`make seed` as a process against a real moto_server on a free loopback port: the same data
whatever the date, Ctrl-C and SIGTERM in the middle, and an emulator that dies under it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from datalayer.synthetic import DatasetShape, generate_dataset
from scripts.aws_target import Clients, Target
from scripts.seed_data import item_total
from scripts.servers.postgres import free_port
from scripts.setup_database import setup_local
from stackspec.config.stack import load_stack_config

REPO = Path(__file__).resolve().parents[2]
START = REPO / "scripts" / "start-local.sh"
STOP = REPO / "scripts" / "stop-local.sh"
TABLE = "medeez-dev-app"

#: Imported by Python at start-up (sitecustomize) from PYTHONPATH: moves the whole process's
#: clock to FAKE_TODAY, so every way of asking for "today" (date.today, datetime.now, time.time)
#: answers that day. Stands in for running on another day.
CLOCK_SHIM = """
import datetime as _dt
import os
import time as _time

_day = _dt.date.fromisoformat(os.environ["FAKE_TODAY"])
_noon = _dt.datetime(_day.year, _day.month, _day.day, 12, tzinfo=_dt.timezone.utc)
_shift = _noon.timestamp() - _time.time()
_real_time = _time.time


class _Date(_dt.date):
    @classmethod
    def today(cls):
        return cls(_day.year, _day.month, _day.day)


class _DateTime(_dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return _dt.datetime.fromtimestamp(_real_time() + _shift, tz)

    @classmethod
    def utcnow(cls):
        return _dt.datetime.fromtimestamp(_real_time() + _shift, _dt.timezone.utc).replace(
            tzinfo=None
        )

    @classmethod
    def today(cls):
        return cls.now()


_dt.date = _Date
_dt.datetime = _DateTime
_time.time = lambda: _real_time() + _shift
"""


@dataclass
class Emulator:
    state: Path
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of `make seed` with only the emulator recorded in .local/env."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        return {**env, "LOCAL_STATE_DIR": str(self.state), **extra}

    def count(self) -> int:
        client = boto3.client(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        pages = client.get_paginator("scan").paginate(TableName=TABLE, Select="COUNT")
        return sum(page["Count"] for page in pages)

    def pid(self) -> int:
        return int((self.state / "moto.pid").read_text().split()[0])


def start_emulator(state: Path) -> Emulator:
    emu = Emulator(state, free_port())
    started = subprocess.run(
        [str(START)],
        env={
            **os.environ,
            "MOTO_PORT": str(emu.port),
            "LOCAL_STATE_DIR": str(state),
            "LOCAL_AUDIT": "0",  # moto_server alone (test_local_audit_servers.py)
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    cfg = load_stack_config("dev")
    setup_local(cfg, Clients.for_target(Target(emu.endpoint), cfg.region))
    return emu


def stop_emulator(emu: Emulator) -> None:
    subprocess.run(
        [str(STOP)],
        env={**os.environ, "LOCAL_STATE_DIR": str(emu.state)},
        capture_output=True,
        check=False,
    )


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = start_emulator(tmp_path_factory.mktemp("seed-runs") / "state")
    yield emu
    stop_emulator(emu)


def seed_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "scripts.seed_data", "--stack", "dev", *args]


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def on_day(tmp_path: Path) -> dict[str, str]:
    """PYTHONPATH entries that put the clock shim first (FAKE_TODAY chooses the day)."""
    shim = tmp_path / "clock"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(CLOCK_SHIM)
    return {"PYTHONPATH": os.pathsep.join([str(shim), str(REPO)])}


# --- the same data whatever the date ------------------------------------------------------------

PRINT_DATASET = (
    "import datetime, hashlib\n"
    "from scripts.seed_data import build_parser, planned_dataset\n"
    "args = build_parser().parse_args(['--stack', 'dev', '--clinics', '4', '--seed', '9'])\n"
    "print(datetime.date.today(), hashlib.sha256(repr(planned_dataset(args)).encode())"
    ".hexdigest())\n"
)


def test_the_same_seed_gives_the_same_dataset_on_any_day(
    emulator: Emulator, on_day: dict[str, str]
) -> None:
    days = ("2026-12-01", "2027-06-15")
    outputs = [
        run([sys.executable, "-c", PRINT_DATASET], emulator.env(**on_day, FAKE_TODAY=day))
        for day in days
    ]
    for output in outputs:
        assert output.returncode == 0, output.stderr
    (today_1, digest_1), (today_2, digest_2) = (o.stdout.split() for o in outputs)
    assert (today_1, today_2) == days  # the shim did move the clock
    assert digest_1 == digest_2


def test_seeding_again_on_another_day_adds_nothing(
    emulator: Emulator, on_day: dict[str, str]
) -> None:
    argv = seed_argv("--clinics", "2", "--patients", "5", "--seed", "11", "--no-progress")
    before = emulator.count()
    first = run(argv, emulator.env(**on_day, FAKE_TODAY="2026-12-01"))
    assert first.returncode == 0, first.stderr
    planned = item_total(generate_dataset(11, shape=DatasetShape.for_patients(2, 5)))
    assert emulator.count() - before == planned
    later = run(argv, emulator.env(**on_day, FAKE_TODAY="2027-06-15"))
    assert later.returncode == 0, later.stderr
    assert emulator.count() - before == planned
    assert "as of 2026-11-24 (the fixed default)" in later.stdout


# --- interrupted ---------------------------------------------------------------------------------

INTERRUPTED = re.compile(
    r"seed: interrupted by (?P<signal>SIG\w+): wrote (?P<written>\d+) of (?P<total>\d+) items; "
    r"complete: \d+ of 2 clinics.*; not written: (?P<missing>\d+) items"
    r"(?P<rest>.*); rerun the same command to finish \(it rewrites the same items\)"
)


def start_seed(emu: Emulator, *args: str) -> tuple[subprocess.Popen[str], list[str]]:
    """A seed process, once its first progress line shows it is writing (the lines before)."""
    process = subprocess.Popen(
        seed_argv(*args),
        cwd=REPO,
        env=emu.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    seen: list[str] = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("seed: progress: "):
            return process, seen
    process.wait()
    pytest.fail(f"seed ended before writing: {''.join(seen)}")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_seed_says_what_it_wrote_in_one_line(
    emulator: Emulator, signum: signal.Signals, code: int
) -> None:
    args = ("--clinics", "2", "--patients", "150", "--seed", str(100 + signum), "--no-verify")
    before = emulator.count()
    process, _ = start_seed(emulator, *args)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code
    assert "Traceback" not in err
    report = [line for line in err.splitlines() if not line.startswith("seed: progress: ")]
    assert len(report) == 1, err
    match = INTERRUPTED.fullmatch(report[0])
    assert match, report[0]
    assert match["signal"] == signum.name
    written, total = int(match["written"]), int(match["total"])
    assert 0 < written < total
    assert int(match["missing"]) == total - written
    unanswered = re.search(r"a batch of (\d+) was sent unanswered", match["rest"])
    landed = emulator.count() - before
    assert written <= landed <= written + (int(unanswered[1]) if unanswered else 0)

    finished = run(seed_argv(*args, "--no-progress"), emulator.env())
    assert finished.returncode == 0, finished.stderr
    assert emulator.count() - before == total


def test_an_emulator_that_dies_under_seed_is_reported_with_what_was_lost(tmp_path: Path) -> None:
    emu = start_emulator(tmp_path / "state")
    try:
        process, _ = start_seed(emu, "--clinics", "2", "--patients", "150", "--no-verify")
        os.kill(emu.pid(), signal.SIGKILL)
        _, err = process.communicate(timeout=120)
    finally:
        stop_emulator(emu)
    assert process.returncode == 1
    assert "Traceback" not in err
    (report,) = [line for line in err.splitlines() if not line.startswith("seed: progress: ")]
    assert report.startswith("seed: failed: ")
    assert re.search(r"; wrote \d+ of \d+ items; complete: ", report), report
    assert report.endswith(
        f"; nothing answers at {emu.endpoint} any more: the emulator has stopped, and since it "
        "keeps data in memory only, everything it held is gone with it (keys, table and every "
        "item written); start over with make local-up, make setup, make seed"
    )
