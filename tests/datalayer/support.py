"""moto helpers for the data-layer tests: a table built from the stack config, the PHI key
and its alias, and a small dataset (moto reads the whole table per Query: keep it small)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from datalayer.beacons import BeaconKeyring
from datalayer.clinic_keys import ensure_clinic_key
from datalayer.entities import ItemCodec
from datalayer.phi import ClinicKeyring, PhiCipher
from datalayer.store import clinic_beacon_key_source
from datalayer.synthetic import Dataset, DatasetShape
from scripts.aws_target import Clients, Target
from scripts.services.table import create_table_request
from stackspec.config.stack import StackConfig, load_stack_config
from stackspec.definitions.table import table_definition

AS_OF = date(2026, 11, 24)
SMALL = DatasetShape(clinics=2, patients_per_clinic=4, doctors_per_clinic=2, staff_per_clinic=1)


@dataclass
class CallLog:
    """Every AWS operation a client made, with its parameters."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, params))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def count(self) -> Counter[str]:
        return Counter(self.names())

    def clear(self) -> None:
        self.calls.clear()


def watch(client: Any) -> CallLog:
    log = CallLog()
    client.meta.events.register(
        f"provide-client-params.{client.meta.service_model.endpoint_prefix}", log
    )
    return log


class OnboardingKeyring(ClinicKeyring):
    """The data layer's keyring, onboarding (creating the key of) a clinic it meets first."""

    def __init__(self, kms: Any, cfg: StackConfig) -> None:
        super().__init__(kms, cfg.names.clinic_key_alias)
        self._onboard = lambda clinic_id: ensure_clinic_key(kms, cfg, clinic_id)

    def cipher(self, clinic_id: str) -> PhiCipher:
        self._onboard(clinic_id)
        return super().cipher(clinic_id)


@dataclass
class LocalEnv:
    cfg: StackConfig
    clients: Clients
    phi_key_arn: str

    @property
    def kms(self) -> Any:
        return self.clients("kms")

    @property
    def dynamodb(self) -> Any:
        return self.clients("dynamodb")

    def codec(self) -> ItemCodec:
        """A fresh codec (cold caches), as a new process would have; PHI under each clinic's
        own key, created on first use (onboarding, as ``make seed`` does)."""
        alias = self.cfg.names.key_alias("phi")
        return ItemCodec(
            cipher=OnboardingKeyring(self.kms, self.cfg),
            beacons=BeaconKeyring(
                self.kms, alias, clinic_beacon_key_source(self.dynamodb, self.cfg.names.table)
            ),
            ttl_attribute=self.cfg.table.ttl_attribute,
            written_by="test:datalayer",
        )


def set_aws_env(mp: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        mp.delenv(name, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # In-process DynamoDB Streams calls otherwise go to an account-id host moto does not serve.
    mp.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def build_env(stack: str, *, table: bool = True, phi_alias: bool = True) -> LocalEnv:
    """The PHI key (and alias) and the stack's table on moto; call inside mock_aws."""
    cfg = load_stack_config(stack)
    clients = Clients.for_target(Target(None), cfg.region)
    kms = clients("kms")
    phi_key = kms.create_key(Description="phi")["KeyMetadata"]
    if phi_alias:
        kms.create_alias(AliasName=cfg.names.key_alias("phi"), TargetKeyId=phi_key["KeyId"])
    if table:
        table_key = kms.create_key(Description="table")["KeyMetadata"]
        kms.create_alias(AliasName=cfg.names.key_alias("table"), TargetKeyId=table_key["KeyId"])
        request = create_table_request(table_definition(cfg), table_key["Arn"])
        clients("dynamodb").create_table(**request)
    return LocalEnv(cfg=cfg, clients=clients, phi_key_arn=phi_key["Arn"])


@dataclass
class Seeded:
    env: LocalEnv
    dataset: Dataset
    summary: dict[str, Any]
