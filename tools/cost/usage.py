"""The usage model of a stack: ``usage.<stack>.yaml`` beside ``Pulumi.<stack>.yaml``.

What the plan cannot say: how much traffic, data and notification volume a stack carries. Cost
(``make cost``) prices it; capacity (``make capacity``) scales its per-clinic activity to a fleet.
Read as strictly as the stack config: unknown keys are rejected, and every problem is one line
naming the file and the key. A missing file means every default, and the defaults are the
design's dev workload (about $7-23 a month with dev's resources).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator

from datalayer.entities import EntityType
from stackspec.config.base import ConfigModel
from stackspec.errors import ConfigError
from stackspec.stack_file import PROJECT_DIR, load_yaml
from tools.capacity.workload import index_names
from tools.review_errors import ReviewError

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]

#: A typical clinic's month: 4 providers, ~80 visits a working day, each visit booked, confirmed,
#: checked in and completed (4 writes), a note written and signed, an invoice issued and paid.
DEFAULT_WRITES = {
    "CLINIC": 2.0,
    "USER": 20.0,
    "PATIENT": 600.0,
    "APPOINTMENT": 7000.0,
    "NOTE": 3500.0,
    "INVOICE": 3500.0,
}
#: Read requests of up to 4 KB a typical clinic makes in a month, by the index they use.
DEFAULT_READS = {
    "table": 40000.0,
    "ByEntityType": 8000.0,
    "ByPatient": 12000.0,
    "ByProviderTime": 10000.0,
    "ByStatus": 6000.0,
    "ExternalIDs": 1000.0,
}


def usage_path(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    """Where a stack's usage model lives: beside ``Pulumi.<stack>.yaml``, but not named
    ``Pulumi.*.yaml``, which is how stacks are found (``stackspec.stack_file.list_stacks``)."""
    return project_dir / f"usage.{stack}.yaml"


class Requests(ConfigModel):
    clinics: Positive = 60
    """Clinic-equivalents of traffic this stack carries (dev: synthetic and load-test traffic)."""
    writes_per_clinic_month: dict[str, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_WRITES)
    )
    """Entity writes (put, update, delete) a typical clinic makes in a month, by entity type. An
    entity write writes every item the data layer keeps for it, on the table and every GSI."""
    reads_per_clinic_month: dict[str, NonNegative] = Field(
        default_factory=lambda: dict(DEFAULT_READS)
    )
    """Read requests (each up to 4 KB) a typical clinic makes in a month, by index (``table``
    for the base table)."""
    item_kb: Positive = 1.0
    """Average item size; a write costs one write unit per started KB."""
    eventually_consistent_share: Share = 1.0
    """Share of reads that are eventually consistent (half a read unit each)."""

    @model_validator(mode="after")
    def _known_names(self) -> Requests:
        entity_types = [str(kind) for kind in EntityType]
        for key in self.writes_per_clinic_month:
            if key not in entity_types:
                raise ValueError(
                    f"writesPerClinicMonth.{key}: unknown entity type; allowed: "
                    + ", ".join(entity_types)
                )
        for key in self.reads_per_clinic_month:
            if key not in index_names():
                raise ValueError(
                    f"readsPerClinicMonth.{key}: unknown index; allowed: "
                    + ", ".join(index_names())
                )
        return self


class Storage(ConfigModel):
    table_gb: NonNegative = 1.0
    """The base table's size (PITR and backups are billed on it)."""
    keys_only_item_kb: Positive = 0.2
    """Size of an index item that projects only keys (KEYS_ONLY)."""
    include_item_kb: Positive = 0.5
    """Size of an index item that projects keys and a few attributes (INCLUDE)."""


class Streams(ConfigModel):
    read_request_units_per_month: NonNegative = 0
    """Stream reads by consumers other than Lambda triggers (those are free)."""


class Kms(ConfigModel):
    requests_per_key_month: NonNegative = 10000
    """API requests each key serves a month (encrypt, decrypt, data keys)."""
    key_age_days: NonNegative = 0
    """How long the keys have existed: each of their first two rotations adds to the key price."""


class Logs(ConfigModel):
    ingested_gb_per_month: NonNegative = 0
    """Log data ingested into the stack's CloudWatch log groups (none today)."""


class StreamConsumer(ConfigModel):
    records_per_invocation: Positive = 10
    """Stream records the consumer gets per invocation on average (batches fill only under
    load; the stream's records are the base table's item writes)."""
    average_duration_ms: Positive = 150
    """How long an invocation runs on average (one database transaction per batch)."""
    failure_queue_requests_per_month: NonNegative = 1000
    """Requests on the failure queue (sends of failed batches, operators reading them)."""


class Network(ConfigModel):
    flow_log_gb_per_month: NonNegative = 1.0
    """Flow log records delivered to CloudWatch Logs (about 100 bytes per flow each aggregation
    interval: the consumer's and the tooling's connections to the database and endpoints)."""
    endpoint_gb_per_month: NonNegative = 1.0
    """Data through the interface endpoints, all of them together (API calls are small)."""


class AuditDatabase(ConfigModel):
    backup_gb: NonNegative = 2.0
    """Automated backup storage of the audit database (snapshots and WAL over its retention);
    RDS keeps as much as the provisioned storage free."""


class Notifications(ConfigModel):
    publishes_per_month: NonNegative = 300
    """Messages published to the alert topic (alarms, budgets, backup events)."""
    email_deliveries_per_month: NonNegative = 300
    """Email deliveries of those messages."""


class Transfer(ConfigModel):
    internet_out_gb_per_month: NonNegative = 0
    """Data read out of the table to the internet (the app in the same region pays nothing)."""


class AuditBucket(ConfigModel):
    """The audit bucket's own evidence besides the trail's log files (priced from ``cloudtrail``):
    AWS Backup Audit Manager writes each report plan's report once a day, once per format (3
    plans x CSV and JSON = 6 small objects a day), the audit chain's digests, and object lock
    keeps every one for the retention, so the bucket only grows."""

    stored_gb: NonNegative = 0.7
    """Reports and digests held at the plateau, spread over the storage classes of the bucket's
    lifecycle by the days each class holds them. The default is six years of 6 reports a day of
    ~50 KB each (~0.66 GB); the first year holds about a sixth of it."""
    put_requests_per_month: NonNegative = 180
    """Objects written a month: 6 reports a day for 30 days."""
    get_requests_per_month: NonNegative = 200
    """Reads a month (auditors and reviewers downloading reports, the console listing them)."""
    access_log_stored_gb: NonNegative = 1.0
    """Server access logs of the audit bucket held in its access-log bucket (S3 Standard; S3
    does not bill the log deliveries themselves)."""


class CloudTrail(ConfigModel):
    """The stack's trail. Data events are the table's API calls, taken from ``requests`` (each
    read request and entity write counted as one call: an upper bound, since a Query returning
    several KB is one call); management events are the account's control-plane calls."""

    management_events_per_month: NonNegative = 100000
    """Management events the trail records a month (every region, IAM and STS included)."""
    organization_trail_copy: bool = False
    """An organization trail already records this account's management events, so this trail's
    copy is a second one, which AWS bills (the first copy is free)."""
    event_kb: Positive = 0.25
    """Bytes of one event in the gzip-compressed log files, in KB."""
    log_files_per_month: NonNegative = 30000
    """Log and digest files delivered a month (PUT requests and lifecycle transitions)."""
    stream_requests_per_month: NonNegative = 10_500_000
    """Stream API calls a month (the consumer's GetRecords polls, four a second per shard):
    data events only when the trail records the stream's (``trail.streamDataEvents``)."""


class BackupAudit(ConfigModel):
    """AWS Backup Audit Manager, billed per control evaluation: controls (from the planned
    framework) x resources each control evaluates x evaluations a month."""

    resources_per_control: Positive = 10
    """Resources an average control evaluates. Recovery-point controls (encrypted, minimum
    retention) see every point kept (35 daily points a vault); the others one table, plan or
    vault each. dev's 7 controls: (1+1+35+35+1+1+1)/7 ~ 11."""
    evaluations_per_month: NonNegative = 30
    """Evaluations of each control on each resource a month: AWS evaluates them every 24 hours
    (and on configuration changes, which are rare here)."""


class ClinicSize(ConfigModel):
    name: str
    share: Share
    """Share of the fleet's clinics of this size."""
    activity: Positive
    """Their traffic relative to the typical clinic."""


class Fleet(ConfigModel):
    clinics: Annotated[int, Field(ge=1)] = 10000
    sizes: list[ClinicSize] = Field(
        default_factory=lambda: [
            ClinicSize(name="solo", share=0.5, activity=0.4),
            ClinicSize(name="group", share=0.4, activity=1.0),
            ClinicSize(name="multi-site", share=0.1, activity=4.0),
        ]
    )
    """The mix of clinic sizes; shares add up to 1."""
    working_days_per_month: Annotated[float, Field(gt=0, le=31)] = 22
    peak_hour_share: Annotated[float, Field(gt=0, le=1)] = 0.15
    """Share of a working day's requests that fall in its busiest hour (clinics share time
    zones, so the fleet peaks together)."""

    @model_validator(mode="after")
    def _shares(self) -> Fleet:
        total = sum(size.share for size in self.sizes)
        if not self.sizes or abs(total - 1) > 1e-6:
            raise ValueError(f"sizes: shares add up to {total:g}; they must add up to 1")
        return self

    @property
    def mean_activity(self) -> float:
        return sum(size.share * size.activity for size in self.sizes)

    @property
    def largest(self) -> ClinicSize:
        return max(self.sizes, key=lambda size: size.activity)


class UsageModel(ConfigModel):
    requests: Requests = Field(default_factory=Requests)
    storage: Storage = Field(default_factory=Storage)
    streams: Streams = Field(default_factory=Streams)
    kms: Kms = Field(default_factory=Kms)
    logs: Logs = Field(default_factory=Logs)
    stream_consumer: StreamConsumer = Field(default_factory=StreamConsumer)
    network: Network = Field(default_factory=Network)
    audit_database: AuditDatabase = Field(default_factory=AuditDatabase)
    notifications: Notifications = Field(default_factory=Notifications)
    transfer: Transfer = Field(default_factory=Transfer)
    audit_bucket: AuditBucket = Field(default_factory=AuditBucket)
    cloudtrail: CloudTrail = Field(default_factory=CloudTrail)
    backup_audit: BackupAudit = Field(default_factory=BackupAudit)
    fleet: Fleet = Field(default_factory=Fleet)


def _where(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def parse_usage(document: object, name: str) -> UsageModel:
    """Validate a parsed usage document; errors are one line naming ``name`` and the key."""
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ReviewError(f"{name}: expected a mapping of usage sections")
    try:
        return UsageModel.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(tuple(first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        prefix = f"{where}: " if where else ""
        extra = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ReviewError(f"{name}: {prefix}{message}{extra}") from None


def load_usage(path: Path) -> UsageModel:
    """The usage model at ``path``; all defaults when the file does not exist."""
    if not path.exists():
        return UsageModel()
    try:
        document = load_yaml(path.read_text(encoding="utf-8"), path.name)
    except OSError as exc:
        raise ReviewError(f"{path}: cannot read the usage model: {exc.strerror}") from None
    except ConfigError as exc:
        raise ReviewError(str(exc)) from None
    return parse_usage(document, path.name)
