"""``make consumer-layer``: wheels for the function's runtime and architecture only, at the
versions requirements.txt pins; the network step itself is not run here (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.consumer_layer import main, pinned, pip_command
from stackspec.config.stack import load_stack_config
from stackspec.definitions.stream_consumer import stream_consumer_definition
from stackspec.stack_file import PROJECT_DIR


def test_the_pins_are_the_ones_the_tests_run() -> None:
    import psycopg

    assert pinned(PROJECT_DIR / "requirements.txt") == [
        f"psycopg=={psycopg.__version__}",
        f"psycopg-binary=={psycopg.__version__}",
    ]


@pytest.mark.parametrize(("stack", "platform"), [("dev", "manylinux2014_aarch64")])
def test_pip_fetches_binary_wheels_for_the_function_only(stack: str, platform: str) -> None:
    definition = stream_consumer_definition(load_stack_config(stack))
    command = pip_command(definition, Path("/tmp/layer"), ["psycopg==1"])
    joined = " ".join(command)
    assert f"--platform {platform}" in joined
    assert "--python-version 3.12" in joined
    assert "--only-binary=:all:" in command
    assert command[command.index("--target") + 1] == "/tmp/layer/python"
    assert command[-1] == "psycopg==1"


def test_a_requirement_without_a_pin_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("boto3==1.0\n")
    with pytest.raises(ValueError, match=r"requirements.txt: no pinned version of psycopg"):
        pinned(tmp_path / "requirements.txt")


def test_an_unknown_stack_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("consumer-layer: error:")
