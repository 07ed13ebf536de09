"""What names a tenant wherever the layers meet: one home below components and datalayer.

The PHI key's policy denies every cryptographic call that does not carry the clinic in its
encryption context, and the data layer binds every PHI ciphertext to it: both use this name.
"""

from __future__ import annotations

#: The encryption-context key every KMS call with the PHI key carries: the clinic's id.
CLINIC_CONTEXT_KEY = "clinicId"
