"""``make drill``: restore the stack's table into a scratch table and prove the restore.

The scratch table is ``medeez-<env>-drill-<UTC stamp>``: it never ends in ``-app``, is tagged
``Purpose=restore-drill``, and is deleted when the drill ends, whether it passed, failed, or was
interrupted (Ctrl-C or SIGTERM). Every mutating call the drill makes is checked in process to name
the scratch table (or a backup the drill itself took): the live table is only ever read.

Checks: the restore completed; every GSI of the source exists on the copy and is ACTIVE; item
counts per entity type and a checksum over every item equal the source's; a sample of PHI
decrypts with the stack's PHI key; every access pattern of the catalog returns the same items
from the copy as from the source; recovery time and recovery point meet the stack's targets.

The source is read before the restore and again after it. Equality with the source at the
restore point is only provable when the source did not change in between (no writes during the
drill): when it did, the drill says so and fails rather than compare against a moving target.

Exit status: 0 every check passed and both targets were met; 1 a check failed or a target was
missed (or the endpoint refused); 2 usage errors; 130/143 interrupted (after cleanup).
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from datalayer.access_patterns import CATALOG, AccessPattern, query_request, run_query
from datalayer.beacons import BeaconKeyring
from datalayer.entities import ENTITY_TYPE_ATTRIBUTE, EntityType, ItemCodec
from datalayer.phi import PHI_ATTRIBUTE, ClinicKeyring, PhiError
from datalayer.store import clinic_beacon_key_source, from_attribute_values
from scripts.aws_target import (
    Clients,
    Target,
    UsageError,
    add_target_arguments,
    announce_target,
    describe_call_failure,
    resolve_target,
)
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.errors import ConfigError
from stackspec.key_schema import PARTITION_KEY, SORT_KEY

Source = Literal["pitr", "backup"]
PURPOSE_TAG = "restore-drill"
#: How many PHI-bearing items are decrypted (spread over the entity types, deterministically).
PHI_SAMPLE = 24
READ_PREFIXES = ("Describe", "Get", "List", "Scan", "Query", "BatchGet")


class DrillError(Exception):
    """The drill could not go on (the restore failed, a call was refused)."""


class Interrupted(BaseException):
    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True)
class Check:
    check: str
    status: Literal["PASS", "FAIL"]
    detail: str


@dataclass
class DrillRecord:
    """What an auditor keeps: who ran which drill when, against what, and what it proved."""

    drill_id: str
    stack: str
    target: str
    operator: dict[str, str]
    started_at: str
    source: dict[str, Any]
    restore: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    recovery_time: dict[str, Any] = field(default_factory=dict)
    recovery_point: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)
    cleanup: dict[str, Any] = field(default_factory=dict)
    finished_at: str = ""

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.status == "PASS" for c in self.checks)

    def add(self, check: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(check, "PASS" if ok else "FAIL", detail))

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["passed"] = self.passed
        return data


# --- items: canonical form and checksum ----------------------------------------------------------


def _canonical(value: Any) -> Any:
    """An attribute value in a form JSON can hold and sets cannot reorder."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind == "B":
                return {"B": base64.b64encode(bytes(inner)).decode()}
            if kind in ("SS", "NS"):
                return {kind: sorted(inner)}
            if kind == "BS":
                return {"BS": sorted(base64.b64encode(bytes(b)).decode() for b in inner)}
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def item_key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item[PARTITION_KEY]["S"]), str(item[SORT_KEY]["S"])


def item_digest(item: dict[str, Any]) -> str:
    text = json.dumps(_canonical(item), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """Every item of a table, by key, with its digest."""

    items: dict[tuple[str, str], dict[str, Any]]
    digests: dict[tuple[str, str], str]

    @classmethod
    def of(cls, items: Sequence[dict[str, Any]]) -> Snapshot:
        by_key = {item_key(i): i for i in items}
        return cls(by_key, {k: item_digest(i) for k, i in by_key.items()})

    @property
    def checksum(self) -> str:
        """sha256 over the sorted ``PK|SK|item digest`` lines: order-free, deterministic."""
        lines = "\n".join(f"{pk}|{sk}|{d}" for (pk, sk), d in sorted(self.digests.items()))
        return hashlib.sha256(lines.encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        found = Counter(
            str(i.get(ENTITY_TYPE_ATTRIBUTE, {}).get("S", "?")) for i in self.items.values()
        )
        return dict(sorted(found.items()))

    def differences(self, other: Snapshot, limit: int = 3) -> str:
        missing = sorted(set(self.digests) - set(other.digests))
        extra = sorted(set(other.digests) - set(self.digests))
        changed = sorted(
            k for k in set(self.digests) & set(other.digests) if self.digests[k] != other.digests[k]
        )
        parts = []
        for label, keys in (("missing", missing), ("unexpected", extra), ("changed", changed)):
            if keys:
                shown = ", ".join(f"{pk} / {sk}" for pk, sk in keys[:limit])
                more = f" (+{len(keys) - limit} more)" if len(keys) > limit else ""
                parts.append(f"{len(keys)} {label}: {shown}{more}")
        return "; ".join(parts)


def scan(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return items


# --- the guard: only the scratch table is ever changed -------------------------------------------


class Guard:
    """Refuses, in process, any mutating DynamoDB call that does not name the scratch table."""

    def __init__(self, scratch: str) -> None:
        self.scratch = scratch
        self.own_backups: set[str] = set()

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        op = str(model.name)
        if op.startswith(READ_PREFIXES):
            return
        if op in ("RestoreTableToPointInTime", "RestoreTableFromBackup"):
            named = params.get("TargetTableName")
        elif op == "CreateBackup":
            return  # an on-demand backup reads the table; it never changes it
        elif op == "DeleteBackup":
            if params.get("BackupArn") in self.own_backups:
                return
            named = None
        elif op in ("TagResource", "UntagResource"):
            arn = str(params.get("ResourceArn", ""))
            named = arn.rsplit("table/", 1)[-1] if "table/" in arn else None
        else:
            named = params.get("TableName")
        if named != self.scratch:
            raise DrillError(f"refused {op} on {named!r}: the drill changes only {self.scratch}")


# --- access patterns: parameters from the source's own data --------------------------------------


def pattern_parameters(
    items: Sequence[dict[str, Any]], codec: ItemCodec
) -> dict[str, dict[str, str] | str]:
    """Parameters for every catalog pattern, taken from the source's first clinic (identifiers
    from a patient's decrypted PHI); a pattern the data cannot serve maps to the reason."""
    plain = [from_attribute_values(i) for i in items]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for item in sorted(plain, key=lambda i: (str(i.get(PARTITION_KEY)), str(i.get(SORT_KEY)))):
        by_type.setdefault(str(item.get(ENTITY_TYPE_ATTRIBUTE)), []).append(item)
    clinics = by_type.get(EntityType.CLINIC, [])
    if not clinics:
        return {p.name: "the source holds no clinic" for p in CATALOG}
    clinic = str(clinics[0]["clinicId"])

    def of(kind: str) -> list[dict[str, Any]]:
        return [i for i in by_type.get(kind, []) if i.get("clinicId") == clinic]

    noted = {i.get("patientId") for i in of(EntityType.NOTE)}
    patients = of(EntityType.PATIENT)
    patient = next(
        (p for p in patients if p.get("patientId") in noted), patients[0] if patients else None
    )
    visits = [
        a
        for a in of(EntityType.APPOINTMENT)
        if patient and a.get("patientId") == patient.get("patientId")
    ]
    users = of(EntityType.USER)
    invoices = of(EntityType.INVOICE)
    values: dict[str, str] = {"clinicId": clinic, "entityType": str(EntityType.PATIENT)}
    if patient is not None:
        values["patientId"] = str(patient["patientId"])
        phi = codec.decrypt_phi(patient)
        values.update(email=str(phi.get("email", "")), phone=str(phi.get("phone", "")))
        external = dict(phi.get("externalIds") or {})
        if external:
            system = sorted(external)[0]
            values.update(system=system, externalId=str(external[system]))
    if visits:
        visit = visits[0]
        values.update(
            providerId=str(visit["providerId"]),
            **{"from": str(visit["startTime"]), "to": str(visit["endTime"])},
            status=str(visit["status"]),
        )
    if users:
        values["role"] = str(users[0]["role"])
    result: dict[str, dict[str, str] | str] = {}
    for pattern in CATALOG:
        params = {n: values[n] for n in pattern.parameters if n in values}
        if EntityType.USER in pattern.returns and "email" in pattern.parameters and users:
            params["email"] = str(users[0]["email"])
        if pattern.returns == (EntityType.INVOICE,):
            if not invoices:
                result[pattern.name] = "the source has no invoices in the clinic"
                continue
            if "status" in pattern.parameters:
                params["status"] = str(invoices[0]["status"])
            else:
                params["patientId"] = str(invoices[0]["patientId"])
        missing = [n for n in pattern.parameters if not params.get(n)]
        result[pattern.name] = params if not missing else f"no source data for {', '.join(missing)}"
    return result


# --- the drill -----------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Drill:
    cfg: StackConfig
    clients: Clients
    target: Target
    source: Source = "pitr"
    at: datetime | None = None
    wait_seconds: float | None = None
    """How long to wait for the copy to become ACTIVE (default: the RTO target)."""
    poll_seconds: float = 2.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    after_restore: Callable[[str], None] | None = None
    """Test hook: runs once the copy is ACTIVE, before any check (e.g. to damage it)."""

    def __post_init__(self) -> None:
        started = self.clock()
        self.started = started
        self.stamp = started.strftime("%Y%m%dt%H%M%Sz")
        self.scratch = self.cfg.names.drill_table(self.stamp)
        self.guard = Guard(self.scratch)
        self.cleanup_outcome: dict[str, Any] = {}
        self.cleaning = False
        self.dynamodb = self.clients("dynamodb")
        self.dynamodb.meta.events.register(
            "before-parameter-build.dynamodb.*", self.guard, unique_id="medeez-drill-guard"
        )

    @property
    def table(self) -> str:
        return self.cfg.names.table

    def run(self) -> DrillRecord:
        record = DrillRecord(
            drill_id=f"{self.cfg.environment}-{self.stamp}",
            stack=self.cfg.environment,
            target=self.target.describe(),
            operator=self._operator(),
            started_at=_iso(self.started),
            source={"table": self.table, "from": self.source},
        )
        try:
            self._run(record)
        finally:
            # A second Ctrl-C must not stop the deletion of a copy of the PHI (see main).
            self.cleaning = True
            record.cleanup = self.cleanup_outcome = self._cleanup()
            record.finished_at = _iso(self.clock())
        return record

    def _run(self, record: DrillRecord) -> None:
        before = Snapshot.of(scan(self.dynamodb, self.table))
        described = self.dynamodb.describe_table(TableName=self.table)["Table"]
        record.source["arn"] = described.get("TableArn")
        source_indexes = sorted(i["IndexName"] for i in described.get("GlobalSecondaryIndexes", []))
        read_at = self.clock()
        asked = time.monotonic()
        point, lost, point_detail = self._restore(read_at)
        record.restore = {"scratchTable": self.scratch, "point": _iso(point), **point_detail}
        copy = self._wait_active(asked)
        recovered_in = time.monotonic() - asked
        if self.after_restore is not None:
            self.after_restore(self.scratch)
        self._tag()
        record.add(
            "restore.completed",
            copy.get("TableStatus") == "ACTIVE",
            f"{self.scratch} is {copy.get('TableStatus')}",
        )
        statuses = {
            i["IndexName"]: i.get("IndexStatus") for i in copy.get("GlobalSecondaryIndexes", [])
        }
        missing = [i for i in source_indexes if i not in statuses]
        inactive = [f"{n} is {s}" for n, s in sorted(statuses.items()) if s != "ACTIVE"]
        record.add(
            "restore.gsis-active",
            not missing and not inactive,
            "; ".join([*(f"{n} missing" for n in missing), *inactive])
            or f"{len(statuses)} GSIs ACTIVE: {', '.join(sorted(statuses))}",
        )
        restored = Snapshot.of(scan(self.dynamodb, self.scratch))
        after = Snapshot.of(scan(self.dynamodb, self.table))
        record.counts = {"source": before.counts(), "restored": restored.counts()}
        record.checksums = {"source": before.checksum, "restored": restored.checksum}
        if after.checksum != before.checksum:
            record.add(
                "source.unchanged",
                False,
                "the source changed during the drill ("
                + before.differences(after)
                + "); run the drill when nothing writes, or compare against a known point",
            )
        record.add(
            "items.counts",
            record.counts["source"] == record.counts["restored"],
            ", ".join(f"{k} {v}" for k, v in record.counts["restored"].items())
            if record.counts["source"] == record.counts["restored"]
            else f"source {record.counts['source']}, restored {record.counts['restored']}",
        )
        same = before.checksum == restored.checksum
        record.add(
            "items.checksum",
            same,
            f"sha256 {restored.checksum[:16]}… over {len(restored.digests)} items"
            if same
            else before.differences(restored),
        )
        codec = self._codec()
        record.add(*self._phi_check(restored, codec))
        record.add(*self._access_patterns(before, codec))
        self._targets(record, point, lost, recovered_in)

    # -- restore -----------------------------------------------------------------------------

    def _restore(self, source_read_at: datetime) -> tuple[datetime, float, dict[str, Any]]:
        """Start the restore; returns the restore point, the seconds of data a restore asked for
        now would lose (the recovery point achieved), and how it was done."""
        sse = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": self.cfg.names.key_alias("table"),
        }
        if self.source == "backup":
            if self.target.is_local:
                return self._restore_local_backup(sse)
            return self._restore_aws_backup()
        pitr = self._pitr()
        request: dict[str, Any] = {
            "SourceTableName": self.table,
            "TargetTableName": self.scratch,
            "BillingModeOverride": "PAY_PER_REQUEST",
            "SSESpecificationOverride": sse,
        }
        detail: dict[str, Any] = {"method": "RestoreTableToPointInTime"}
        if self.target.is_local:
            # moto restores the table as it is at the request, whatever time is asked, and
            # reports a LatestRestorableDateTime frozen when PITR was enabled: the point is the
            # request itself, and no data is lost by construction.
            requested = self.clock()
            request["UseLatestRestorableTime"] = True
            if self.at is not None:
                detail["requestedPoint"] = _iso(self.at)
            detail["note"] = "the emulator restores the current state"
            self.dynamodb.restore_table_to_point_in_time(**request)
            return requested, 0.0, detail
        # AWS: restore exactly the moment the source was read (proved unchanged by the second
        # read), once PITR has caught up with it (it lags real time by about five minutes).
        point = self.at or source_read_at
        deadline = time.monotonic() + self._wait_limit()
        while self.at is None and pitr["LatestRestorableDateTime"] < point:
            if time.monotonic() > deadline:
                raise DrillError(f"PITR of {self.table} did not reach {_iso(point)} in time")
            time.sleep(self.poll_seconds * 5)
            pitr = self._pitr()
        earliest, latest = pitr["EarliestRestorableDateTime"], pitr["LatestRestorableDateTime"]
        if not earliest <= point <= latest:
            raise DrillError(
                f"{_iso(point)} is outside the restorable window {_iso(earliest)} .. {_iso(latest)}"
            )
        requested = self.clock()
        request["RestoreDateTime"] = point
        self.dynamodb.restore_table_to_point_in_time(**request)
        detail["latestRestorable"] = _iso(latest)
        return point, max(0.0, (requested - latest).total_seconds()), detail

    def _pitr(self) -> dict[str, Any]:
        backups = self.dynamodb.describe_continuous_backups(TableName=self.table)
        pitr: dict[str, Any] = backups["ContinuousBackupsDescription"].get(
            "PointInTimeRecoveryDescription", {}
        )
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            raise DrillError(f"point-in-time recovery is not enabled on {self.table}")
        return pitr

    def _restore_local_backup(self, sse: dict[str, Any]) -> tuple[datetime, float, dict[str, Any]]:
        """Locally there is no AWS Backup job: the newest on-demand DynamoDB backup, or one the
        drill takes (and deletes afterwards)."""
        summaries = self.dynamodb.list_backups(TableName=self.table).get("BackupSummaries", [])
        taken = False
        if not summaries:
            details = self.dynamodb.create_backup(
                TableName=self.table, BackupName=f"{self.scratch}-point"
            )["BackupDetails"]
            self.guard.own_backups.add(details["BackupArn"])
            summaries = [{**details, "BackupCreationDateTime": details["BackupCreationDateTime"]}]
            taken = True
        newest = max(summaries, key=lambda s: s["BackupCreationDateTime"])
        requested = self.clock()
        self.dynamodb.restore_table_from_backup(
            TargetTableName=self.scratch,
            BackupArn=newest["BackupArn"],
            BillingModeOverride="PAY_PER_REQUEST",
            SSESpecificationOverride=sse,
        )
        point: datetime = newest["BackupCreationDateTime"]
        return (
            point,
            max(0.0, (requested - point).total_seconds()),
            {
                "method": "RestoreTableFromBackup",
                "backupArn": newest["BackupArn"],
                "backupTakenByDrill": taken,
            },
        )

    def _restore_aws_backup(self) -> tuple[datetime, float, dict[str, Any]]:
        """The newest completed AWS Backup recovery point of the table, restored by a restore
        job with the stack's backup role."""
        backup = self.clients("backup")
        table_arn = self.dynamodb.describe_table(TableName=self.table)["Table"]["TableArn"]
        points = [
            p
            for page in backup.get_paginator("list_recovery_points_by_resource").paginate(
                ResourceArn=table_arn
            )
            for p in page.get("RecoveryPoints", [])
            if p.get("Status") == "COMPLETED"
        ]
        if not points:
            raise DrillError(f"no completed AWS Backup recovery point of {self.table}")
        newest = max(points, key=lambda p: p["CreationDate"])
        role = self.clients("iam").get_role(RoleName=self.cfg.names.backup_role)["Role"]["Arn"]
        requested = self.clock()
        point: datetime = newest["CreationDate"]
        job = backup.start_restore_job(
            RecoveryPointArn=newest["RecoveryPointArn"],
            IamRoleArn=role,
            ResourceType="DynamoDB",
            Metadata={"targetTableName": self.scratch},
        )["RestoreJobId"]
        deadline = time.monotonic() + self._wait_limit()
        while True:
            status = backup.describe_restore_job(RestoreJobId=job)
            if status["Status"] == "COMPLETED":
                break
            if status["Status"] in ("ABORTED", "FAILED") or time.monotonic() > deadline:
                raise DrillError(
                    f"restore job {job} is {status['Status']}: {status.get('StatusMessage', '')}"
                )
            time.sleep(self.poll_seconds * 10)
        return (
            point,
            max(0.0, (requested - point).total_seconds()),
            {
                "method": "StartRestoreJob",
                "recoveryPointArn": newest["RecoveryPointArn"],
                "restoreJobId": job,
            },
        )

    def _wait_limit(self) -> float:
        return (
            self.wait_seconds
            if self.wait_seconds is not None
            else self.cfg.recovery.targets.rto_minutes * 60
        )

    def _wait_active(self, asked: float) -> dict[str, Any]:
        deadline = asked + self._wait_limit()
        while True:
            try:
                table: dict[str, Any] = self.dynamodb.describe_table(TableName=self.scratch)[
                    "Table"
                ]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                table = {"TableStatus": "NOT_FOUND"}
            ready = table.get("TableStatus") == "ACTIVE" and all(
                i.get("IndexStatus") == "ACTIVE" for i in table.get("GlobalSecondaryIndexes", [])
            )
            if ready or time.monotonic() >= deadline:
                return table
            time.sleep(self.poll_seconds)

    def _tag(self) -> None:
        arn = self.dynamodb.describe_table(TableName=self.scratch)["Table"]["TableArn"]
        tags = {**self.cfg.tags.as_dict(), "Purpose": PURPOSE_TAG, "DrillOf": self.table}
        self.dynamodb.tag_resource(
            ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())]
        )

    # -- checks ------------------------------------------------------------------------------

    def _codec(self) -> ItemCodec:
        kms = self.clients("kms")
        alias = self.cfg.names.key_alias("phi")
        return ItemCodec(
            # Each clinic's PHI is under its own key (datalayer.clinic_keys).
            cipher=ClinicKeyring(kms, self.cfg.names.clinic_key_alias),
            # Beacon keys are read from the restored copy's CLINIC items.
            beacons=BeaconKeyring(
                kms, alias, clinic_beacon_key_source(self.dynamodb, self.scratch)
            ),
            ttl_attribute=self.cfg.table.ttl_attribute,
            written_by="script:drill",  # the drill only decrypts; it writes no item
        )

    def _phi_check(self, restored: Snapshot, codec: ItemCodec) -> tuple[str, bool, str]:
        with_phi = [k for k, i in sorted(restored.items.items()) if PHI_ATTRIBUTE in i]
        if not with_phi:
            return "phi.decrypts", False, "no restored item carries PHI: nothing proves the keys"
        step = max(1, len(with_phi) // PHI_SAMPLE)
        sample = with_phi[::step][:PHI_SAMPLE]
        failures = []
        for key in sample:
            try:
                codec.decrypt_phi(from_attribute_values(restored.items[key]))
            except PhiError as exc:
                failures.append(str(exc))
        if failures:
            return "phi.decrypts", False, f"{len(failures)} of {len(sample)} failed: {failures[0]}"
        return (
            "phi.decrypts",
            True,
            f"{len(sample)} of {len(with_phi)} PHI items decrypt with their clinics' keys "
            f"({self.cfg.names.clinic_key_alias('<clinicId>')})",
        )

    def _access_patterns(self, before: Snapshot, codec: ItemCodec) -> tuple[str, bool, str]:
        try:
            parameters = pattern_parameters(list(before.items.values()), codec)
        except PhiError as exc:
            return "access-patterns", False, f"cannot derive parameters: {exc}"
        differing, skipped, compared = [], [], 0
        for pattern in CATALOG:
            params = parameters[pattern.name]
            if isinstance(params, str):
                skipped.append(f"{pattern.name} ({params})")
                continue
            results = [
                self._query(pattern, table, params, codec) for table in (self.table, self.scratch)
            ]
            compared += 1
            if results[0] != results[1]:
                differing.append(
                    f"{pattern.name} ({len(results[0])} on source, {len(results[1])} restored)"
                )
        detail = (
            f"{compared} patterns return the same items"
            if not differing
            else "differ: " + ", ".join(differing)
        )
        if skipped:
            detail += "; not run: " + ", ".join(skipped)
        return "access-patterns", not differing and compared > 0, detail

    def _query(
        self, pattern: AccessPattern, table: str, params: dict[str, str], codec: ItemCodec
    ) -> list[str]:
        request = query_request(pattern, table, params, beacons=codec.beacons)
        return sorted(item_digest(i) for i in run_query(self.dynamodb, request))

    def _targets(
        self, record: DrillRecord, point: datetime, lost: float, recovered_in: float
    ) -> None:
        targets = self.cfg.recovery.targets
        rto = targets.rto_minutes * 60
        record.recovery_time = {
            "seconds": round(recovered_in, 2),
            "targetMinutes": targets.rto_minutes,
            "met": recovered_in <= rto,
        }
        record.add(
            "target.rto",
            recovered_in <= rto,
            f"{recovered_in:.1f} s to a usable copy (target {targets.rto_minutes} min)",
        )
        limit = (
            timedelta(minutes=targets.rpo_minutes)
            if self.source == "pitr"
            else timedelta(hours=targets.backup_rpo_hours)
        )
        record.recovery_point = {
            "point": _iso(point),
            "secondsLost": round(lost, 1),
            "targetSeconds": int(limit.total_seconds()),
            "met": lost <= limit.total_seconds(),
        }
        record.add(
            "target.rpo",
            lost <= limit.total_seconds(),
            f"restore point {_iso(point)}, {lost:.0f} s of writes not recoverable at the request "
            f"(target {int(limit.total_seconds())} s)",
        )

    # -- cleanup -----------------------------------------------------------------------------

    def _cleanup(self) -> dict[str, Any]:
        """Delete the scratch table (waiting out CREATING, which cannot be deleted) and any
        backup the drill took. Never raises: the record says what happened."""
        outcome: dict[str, Any] = {"scratchTable": self.scratch}
        deadline = time.monotonic() + self._wait_limit()
        while True:
            try:
                self.dynamodb.delete_table(TableName=self.scratch)
                outcome["deleted"] = True
                break
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code == "ResourceNotFoundException":
                    outcome["deleted"] = True
                    outcome["detail"] = "no copy was created"
                    break
                if code == "ResourceInUseException" and time.monotonic() < deadline:
                    time.sleep(self.poll_seconds)
                    continue
                outcome.update(deleted=False, detail=f"{code}: {exc}")
                break
            except (BotoCoreError, DrillError) as exc:
                outcome.update(deleted=False, detail=str(exc))
                break
        for arn in sorted(self.guard.own_backups):
            try:
                self.dynamodb.delete_backup(BackupArn=arn)
            except ClientError as exc:
                outcome.setdefault("backupsLeft", []).append(f"{arn}: {exc}")
        return outcome

    def _operator(self) -> dict[str, str]:
        who = {"user": getpass.getuser()}
        if os.environ.get("GITHUB_ACTOR"):
            who["githubActor"] = os.environ["GITHUB_ACTOR"]
            repository = os.environ.get("GITHUB_REPOSITORY", "")
            who["githubRun"] = f"{repository}/actions/runs/{os.environ.get('GITHUB_RUN_ID', '')}"
        try:
            who["awsPrincipal"] = str(self.clients("sts").get_caller_identity()["Arn"])
        except (ClientError, BotoCoreError):
            who["awsPrincipal"] = "unknown"
        return who


# --- command line --------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make drill", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--from", dest="source", choices=("pitr", "backup"), default="pitr")
    parser.add_argument("--at", help="PITR restore time, ISO 8601 with a zone (default: latest)")
    add_target_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--out", help="also write the JSON record to this file")
    return parser


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(message)


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"AT '{text}' is not an ISO 8601 time, e.g. 2026-12-01T17:30:00Z"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"AT '{text}' has no time zone; add Z for UTC")
    return moment


def resolve(endpoint_url: str | None, kind: str | None) -> Target:
    """Where the drill runs: as setup and validate decide (``scripts.aws_target``), but only on
    the local emulator or, said explicitly, AWS itself: never another endpoint by accident."""
    target = resolve_target(endpoint_url, target=kind)
    if kind != "aws" and not target.is_local:
        raise UsageError(
            f"the drill runs on the local emulator or, explicitly, AWS (TARGET=aws), not "
            f"{target.describe()}"
        )
    return target


def render(record: DrillRecord) -> str:
    lines = [f"{c.status}  {c.check:<22} {c.detail}" for c in record.checks]
    cleanup = record.cleanup
    lines.append(
        f"cleanup: {cleanup.get('scratchTable')} "
        + ("deleted" if cleanup.get("deleted") else f"NOT deleted ({cleanup.get('detail')})")
    )
    rt, rp = record.recovery_time, record.recovery_point
    if rt:
        lines.append(
            f"recovery time {rt['seconds']} s (target {rt['targetMinutes']} min): "
            + ("met" if rt["met"] else "MISSED")
        )
    if rp:
        lines.append(
            f"recovery point {rp['point']}, {rp['secondsLost']} s lost "
            f"(target {rp['targetSeconds']} s): " + ("met" if rp["met"] else "MISSED")
        )
    passed = sum(c.status == "PASS" for c in record.checks)
    lines.append(
        f"drill {record.drill_id} of {record.source['table']} on {record.target}: "
        f"{passed} PASS, {len(record.checks) - passed} FAIL"
    )
    return "\n".join(lines)


def _cleanup_line(drill: Drill | None) -> str:
    outcome = drill.cleanup_outcome if drill else {}
    if not outcome:
        return "no scratch table was created"
    if outcome.get("deleted"):
        return f"the scratch table {outcome['scratchTable']} was deleted"
    return f"the scratch table {outcome['scratchTable']} was NOT deleted: {outcome.get('detail')}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    parser.__class__ = _Parser
    try:
        args = parser.parse_args(argv)
        at = parse_at(args.at)
        if at is not None and args.source != "pitr":
            raise UsageError("AT applies to FROM=pitr only")
        cfg = load_stack_config(args.stack)
        target = resolve(args.endpoint_url, args.target)
    except (UsageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    pending: list[int] = []
    drill: Drill | None = None

    def interrupt(signum: int, _frame: Any) -> None:
        if drill is not None and drill.cleaning:
            pending.append(signum)  # honoured once the scratch table is gone
            return
        raise Interrupted(signum)

    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        clients = Clients.for_target(target, cfg.region)
        announce_target(clients, target, "drill", sys.stderr)
        drill = Drill(cfg, clients, target, args.source, at)
        record = drill.run()
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        print(f"drill interrupted by {name}; {_cleanup_line(drill)}", file=sys.stderr)
        return 128 + exc.signum
    except (DrillError, PhiError) as exc:
        print(f"error: drill failed: {exc}; {_cleanup_line(drill)}", file=sys.stderr)
        return 1
    except (ClientError, BotoCoreError) as exc:
        print(f"error: {describe_call_failure(target, exc)}", file=sys.stderr)
        return 1
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if pending:
        name = signal.Signals(pending[0]).name
        print(f"drill interrupted by {name}; {_cleanup_line(drill)}", file=sys.stderr)
        return 128 + pending[0]
    document = json.dumps(record.as_json(), indent=2, default=str)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as out:
            out.write(document + "\n")
    print(document if args.format == "json" else render(record))
    return 0 if record.passed and record.cleanup.get("deleted") else 1


if __name__ == "__main__":
    sys.exit(main())
