"""The stack config model: the single source of truth for the program, the scripts and the tests.

Every setting of a stack lives in ``Pulumi.<stack>.yaml`` under the ``medeez-platform:`` namespace
(plus ``aws:region`` for the provider). ``parse_stack_config`` turns that mapping into a frozen,
validated :class:`StackConfig`; a bad config raises :class:`ConfigError` with one message that names
the stack file, the key path and what is allowed. Nothing here imports Pulumi, so scripts that only
talk to AWS can use it too.

Environment differences live in the YAML only. The invariants below are the floor every stack of
that kind must meet (for example, ``prod`` must keep deletion protection on); components never
branch on the environment name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel, to_pascal

from components.schema import GLOBAL_INDEX_NAMES

PROJECT = "medeez-platform"
PROJECT_DIR = Path(__file__).resolve().parent.parent

#: Environments that hold production PHI and must meet the production invariants.
PRODUCTION_ENVIRONMENTS = frozenset({"prod"})

#: Shown in place of a ``secure:`` value when the stack config is read without the Pulumi CLI,
#: which is the only thing that can decrypt it.
OFFLINE_SECRET_PLACEHOLDER = "[secret: not decryptable offline]"


_M = TypeVar("_M", bound=BaseModel)


class ConfigError(Exception):
    """A stack config that cannot be used; the message is meant for the person who wrote it."""


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
PositiveInt = Annotated[int, Field(ge=1)]
PositiveFloat = Annotated[float, Field(gt=0)]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Model(BaseModel):
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


def _default(model: type[_M], **values: Any) -> _M:
    """A default instance, written with the camelCase keys YAML uses."""
    return model.model_validate(values)


class DataClassification(StrEnum):
    PHI = "phi"
    CONFIDENTIAL = "confidential"
    INTERNAL = "internal"
    PUBLIC = "public"


class Tags(_Model):
    """The tags every taggable resource carries (AWS tag keys, so PascalCase in YAML)."""

    model_config = ConfigDict(alias_generator=to_pascal)

    environment: str
    """Must equal the stack's environment; the budget filters cost on it."""
    project: Literal["medeez-platform"]
    """Always medeez-platform."""
    owner: Annotated[str, Field(min_length=1, max_length=256)]
    """Team accountable for the resources."""
    cost_center: Annotated[str, Field(min_length=1, max_length=256)]
    """Where the spend is booked."""
    data_classification: DataClassification
    """phi, confidential, internal or public; prod must be phi."""
    managed_by: Literal["pulumi"]
    """Always pulumi: hand-made changes are drift."""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(by_alias=True).items()}


class Projection(_Model):
    """How a GSI projects item attributes."""

    type: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"
    """ALL, KEYS_ONLY or INCLUDE."""
    non_key_attributes: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    """Attributes projected with INCLUDE (required then, refused otherwise)."""

    @model_validator(mode="after")
    def _include_needs_attributes(self) -> Self:
        if self.type == "INCLUDE" and not self.non_key_attributes:
            raise ValueError("INCLUDE needs nonKeyAttributes: the attributes to project")
        if self.type != "INCLUDE" and self.non_key_attributes:
            raise ValueError(f"nonKeyAttributes is only allowed with INCLUDE, not {self.type}")
        if len(set(self.non_key_attributes)) != len(self.non_key_attributes):
            raise ValueError("nonKeyAttributes lists an attribute twice")
        return self


class PointInTimeRecovery(_Model):
    enabled: bool = True
    """Continuous backups for restores to any second in the period."""
    recovery_period_days: Annotated[int, Field(ge=1, le=35)] = 35
    """1-35 days; the price is the same for any period."""


class OnDemandThroughput(_Model):
    """A ceiling on request units per second: a cost circuit breaker for on-demand tables."""

    max_read_request_units: PositiveInt
    """Most read request units per second the table may serve."""
    max_write_request_units: PositiveInt
    """Most write request units per second the table may serve."""


class Billing(_Model):
    mode: Literal["PAY_PER_REQUEST"] = "PAY_PER_REQUEST"
    """PAY_PER_REQUEST (on-demand), as the design says."""
    max_throughput: OnDemandThroughput | None = None
    """Optional cost circuit breaker; requests above it are throttled and alarmed on."""


class TableConfig(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")] | None = None
    """Table name; default medeez-<env>-app. Changing it replaces the table."""
    billing: Billing = Billing()
    """Billing mode and optional maximum throughput."""
    projections: dict[str, Projection] = Field(default_factory=dict)
    """Per-GSI projection by index name; an index not listed projects ALL."""
    ttl_attribute: Annotated[str, Field(min_length=1, max_length=255)] = "expiresAt"
    """Epoch-seconds attribute after which DynamoDB deletes an item."""
    stream_view_type: Literal["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"] = (
        "NEW_AND_OLD_IMAGES"
    )
    """What the stream (the audit trail's source) carries per change."""
    point_in_time_recovery: PointInTimeRecovery = PointInTimeRecovery()
    """PITR on/off and its period."""
    deletion_protection: bool = True
    """DynamoDB refuses DeleteTable while on; prod must keep it on."""
    contributor_insights: bool = False
    """Contributor Insights on the table and every GSI (hot keys)."""

    @field_validator("projections")
    @classmethod
    def _projections_name_real_indexes(cls, value: dict[str, Projection]) -> dict[str, Projection]:
        unknown = sorted(set(value) - set(GLOBAL_INDEX_NAMES))
        if unknown:
            raise ValueError(
                f"unknown index {', '.join(unknown)}; "
                f"the indexes are {', '.join(GLOBAL_INDEX_NAMES)}"
            )
        return value

    def projection(self, index_name: str) -> Projection:
        return self.projections.get(index_name, Projection())


class Rotation(_Model):
    enabled: bool = True
    """Automatic rotation of every key's material; prod must keep it on."""
    period_days: Annotated[int, Field(ge=90, le=2560)] = 365
    """Days between rotations, 90-2560."""


class KeysConfig(_Model):
    rotation: Rotation = Rotation()
    """Automatic rotation of every CMK of the stack."""
    deletion_window_days: Annotated[int, Field(ge=7, le=30)] = 30
    """Days a scheduled key deletion waits, 7-30; prod must use 30."""


class CrossRegionCopy(_Model):
    enabled: bool = False
    """Copy every recovery point to the DR region's vault; prod must."""
    retention_days: PositiveInt = 35
    """Days the DR copies are kept."""


class VaultLock(_Model):
    """AWS Backup Vault Lock. Without changeableForDays it is governance mode (removable by
    privileged IAM); with it, compliance mode, immutable once that grace period ends."""

    enabled: bool = False
    """Lock the vaults' retention; prod must."""
    min_retention_days: PositiveInt = 7
    """Shortest retention the lock allows."""
    max_retention_days: PositiveInt = 365
    """Longest retention the lock allows."""
    changeable_for_days: Annotated[int, Field(ge=3)] | None = None
    """Set (>= 3) for compliance mode, immutable after that many days; unset is governance mode."""

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.min_retention_days > self.max_retention_days:
            raise ValueError("minRetentionDays must not exceed maxRetentionDays")
        return self


class BackupConfig(_Model):
    schedule: Annotated[str, Field(pattern=r"^cron\(.+\)$|^rate\(.+\)$")] = "cron(0 5 * * ? *)"
    """AWS Backup schedule expression (UTC)."""
    start_window_minutes: Annotated[int, Field(ge=60)] = 60
    """Minutes a job may wait to start (>= 60)."""
    completion_window_minutes: Annotated[int, Field(ge=120)] = 360
    """Minutes a job may run before it is cancelled."""
    retention_days: PositiveInt = 35
    """Days recovery points in the primary vault are kept."""
    cold_storage_after_days: PositiveInt | None = None
    """Move recovery points to cold storage after this many days (retention must be 90 more)."""
    cross_region_copy: CrossRegionCopy = CrossRegionCopy()
    """The copy rule to the DR region."""
    vault_lock: VaultLock = VaultLock()
    """AWS Backup Vault Lock for every vault."""

    @model_validator(mode="after")
    def _lifecycle(self) -> Self:
        if self.completion_window_minutes <= self.start_window_minutes:
            raise ValueError("completionWindowMinutes must be greater than startWindowMinutes")
        cold = self.cold_storage_after_days
        if cold is not None and self.retention_days < cold + 90:
            raise ValueError(
                "retentionDays must be at least coldStorageAfterDays + 90 "
                "(AWS keeps cold recovery points at least 90 days)"
            )
        lock = self.vault_lock
        if lock.enabled:
            for key, days in (
                ("retentionDays", self.retention_days),
                ("crossRegionCopy.retentionDays", self.cross_region_copy.retention_days),
            ):
                if not lock.min_retention_days <= days <= lock.max_retention_days:
                    raise ValueError(
                        f"{key} ({days}) must lie within the vault lock's "
                        f"{lock.min_retention_days}..{lock.max_retention_days} days"
                    )
        return self


class AlarmThreshold(_Model):
    """An alarm fires when the statistic is >= threshold in datapointsToAlarm of the last
    evaluationPeriods periods."""

    threshold: PositiveFloat
    """The alarm fires at or above this value (below it for the backup heartbeat)."""
    period_seconds: Literal[60, 300, 900, 3600, 21600, 86400] = 60
    """Length of one datapoint."""
    evaluation_periods: PositiveInt = 5
    """How many recent periods are evaluated."""
    datapoints_to_alarm: PositiveInt | None = None
    """How many of them must breach (default: all)."""

    @model_validator(mode="after")
    def _datapoints(self) -> Self:
        if self.datapoints_to_alarm is not None and (
            self.datapoints_to_alarm > self.evaluation_periods
        ):
            raise ValueError("datapointsToAlarm must not exceed evaluationPeriods")
        return self

    @property
    def datapoints(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods


#: DynamoDB data-plane operations that CloudWatch publishes per-operation metrics for.
DynamoDbOperation = Literal[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactGetItems",
    "TransactWriteItems",
]


class LatencyAlarm(AlarmThreshold):
    operations: tuple[DynamoDbOperation, ...] = ("GetItem", "Query", "PutItem", "UpdateItem")
    """DynamoDB operations with a latency alarm each."""
    statistic: Literal["Average", "p90", "p95", "p99"] = "p99"
    """Average or a percentile of SuccessfulRequestLatency (ms)."""

    @model_validator(mode="after")
    def _some_operations(self) -> Self:
        if not self.operations:
            raise ValueError("operations must name at least one DynamoDB operation")
        if len(set(self.operations)) != len(self.operations):
            raise ValueError("operations lists an operation twice")
        return self


class Subscriber(_Model):
    protocol: Literal["email", "https", "sqs", "lambda"]
    """email, https, sqs or lambda."""
    endpoint: Annotated[str, Field(min_length=1)]
    """Address, URL or ARN fitting the protocol; may be a secure value."""

    @model_validator(mode="after")
    def _endpoint_matches(self) -> Self:
        expected = {
            "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
            "https": r"^https://",
            "sqs": r"^arn:aws[a-z-]*:sqs:",
            "lambda": r"^arn:aws[a-z-]*:lambda:",
        }[self.protocol]
        secret = self.endpoint == OFFLINE_SECRET_PLACEHOLDER
        if not secret and not re.match(expected, self.endpoint):
            raise ValueError(
                f"endpoint does not fit protocol {self.protocol} (expected {expected})"
            )
        return self


class AlarmsConfig(_Model):
    throttles: AlarmThreshold = _default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """Read/write throttle events, on the table and on each GSI."""
    system_errors: AlarmThreshold = _default(AlarmThreshold, threshold=1, evaluationPeriods=5)
    """DynamoDB HTTP 500s, summed over operations."""
    user_errors: AlarmThreshold = _default(AlarmThreshold, threshold=10, evaluationPeriods=10)
    """DynamoDB HTTP 400s in the account and region."""
    max_throughput_throttles: AlarmThreshold = _default(
        AlarmThreshold, threshold=1, evaluationPeriods=1
    )
    """Requests throttled by the table's maximum on-demand throughput."""
    latency: LatencyAlarm = _default(LatencyAlarm, threshold=25, evaluationPeriods=10)
    """SuccessfulRequestLatency per operation."""
    backup_job_failures: AlarmThreshold = _default(
        AlarmThreshold, threshold=1, periodSeconds=3600, evaluationPeriods=1
    )
    """Failed backup and copy jobs of the primary vault."""
    subscribers: tuple[Subscriber, ...] = ()
    """Who the alert topic notifies."""


class BudgetNotification(_Model):
    type: Literal["ACTUAL", "FORECASTED"]
    """ACTUAL or FORECASTED spend."""
    percent: Annotated[float, Field(gt=0, le=1000)]
    """Percent of the monthly limit that triggers it."""


class BudgetConfig(_Model):
    monthly_limit_usd: PositiveFloat
    """Monthly cost budget in USD."""
    notifications: tuple[BudgetNotification, ...] = (
        _default(BudgetNotification, type="ACTUAL", percent=80),
        _default(BudgetNotification, type="ACTUAL", percent=100),
        _default(BudgetNotification, type="FORECASTED", percent=100),
    )
    """Thresholds; each goes to the alert topic and the emails."""
    emails: tuple[Email, ...] = ()
    """Up to 10 addresses notified directly by AWS Budgets."""
    cost_allocation_tag: Annotated[str, Field(min_length=1)] = "Environment"
    """Tag key (one of tags) the budget filters on; activate it as a cost allocation tag."""

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if not self.notifications:
            raise ValueError("notifications must hold at least one threshold")
        if len(self.notifications) > 10:
            raise ValueError("AWS Budgets allows at most 10 notifications per budget")
        if len(self.emails) > 10:
            raise ValueError("AWS Budgets allows at most 10 email subscribers per notification")
        keys = [(n.type, n.percent) for n in self.notifications]
        if len(set(keys)) != len(keys):
            raise ValueError("notifications lists the same type and percent twice")
        return self


class Protection(_Model):
    """Pulumi resource options for data-bearing resources (table, keys, vaults)."""

    protect: bool = True
    """Pulumi refuses to delete the data-bearing resources (table, keys, vaults)."""
    retain_on_delete: bool = True
    """Removing them from the program leaves them in AWS."""


class StackConfig(_Model):
    """A stack's whole configuration."""

    environment: Annotated[str, Field(pattern=r"^[a-z][a-z0-9]{1,11}$")]
    """Short lower-case name (dev, staging, prod); prod gets the production invariants."""
    region: AwsRegion
    """Primary AWS region; must equal aws:region."""
    dr_region: AwsRegion
    """Disaster-recovery region for backup copies; must differ from region."""
    tags: Tags
    """Tags on every taggable resource."""
    protection: Protection = Protection()
    """Resource options for data-bearing resources."""
    table: TableConfig = TableConfig()
    """The app table."""
    keys: KeysConfig = KeysConfig()
    """The stack's KMS keys."""
    backup: BackupConfig = BackupConfig()
    """AWS Backup plan, copy and lock."""
    alarms: AlarmsConfig = AlarmsConfig()
    """CloudWatch alarm thresholds and alert subscribers."""
    budget: BudgetConfig
    """AWS Budgets monthly cost budget."""

    @model_validator(mode="after")
    def _invariants(self) -> Self:
        # Each failure is "<key path>: <what is required>", so the message names the key.
        failures = []
        if self.tags.environment != self.environment:
            failures.append(
                f"tags.Environment: must equal environment ({self.environment}), "
                f"got {self.tags.environment}; the budget filters cost on it"
            )
        if self.budget.cost_allocation_tag not in self.tags.as_dict():
            failures.append(
                f"budget.costAllocationTag: must be one of the stack's tags "
                f"({', '.join(self.tags.as_dict())}), got {self.budget.cost_allocation_tag}"
            )
        if self.dr_region == self.region:
            failures.append(f"drRegion: must differ from region ({self.region})")
        if self.environment in PRODUCTION_ENVIRONMENTS:
            failures.extend(
                f"{path}: must be {required} in {self.environment} (production PHI)"
                for path, ok, required in self._production_requirements()
                if not ok
            )
        if failures:
            raise ValueError("\n".join(failures))
        return self

    def _production_requirements(self) -> list[tuple[str, bool, str]]:
        return [
            ("table.deletionProtection", self.table.deletion_protection, "true"),
            (
                "table.pointInTimeRecovery.enabled",
                self.table.point_in_time_recovery.enabled,
                "true",
            ),
            ("backup.crossRegionCopy.enabled", self.backup.cross_region_copy.enabled, "true"),
            ("backup.vaultLock.enabled", self.backup.vault_lock.enabled, "true"),
            ("keys.deletionWindowDays", self.keys.deletion_window_days == 30, "30"),
            ("keys.rotation.enabled", self.keys.rotation.enabled, "true"),
            ("protection.protect", self.protection.protect, "true"),
            ("protection.retainOnDelete", self.protection.retain_on_delete, "true"),
            (
                "tags.DataClassification",
                self.tags.data_classification == DataClassification.PHI,
                "phi",
            ),
        ]

    # Derived names: one place, so the program, scripts and policies agree.
    @property
    def prefix(self) -> str:
        return f"medeez-{self.environment}"

    @property
    def table_name(self) -> str:
        return self.table.name or f"{self.prefix}-app"

    @property
    def is_production(self) -> bool:
        return self.environment in PRODUCTION_ENVIRONMENTS

    def key_alias(self, purpose: str) -> str:
        """``alias/medeez-<env>-<purpose>``; purposes: table, phi, alerts, backup, backup-dr."""
        return f"alias/{self.prefix}-{purpose}"

    @property
    def vault_name(self) -> str:
        return f"{self.prefix}-backup"

    @property
    def dr_vault_name(self) -> str:
        return f"{self.prefix}-backup-dr"

    @property
    def backup_plan_name(self) -> str:
        return f"{self.prefix}-backup-plan"

    @property
    def backup_role_name(self) -> str:
        return f"{self.prefix}-backup"

    @property
    def topic_name(self) -> str:
        return f"{self.prefix}-alerts"

    @property
    def dashboard_name(self) -> str:
        return f"{self.prefix}-data"

    @property
    def budget_name(self) -> str:
        return f"{self.prefix}-monthly-cost"


# Top-level keys of the project namespace, as written in YAML.
TOP_LEVEL_KEYS: tuple[str, ...] = tuple(
    field.alias or name for name, field in StackConfig.model_fields.items()
)


def parse_stack_config(stack: str, config: Mapping[str, Any], *, source: str = "") -> StackConfig:
    """Validate a stack's config mapping (``"medeez-platform:table": {...}``, ``"aws:region"``).

    Values may be decoded objects (from YAML) or the JSON strings the Pulumi CLI passes to the
    program. ``source`` names where the config came from in messages (default
    ``Pulumi.<stack>.yaml``).
    """
    where = source or f"Pulumi.{stack}.yaml"
    raw: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT and name:
            raw[name] = _decode(value)
        elif namespace not in ("aws", "pulumi") or not name:
            problems.append(
                f"{key}: unknown key; this project reads {PROJECT}:<key> "
                f"({', '.join(TOP_LEVEL_KEYS)}), the aws provider's aws:<key> and pulumi:<key>"
            )
    provider_region = config.get("aws:region")
    if provider_region is None:
        problems.append("aws:region: missing; set it to the same value as medeez-platform:region")
    elif "region" in raw and str(provider_region) != str(raw["region"]):
        problems.append(
            f"aws:region: {provider_region} must equal {PROJECT}:region ({raw['region']}); "
            "the provider creates the primary-region resources there"
        )
    try:
        model = StackConfig.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_describe(error) for error in exc.errors())
        model = None
    if problems or model is None:
        details = "\n".join(f"  - {p}" for p in problems)
        raise ConfigError(f"stack {stack}: invalid config in {where}:\n{details}")
    return model


def stack_names(project_dir: Path = PROJECT_DIR) -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))


def _stack_document_config(stack: str, project_dir: Path) -> dict[str, Any]:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", stack) or not path.is_file():
        known = ", ".join(stack_names(project_dir)) or "none"
        raise ConfigError(f"unknown stack '{stack}': no Pulumi.{stack}.yaml; stacks: {known}")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"stack {stack}: {path.name} is not valid YAML: {exc}") from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise ConfigError(f"stack {stack}: {path.name} has no 'config:' mapping")
    return {str(k): v for k, v in config.items()}


@dataclass(frozen=True)
class StackFile:
    """``Pulumi.<stack>.yaml`` read once: its config with ``secure:`` values masked, and where
    those values were."""

    config: dict[str, Any]
    """The ``config:`` mapping; ``secure:`` values are :data:`OFFLINE_SECRET_PLACEHOLDER`."""
    secret_paths: list[str]
    """Config paths (``medeez-platform:alarms.subscribers[0].endpoint``) holding ``secure:``."""

    @property
    def secret_keys(self) -> list[str]:
        """The top-level config keys holding a secret, as the CLI lists them to a program."""
        return sorted({path.split(".")[0].split("[")[0] for path in self.secret_paths})


def read_stack(stack: str, project_dir: Path = PROJECT_DIR) -> StackFile:
    """Read ``Pulumi.<stack>.yaml`` (only the Pulumi CLI can decrypt its ``secure:`` values)."""
    raw = _stack_document_config(stack, project_dir)
    return StackFile(
        config={k: _mask_secure(v) for k, v in raw.items()},
        secret_paths=[
            f"{key}.{path}" if path else key
            for key, value in raw.items()
            for path in secret_paths(value)
        ],
    )


def read_stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """The ``config:`` mapping of ``Pulumi.<stack>.yaml``, ``secure:`` values masked."""
    return read_stack(stack, project_dir).config


def load_stack_config(stack: str, project_dir: Path = PROJECT_DIR) -> StackConfig:
    """Read and validate ``Pulumi.<stack>.yaml``: the entry point for scripts and tests."""
    return parse_stack_config(stack, read_stack_file(stack, project_dir))


def secret_paths(value: Any, path: str = "") -> list[str]:
    """Paths of ``secure:`` leaves in a raw YAML config value (for reporting placeholders)."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return [path]
        return [p for k, v in value.items() for p in secret_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in secret_paths(v, f"{path}[{i}]")]
    return []


def _mask_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return OFFLINE_SECRET_PLACEHOLDER
        return {k: _mask_secure(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_secure(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    """The CLI hands structured config to the program as JSON text; YAML gives objects."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _describe(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    if not loc:  # whole-stack invariants already name their key paths, one per line
        message = str(error["msg"]).removeprefix("Value error, ")
        return "\n  - ".join(f"{PROJECT}:{line}" for line in message.splitlines())
    path = f"{PROJECT}:{loc[0]}" if loc else PROJECT
    for part in loc[1:]:
        path += f"[{part}]" if part.isdigit() else f".{part}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key; allowed here: " + ", ".join(_allowed_keys(loc[:-1]))
    elif error["type"] == "missing":
        message = "missing; this key is required"
    elif not isinstance(error.get("input"), dict | list | type(None)):
        message += f" (got {error['input']!r})"
    return f"{path}: {message}"


def _allowed_keys(loc: list[str]) -> list[str]:
    """The keys a config object at ``loc`` accepts, by walking the model tree."""
    model: Any = StackConfig
    for part in loc:
        if part.isdigit():
            continue
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        field = fields.get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return [(f.alias or n) for n, f in model.model_fields.items()]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
