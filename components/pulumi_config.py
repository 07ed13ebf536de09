"""Read the stack config inside a Pulumi program run (CLI or mock runtime)."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from stackspec.config.stack import StackConfig, parse_stack_config
from stackspec.errors import ConfigError


def stack_config_from_runtime() -> StackConfig:
    """The validated config of the running stack.

    The CLI hands config to the program as ``PULUMI_CONFIG`` (JSON text per key); the mock runtime
    sets it explicitly. A bad config ends the run with the config's message and no traceback
    (``pulumi.RunError``), before any resource is registered.
    """
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    try:
        return parse_stack_config(pulumi.get_stack(), values)
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
