"""PHI field encryption: one AWS Encryption SDK message per item, under the stack's PHI key.

Granularity. All PHI attributes of an item are serialized together (canonical JSON) and encrypted
as one Encryption SDK message stored in the item's ``phi`` attribute. Measured on this project's
reference machine, one message per field costs about five times the CPU and bytes of one message
per item (each message carries a header, an encrypted data key and a tag), and an item is always
read and written whole, so per-field messages would buy nothing.

Suite. ``AES_256_GCM_HKDF_SHA512_COMMIT_KEY``: AES-256-GCM with key commitment (a message decrypts
to exactly one plaintext) and no ECDSA signature. Signing protects against a reader that may decrypt
but must not be able to forge; here the writer and the reader are the same trusted service role,
so the signature would cost ~1.5 ms and ~200 bytes per message for no gain.

Encryption context. Every message's header binds ``clinicId``, ``entityType``, ``PK`` and ``SK``
(:class:`ItemContext`); decryption refuses a message whose context is not exactly the item being
read, before any key is used, so a ciphertext copied into another item, entity type or clinic does
not decrypt. KMS sees only ``{"clinicId": ...}``: the PHI key's policy requires that key, CloudTrail
records it per call, and keeping the item key out of it lets one cached data key serve every item of
a clinic (see :class:`CachePolicy`). The item key is still authenticated, by the message header.

Caching. A bounded local cache of data keys (``CachingCryptoMaterialsManager``), keyed on the KMS
context, so KMS calls grow with clinics x cache windows, not with records.
"""

from __future__ import annotations

import json
import logging
import struct
from collections.abc import Mapping
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

#: Committing AES-256-GCM, unsigned (see the module docstring for why unsigned).
PHI_ALGORITHM = Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY

#: The encryption-context key every KMS call with the PHI key carries (the key policy requires it).
CLINIC_CONTEXT_KEY = "clinicId"

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

    def as_encryption_context(self) -> dict[str, str]:
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


def kms_context(encryption_context: Mapping[str, str]) -> dict[str, str]:
    """The part of a message's encryption context that is sent to KMS: the clinic only."""
    clinic_id = encryption_context.get(CLINIC_CONTEXT_KEY)
    if not clinic_id:
        raise PhiError(f"encryption context has no {CLINIC_CONTEXT_KEY}; the PHI key requires it")
    return {CLINIC_CONTEXT_KEY: clinic_id}


class ItemContextMaterialsManager(CryptoMaterialsManager):  # type: ignore[misc]
    """Asks the backing materials manager (and so KMS and the cache) with the clinic-only context,
    and returns materials that carry the item's whole context into the message header.

    With ``expected`` set (on decrypt), a message whose header context differs from it is refused
    before the backing manager is asked, so no key is fetched or used for a foreign message.
    """

    def __init__(
        self, backing: CryptoMaterialsManager, expected: Mapping[str, str] | None = None
    ) -> None:
        self.backing = backing
        self.expected = dict(expected) if expected is not None else None

    def get_encryption_materials(self, request: EncryptionMaterialsRequest) -> EncryptionMaterials:
        inner = EncryptionMaterialsRequest(
            encryption_context=kms_context(request.encryption_context),
            frame_length=request.frame_length,
            algorithm=request.algorithm,
            commitment_policy=request.commitment_policy,
            plaintext_length=request.plaintext_length,
        )
        materials = self.backing.get_encryption_materials(inner)
        return EncryptionMaterials(
            algorithm=materials.algorithm,
            data_encryption_key=materials.data_encryption_key,
            encrypted_data_keys=materials.encrypted_data_keys,
            encryption_context={**request.encryption_context, **materials.encryption_context},
            signing_key=materials.signing_key,
        )

    def decrypt_materials(self, request: DecryptionMaterialsRequest) -> DecryptionMaterials:
        if self.expected is not None and request.encryption_context != self.expected:
            raise PhiContextMismatch(_mismatch(self.expected, request.encryption_context))
        inner = DecryptionMaterialsRequest(
            algorithm=request.algorithm,
            encrypted_data_keys=request.encrypted_data_keys,
            encryption_context=kms_context(request.encryption_context),
            commitment_policy=request.commitment_policy,
        )
        return self.backing.decrypt_materials(inner)


def _mismatch(expected: Mapping[str, str], found: Mapping[str, str]) -> str:
    # Keys and clinic ids are identifiers, not PHI, so naming them helps without leaking anything.
    differing = sorted(k for k in set(expected) | set(found) if expected.get(k) != found.get(k))
    return "PHI message is bound to another item: encryption context differs in " + ", ".join(
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
        self._encrypting = ItemContextMaterialsManager(backing)
        self._sdk = aws_encryption_sdk.EncryptionSDKClient(
            commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
            # One KMS key wraps each data key; refusing more bounds a hostile message's work.
            max_encrypted_data_keys=1,
        )

    def encrypt(self, fields: Mapping[str, Any], context: ItemContext) -> bytes:
        """One SDK message holding ``fields`` (JSON-serializable values), bound to ``context``."""
        plaintext = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        try:
            ciphertext, _header = self._sdk.encrypt(
                source=plaintext,
                materials_manager=self._encrypting,
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
                materials_manager=ItemContextMaterialsManager(self._backing, expected),
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
        decoded: dict[str, Any] = json.loads(plaintext)
        return decoded
