"""docs/config-reference.md is generated from the model and the stacks, and kept current."""

from __future__ import annotations

from tools.config_docs import OUTPUT, main, render


def test_config_reference_is_current() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == render(), "run make docs"
    assert main(["--check"]) == 0


def test_every_key_has_a_row_with_each_stacks_value() -> None:
    text = render()
    assert (
        "| `table.pointInTimeRecovery.recoveryPeriodDays` | int (>= 1, <= 35) | `35` | `7` | `35` |"
        in text
    )
    assert "| `keys.deletionWindowDays` | int (>= 7, <= 30) | `30` | `7` | `30` |" in text
    # Nested defaults come from the parent's default object, not the bare model.
    assert "| `alarms.userErrors.threshold` | float (> 0) | `10.0` | `50` | `10` |" in text
    assert (
        "| `backup.vaultLock.changeableForDays` | int (>= 3, <= 36500), or unset | unset | — | — |"
        in text
    )
