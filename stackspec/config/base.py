"""What every config model shares: frozen, unknown keys rejected, camelCase keys in YAML, and the
value types whose limits are AWS's own."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

_M = TypeVar("_M", bound=BaseModel)

#: The largest integer the AWS APIs take (their ``Long``); bigger numbers are refused here with
#: this limit rather than by AWS halfway through a deployment.
AWS_LONG_MAX = 2**63 - 1


class ConfigModel(BaseModel):
    """Config objects: frozen, unknown keys rejected, camelCase keys in YAML."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=False,
        serialize_by_alias=True,
        use_attribute_docstrings=True,
    )


def default(model: type[_M], **values: Any) -> _M:
    """A default instance, written with the camelCase keys YAML uses."""
    return model.model_validate(values)


@cache
def aws_region_names() -> frozenset[str]:
    """Real AWS region names (commercial and GovCloud), from the endpoint data botocore ships.

    Read as data rather than through ``botocore.session``, whose import costs about 0.1 s of
    every plan and gate run.
    """
    data = resources.files("botocore").joinpath("data", "endpoints.json").read_text("utf-8")
    return frozenset(
        region
        for partition in json.loads(data)["partitions"]
        if partition["partition"] in ("aws", "aws-us-gov")
        for region in partition["regions"]
    )


def _check_region(value: str) -> str:
    if value not in aws_region_names():
        raise ValueError(
            f"'{value}' is not an AWS region; use a region name such as us-east-1 or us-west-2"
        )
    return value


AwsRegion = Annotated[str, AfterValidator(_check_region)]
PositiveInt = Annotated[int, Field(ge=1, le=AWS_LONG_MAX)]
PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]

#: The retention periods CloudWatch Logs accepts (PutRetentionPolicy), in days.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


def _check_log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(
            "not a CloudWatch Logs retention; use one of "
            + ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        )
    return value


LogRetentionDays = Annotated[int, AfterValidator(_check_log_retention)]
