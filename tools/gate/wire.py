"""Plan values to the analyzer wire format, the way the engine marshals them.

The engine sends resource properties to an analyzer as a ``google.protobuf.Struct`` built with
``MarshalProperties(KeepUnknowns, KeepSecrets, SkipInternalKeys)``:

- an unknown value (preview) is the sentinel string ``UNKNOWN``;
- a secret stays wrapped as ``{SIG_KEY: SECRET_SIG, "value": ...}``;
- an output value (``{SIG_KEY: OUTPUT_VALUE_SIG, ...}``) is reduced to its plain value, or the
  unknown sentinel when it has none, re-wrapped as a secret when it is secret;
- a resource reference is reduced to its id (custom resources) or URN (components);
- keys starting with ``__`` are engine-internal and are not sent;
- numbers become doubles, ``null`` stays ``null``.

The plan runner writes inputs in this wire form already; this module applies the same rules so a
hand-edited or future plan cannot smuggle a shape the engine would never send.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.protobuf import struct_pb2

#: Values the engine does not know yet during a preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
RESOURCE_REFERENCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"


def _secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def engine_value(value: Any, *, skip_internal: bool = True) -> Any:
    """``value`` as the engine would marshal it for an analyzer (see the module docstring)."""
    if isinstance(value, Mapping):
        sig = value.get(SIG_KEY)
        if sig == SECRET_SIG:
            return _secret(engine_value(value.get("value"), skip_internal=skip_internal))
        if sig == OUTPUT_VALUE_SIG:
            inner = (
                engine_value(value["value"], skip_internal=skip_internal)
                if "value" in value
                else UNKNOWN
            )
            return _secret(inner) if value.get("secret") else inner
        if sig == RESOURCE_REFERENCE_SIG:
            ref_id = value.get("id")
            if isinstance(ref_id, str) and ref_id:
                return ref_id
            return value.get("urn", UNKNOWN) if ref_id is None else UNKNOWN
        return {
            str(key): engine_value(item, skip_internal=skip_internal)
            for key, item in value.items()
            if not (skip_internal and str(key).startswith("__"))
        }
    if isinstance(value, list | tuple):
        return [engine_value(item, skip_internal=skip_internal) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not a plan value")


def to_struct(properties: Mapping[str, Any], *, skip_internal: bool = True) -> struct_pb2.Struct:
    """A property map as the ``Struct`` the engine sends (``AnalyzeRequest.properties``)."""
    struct = struct_pb2.Struct()
    struct.update(engine_value(properties, skip_internal=skip_internal))
    return struct


def cli_config_env(config: Mapping[str, Any]) -> dict[str, str]:
    """Stack config as the CLI passes it to a policy pack (``PULUMI_CONFIG``, ``ConfigureStack``):
    ``namespace:key`` to a string, structured values as JSON text."""
    return {
        key: value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        for key, value in config.items()
    }
