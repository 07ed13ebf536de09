"""What names a tenant wherever the layers meet: one home below components and datalayer.

The PHI key's policy denies every cryptographic call that does not carry the clinic in its
encryption context, and the data layer binds every PHI ciphertext to it: both use this name.
"""

from __future__ import annotations

import re

#: The encryption-context key every KMS call with the PHI key carries: the clinic's id.
CLINIC_CONTEXT_KEY = "clinicId"

#: The session tag that names a tenant session's clinic (the tenant role's policies read it as
#: ``${aws:PrincipalTag/clinicId}``): the same name as the encryption-context key.
CLINIC_TAG_KEY = CLINIC_CONTEXT_KEY

#: What a clinic id may be: letters, digits and hyphens (UUIDs), 1-64 characters. Narrower than
#: both what a key field (no ``#``) and a session tag value allow, so an id that passes can
#: neither reach past its key segment nor be refused by STS.
CLINIC_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}$")


class ClinicIdError(ValueError):
    """A clinic id that cannot name a tenant."""


def check_clinic_id(value: object) -> str:
    """``value`` if it is a well-formed clinic id; ClinicIdError (one line) otherwise."""
    if not isinstance(value, str) or not CLINIC_ID_PATTERN.match(value):
        shown = repr(value)[:80]
        raise ClinicIdError(
            f"malformed clinic id {shown}: use 1-64 letters, digits or hyphens (a UUID)"
        )
    return value
