"""``medeez-platform:cacheInvalidator`` and the cache invalidator's definition: names, mapping
bounded by the cache's TTL, environment, package closure and the layer's pins."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts.consumer_layer import pinned
from scripts.invalidator_layer import main, pip_command
from stackspec.config.stack import load_stack_config, parse_stack_config
from stackspec.definitions import stack_definition
from stackspec.definitions.cache_invalidator import LAYER_REQUIREMENTS
from stackspec.errors import ConfigError
from stackspec.naming import KeyPurpose
from stackspec.stack_file import PROJECT_DIR, read_stack

NS = "medeez-platform"


def test_dev_definition() -> None:
    stack = stack_definition(load_stack_config("dev"))
    d = stack.cache_invalidator
    assert (d.function_name, d.role_name, d.queue_name, d.layer_name) == (
        "medeez-dev-cache-invalidator",
        "medeez-dev-cache-invalidator",
        "medeez-dev-cache-invalidator-failures",
        "medeez-dev-cache-invalidator-deps",
    )
    assert (d.runtime, d.architecture, d.memory_mb, d.timeout_seconds) == (
        "python3.12",
        "arm64",
        128,
        10,
    )
    assert (d.reserved_concurrency, d.batch_size, d.maximum_batching_window_seconds) == (2, 100, 0)
    assert (d.maximum_retry_attempts, d.bisect_batch_on_function_error) == (3, True)
    assert d.maximum_record_age_seconds == 60 == stack.cache.ttl_seconds
    assert d.function_response_types == ("ReportBatchItemFailures",)
    assert d.starting_position == "LATEST"
    assert d.key_purpose is KeyPurpose.CONSUMER
    assert d.queue_retention_seconds == 1_209_600
    assert d.log_group_name == "/aws/lambda/medeez-dev-cache-invalidator"
    assert [a.key for a in d.alarms] == [
        "cache-invalidator-errors",
        "cache-invalidator-throttles",
        "cache-invalidator-iterator-age",
        "cache-invalidator-failures",
    ]
    assert d.environment(host="h", secret_arn="arn:s") == {
        "CACHE_HOST": "h",
        "CACHE_PORT": "6379",
        "CACHE_TLS": "true",
        "CACHE_USER": "invalidator",
        "CACHE_SECRET_ARN": "arn:s",
        "CACHE_KEY_PREFIX": "medeez:dev:",
        "CACHE_TTL_SECONDS": "60",
    }
    assert d.cache_secret_name == "medeez-dev/cache/invalidator"


@pytest.mark.parametrize(("ttl", "age"), [(1, 60), (60, 60), (900, 900)])
def test_record_age_is_the_ttl_at_least_lambdas_minimum(ttl: int, age: int) -> None:
    config = copy.deepcopy(read_stack("dev").config)
    config[f"{NS}:cache"] = {**config.get(f"{NS}:cache", {}), "ttlSeconds": ttl}
    d = stack_definition(parse_stack_config("dev", config)).cache_invalidator
    assert (d.ttl_seconds, d.maximum_record_age_seconds) == (ttl, age)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"maximumRetryAttempts": -1},
            f"{NS}:cacheInvalidator.maximumRetryAttempts: Input should be greater than or "
            "equal to 0 (got -1)",
        ),
        (
            {"maximumRecordAgeSeconds": 60},
            f"{NS}:cacheInvalidator.maximumRecordAgeSeconds: unknown key; allowed here: runtime, "
            "architecture, memoryMb, timeoutSeconds, reservedConcurrency, batchSize, "
            "maximumBatchingWindowSeconds, maximumRetryAttempts, bisectBatchOnFunctionError, "
            "parallelizationFactor, logRetentionDays, failureQueueRetentionSeconds, tracing, "
            "alarms",
        ),
    ],
)
def test_bad_config_is_one_clear_line(change: dict[str, Any], expected: str) -> None:
    config = copy.deepcopy(read_stack("dev").config)
    config[f"{NS}:cacheInvalidator"] = change
    with pytest.raises(ConfigError) as caught:
        parse_stack_config("dev", config)
    assert f"  - {expected}" in str(caught.value).splitlines()[1:], str(caught.value)


def test_the_package_imports_the_handler_on_its_own(tmp_path: Path) -> None:
    definition = stack_definition(load_stack_config("dev")).cache_invalidator
    for archived, file in definition.package_files(PROJECT_DIR).items():
        (tmp_path / archived).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / archived).write_bytes(file.read_bytes())
    module, _, function = definition.handler.rpartition(".")
    # -P: the archive's root is the only project directory on the path, as in Lambda's /var/task.
    done = subprocess.run(
        [sys.executable, "-P", "-c", f"import {module} as m; print(callable(m.{function}))"],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "True"), done.stderr[-400:]


def test_the_layer_pins_are_the_ones_the_tests_run() -> None:
    import cryptography
    import valkey

    pins = pinned(PROJECT_DIR / "requirements.txt", LAYER_REQUIREMENTS)
    assert pins[0] == f"valkey=={valkey.__version__}"
    assert pins[2] == f"cryptography=={cryptography.__version__}"
    definition = stack_definition(load_stack_config("prod")).cache_invalidator
    command = pip_command(definition, Path("/tmp/layer"), pins)
    assert " ".join(command[command.index("--python-version") :][:4]) == (
        "--python-version 3.12 --platform manylinux2014_aarch64"
    )
    assert command[-3:] == pins


def test_an_unknown_stack_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", "nosuch"]) == 2
    assert capsys.readouterr().err.startswith("invalidator-layer: error:")
