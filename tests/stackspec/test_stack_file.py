"""Reading a stack file strictly: a key written twice and a syntax error are one clear line each,
naming the file, the line and (for syntax) the column; nothing is half-read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackspec.config.stack import load_stack_config
from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT_DIR, list_stacks, read_stack

DEV = (PROJECT_DIR / "Pulumi.dev.yaml").read_text(encoding="utf-8")


def _write(tmp_path: Path, text: str, stack: str = "qa") -> Path:
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_a_key_written_twice_names_both_lines(tmp_path: Path) -> None:
    text = DEV.replace(
        "  medeez-platform:region: us-east-1\n",
        "  medeez-platform:region: us-east-1\n  medeez-platform:region: us-west-2\n",
    )
    first = text.splitlines().index("  medeez-platform:region: us-east-1") + 1
    with pytest.raises(ConfigError) as error:
        read_stack("qa", _write(tmp_path, text))
    assert str(error.value) == (
        f"Pulumi.qa.yaml:{first + 1}:3: key 'medeez-platform:region' appears twice "
        f"(lines {first} and {first + 1}); keep one"
    )


def test_a_nested_duplicate_is_caught_too(tmp_path: Path) -> None:
    text = DEV.replace("    Owner: platform-team\n", "    Owner: platform-team\n    Owner: x\n")
    with pytest.raises(ConfigError, match=r"key 'Owner' appears twice \(lines \d+ and \d+\)"):
        read_stack("qa", _write(tmp_path, text))


def test_a_syntax_error_is_one_line_with_file_line_and_column(tmp_path: Path) -> None:
    text = "config:\n  aws:region: us-east-1\n  medeez-platform:tags: [unclosed\n"
    with pytest.raises(ConfigError) as error:
        read_stack("qa", _write(tmp_path, text))
    message = str(error.value)
    assert message.startswith("Pulumi.qa.yaml:4:1: ")
    assert "\n" not in message


def test_secure_values_are_masked_and_listed(tmp_path: Path) -> None:
    text = DEV.replace(
        "endpoint: platform-alerts-dev@medeez.example",
        "endpoint:\n          secure: v1:abc",
    )
    stack = read_stack("qa", _write(tmp_path, text))
    assert stack.secret_paths == ["medeez-platform:alarms.subscribers[0].endpoint"]
    assert stack.secret_keys == ["medeez-platform:alarms"]


def test_unknown_stack_lists_the_known_ones(tmp_path: Path) -> None:
    _write(tmp_path, DEV, "alpha")
    with pytest.raises(ConfigError, match=re.escape("no Pulumi.qa.yaml; stacks: alpha")):
        read_stack("qa", tmp_path)
    assert list_stacks(tmp_path) == ["alpha"]


def test_the_committed_stacks_read_cleanly() -> None:
    for stack in list_stacks():
        assert load_stack_config(stack).environment == stack
