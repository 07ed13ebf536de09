"""PHI field encryption: one AWS Encryption SDK message per item, under the clinic's own PHI key.

Keys. Each clinic's PHI is encrypted under that clinic's KMS key (:class:`ClinicKeyring`, alias
``alias/medeez-<env>-phi-clinic-<clinicId>``), created when the clinic is onboarded and deleted
when it is offboarded (crypto-shredding: every copy, PITR and backups included, becomes
unreadable). :class:`PhiCipher` is the cipher on one key; the keyring holds one per clinic.

Granularity. All PHI attributes of an item are serialized together (canonical JSON) and encrypted
as one Encryption SDK message stored in the item's ``phi`` attribute. Measured on this project's
reference machine, one message per field costs about five times the CPU and bytes of one message
per item (each message carries a header, an encrypted data key and a tag), and an item is always
read and written whole, so per-field messages would buy nothing.

Suite. ``AES_256_GCM_HKDF_SHA512_COMMIT_KEY``: AES-256-GCM with key commitment (a message decrypts
to exactly one plaintext) and no ECDSA signature. Signing protects against a reader that may decrypt
but must not be able to forge; here the writer and the reader are the same trusted service role,
so the signature would cost ~1.5 ms and ~200 bytes per message for no gain.

Binding. Every message is bound to ``clinicId``, ``entityType``, ``PK`` and ``SK``
(:class:`ItemContext`), checked on decrypt, so a ciphertext copied into another item, entity type
or clinic does not decrypt:

- the message's encryption context is ``{"clinicId": ...}``. It is what KMS sees (the PHI key's
  policy requires it; CloudTrail records it), and decryption refuses a message of another clinic
  before any key is fetched or used;
- the item binding (all four values) is the first member of the authenticated plaintext, and
  decryption refuses a message whose binding is not exactly the item being read.

Why the item key is not in the encryption context: the SDK sends the whole context to KMS and
keys its data-key cache on it, so a per-item context means one KMS call per record. Keeping a
per-item context but sending KMS only the clinic (a custom materials manager) was built and
measured first; it makes messages that a stock Encryption SDK reader cannot decrypt (the reader
sends the header's whole context to KMS), which defeats the point of the SDK's message format.
This layout keeps both: any Encryption SDK with the PHI key decrypts the messages, and KMS calls
grow with clinics, not records.

Caching. A bounded local cache of data keys (``CachingCryptoMaterialsManager``), keyed on the
clinic, so KMS calls grow with clinics x cache windows, not with records.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aws_encryption_sdk
from aws_encryption_sdk.caches.local import LocalCryptoMaterialsCache
from aws_encryption_sdk.exceptions import AWSEncryptionSDKClientError
from aws_encryption_sdk.identifiers import Algorithm, CommitmentPolicy
from aws_encryption_sdk.key_providers.kms import KMSMasterKey, KMSMasterKeyConfig
from aws_encryption_sdk.materials_managers import (
    DecryptionMaterials,
    DecryptionMaterialsRequest,
    EncryptionMaterials,
    EncryptionMaterialsRequest,
)
from aws_encryption_sdk.materials_managers.base import CryptoMaterialsManager
from aws_encryption_sdk.materials_managers.caching import CachingCryptoMaterialsManager
from aws_encryption_sdk.materials_managers.default import DefaultCryptoMaterialsManager
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag

from stackspec.tenancy import CLINIC_CONTEXT_KEY

#: Committing AES-256-GCM, unsigned (see the module docstring for why unsigned).
PHI_ALGORITHM = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY

#: Members of the plaintext: ``{"item": <binding>, "phi": <fields>}`` (canonical JSON).
BINDING_MEMBER = "item"
FIELDS_MEMBER = "phi"

#: The item attribute that holds the encrypted PHI of an item.
PHI_ATTRIBUTE = "phi"


class _DropCloseErrors(logging.Filter):
    """The SDK logs a traceback ("Error on closing") when a refused message's stream is closed;
    the refusal is already raised to the caller as a :class:`PhiError`, so the log is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Error on closing"


logging.getLogger("aws_encryption_sdk.streaming_client").addFilter(_DropCloseErrors())


class PhiError(Exception):
    """PHI could not be encrypted or decrypted; the message never contains PHI."""


class PhiContextMismatch(PhiError):
    """A PHI message belongs to another clinic, entity type or item than the one being read."""


@dataclass(frozen=True, kw_only=True)
class ItemContext:
    """What a PHI message is bound to: the clinic, the entity type and the item's primary key."""

    clinic_id: str
    entity_type: str
    pk: str
    sk: str

    def __post_init__(self) -> None:
        empty = [name for name, value in vars(self).items() if not value]
        if empty:
            raise PhiError(f"item context needs every value; empty: {', '.join(empty)}")

    def as_encryption_context(self) -> dict[str, str]:
        """The message's encryption context (and KMS's): the clinic."""
        return {CLINIC_CONTEXT_KEY: self.clinic_id}

    def binding(self) -> dict[str, str]:
        """What the authenticated plaintext binds the message to."""
        return {
            CLINIC_CONTEXT_KEY: self.clinic_id,
            "entityType": self.entity_type,
            "PK": self.pk,
            "SK": self.sk,
        }


@dataclass(frozen=True, kw_only=True)
class CachePolicy:
    """Bounds of the data-key cache.

    One data key per clinic serves at most ``max_messages`` messages and lives at most
    ``max_age_seconds``; ``capacity`` bounds the number of cached keys (clinics) per process.
    """

    max_age_seconds: float = 300.0
    max_messages: int = 10_000
    capacity: int = 1_000

    def __post_init__(self) -> None:
        if self.max_age_seconds <= 0:
            raise ValueError("max_age_seconds must be > 0")
        if not 1 <= self.max_messages <= 2**32:
            raise ValueError("max_messages must lie in 1..2**32 (the AES-GCM random-nonce bound)")
        if self.capacity < 1:
            raise ValueError("capacity must be >= 1")


class ClinicGuardMaterialsManager(CryptoMaterialsManager):  # type: ignore[misc]
    """Refuses to fetch decryption materials for a message of any clinic but ``clinic_id``, so no
    KMS call is made and no cached key is used for another tenant's message."""

    def __init__(self, backing: CryptoMaterialsManager, clinic_id: str) -> None:
        self.backing = backing
        self.expected = {CLINIC_CONTEXT_KEY: clinic_id}

    def get_encryption_materials(self, request: EncryptionMaterialsRequest) -> EncryptionMaterials:
        raise PhiError("ClinicGuardMaterialsManager is for decryption only")  # pragma: no cover

    def decrypt_materials(self, request: DecryptionMaterialsRequest) -> DecryptionMaterials:
        if request.encryption_context != self.expected:
            raise PhiContextMismatch(_mismatch(self.expected, request.encryption_context))
        return self.backing.decrypt_materials(request)


def _mismatch(expected: Mapping[str, str], found: Mapping[str, str]) -> str:
    # Keys and clinic ids are identifiers, not PHI, so naming them helps without leaking anything.
    differing = sorted(k for k in set(expected) | set(found) if expected.get(k) != found.get(k))
    return "PHI message is bound to another item: " + ", ".join(
        f"{k} (expected {expected.get(k)!r}, found {found.get(k)!r})" for k in differing
    )


class PhiCipher:
    """Encrypts and decrypts the PHI of items with the Encryption SDK under one KMS key.

    ``kms_client`` is a boto3 KMS client (it honours ``AWS_ENDPOINT_URL``); ``key_id`` is the PHI
    key's alias, id or ARN (resolved to the key ARN once, with DescribeKey). ``cache=None`` turns
    the data-key cache off (one KMS call per message: for measurement, not for use).
    """

    def __init__(
        self, kms_client: Any, key_id: str, *, cache: CachePolicy | None = CachePolicy()
    ) -> None:
        try:
            self.key_arn: str = kms_client.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        except ClientError as exc:
            raise PhiError(f"PHI key {key_id} is not usable: {exc}") from None
        master_key = KMSMasterKey(config=KMSMasterKeyConfig(key_id=self.key_arn, client=kms_client))
        backing: CryptoMaterialsManager
        if cache is None:
            backing = DefaultCryptoMaterialsManager(master_key_provider=master_key)
        else:
            backing = CachingCryptoMaterialsManager(
                master_key_provider=master_key,
                cache=LocalCryptoMaterialsCache(capacity=cache.capacity),
                max_age=float(cache.max_age_seconds),
                max_messages_encrypted=cache.max_messages,
            )
        self._backing = backing
        self._sdk = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
            # One KMS key wraps each data key; refusing more bounds a hostile message's work.
            max_encrypted_data_keys=1,
        )

    def encrypt(self, fields: Mapping[str, Any], context: ItemContext) -> bytes:
        """One SDK message holding ``fields`` (JSON-serializable values), bound to ``context``."""
        envelope = {BINDING_MEMBER: context.binding(), FIELDS_MEMBER: dict(fields)}
        plaintext = json.dumps(envelope, sort_keys=True, separators=(",", ":")).encode()
        try:
            ciphertext, _header = self._sdk.encrypt(
                source=plaintext,
                materials_manager=self._backing,
                encryption_context=context.as_encryption_context(),
                algorithm=PHI_ALGORITHM,
                # Non-framed: an item's PHI is small and always read whole; one tag, no frames.
                frame_length=0,
            )
        except (AWSEncryptionSDKClientError, ClientError) as exc:
            raise PhiError(f"cannot encrypt PHI of {context.pk} / {context.sk}: {exc}") from None
        return bytes(ciphertext)

    def decrypt(self, ciphertext: bytes, context: ItemContext) -> dict[str, Any]:
        """The PHI fields of the item ``context`` names. Raises :class:`PhiContextMismatch` for a
        message bound to anything else and :class:`PhiError` for a damaged or forged message."""
        expected = context.as_encryption_context()
        try:
            plaintext, header = self._sdk.decrypt(
                source=ciphertext,
                materials_manager=ClinicGuardMaterialsManager(self._backing, context.clinic_id),
            )
        except PhiContextMismatch:
            raise
        except (
            AWSEncryptionSDKClientError,
            ClientError,
            InvalidTag,
            ValueError,
            struct.error,
        ) as exc:
            raise PhiError(
                f"cannot decrypt PHI of {context.pk} / {context.sk}: "
                f"{type(exc).__name__}: {str(exc) or 'authentication failed'}"
            ) from None
        if header.encryption_context != expected:  # defence in depth: the header is authenticated
            raise PhiContextMismatch(_mismatch(expected, header.encryption_context))
        if header.algorithm != PHI_ALGORITHM:
            raise PhiError(f"PHI of {context.pk} / {context.sk} uses {header.algorithm.name}")
        envelope = json.loads(plaintext)
        if not isinstance(envelope, dict) or not isinstance(envelope.get(FIELDS_MEMBER), dict):
            raise PhiError(f"PHI of {context.pk} / {context.sk} is not a PHI envelope")
        if envelope.get(BINDING_MEMBER) != context.binding():
            raise PhiContextMismatch(_mismatch(context.binding(), envelope.get(BINDING_MEMBER, {})))
        fields: dict[str, Any] = envelope[FIELDS_MEMBER]
        return fields


class ClinicKeyring:
    """PHI under each clinic's own KMS key: one :class:`PhiCipher` per clinic, on the key that
    ``alias_for(clinic_id)`` names (``StackNames.clinic_key_alias``), resolved on first use.

    The messages are the same as :class:`PhiCipher`'s (same suite, the ``clinicId`` context, the
    item binding) and name the clinic's key ARN in their encrypted data key, so a stock Encryption
    SDK reader with that key decrypts them. Deleting (or disabling) a clinic's key makes every copy
    of its PHI unreadable: the table, PITR and every backup (crypto-shredding). A message of clinic
    A presented as clinic B's is refused by B's context guard before any KMS call, and B's key
    cannot unwrap A's data key either.
    """

    def __init__(
        self,
        kms_client: Any,
        alias_for: Callable[[str], str],
        *,
        cache: CachePolicy | None = CachePolicy(),
    ) -> None:
        self._kms = kms_client
        self._alias_for = alias_for
        self._cache = cache
        self._ciphers: dict[str, PhiCipher] = {}

    def cipher(self, clinic_id: str) -> PhiCipher:
        """The clinic's cipher; :class:`PhiError` when the clinic has no usable key."""
        cipher = self._ciphers.get(clinic_id)
        if cipher is None:
            cipher = PhiCipher(self._kms, self._alias_for(clinic_id), cache=self._cache)
            self._ciphers[clinic_id] = cipher
        return cipher

    def forget(self, clinic_id: str) -> None:
        """Drop the clinic's cipher and its cached data keys (e.g. after its key is deleted)."""
        self._ciphers.pop(clinic_id, None)

    def encrypt(self, fields: Mapping[str, Any], context: ItemContext) -> bytes:
        return self.cipher(context.clinic_id).encrypt(fields, context)

    def decrypt(self, ciphertext: bytes, context: ItemContext) -> dict[str, Any]:
        return self.cipher(context.clinic_id).decrypt(ciphertext, context)
