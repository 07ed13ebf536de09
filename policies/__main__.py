"""The HIPAA guardrails policy pack: the only place the PolicyPack is constructed.

Constructing ``PolicyPack`` starts the analyzer's gRPC server and blocks, so nothing imports this
module: the Pulumi CLI runs it (``pulumi preview --policy-pack policies``) and so does the offline
gate. Everything else reads the rules from ``hipaa_guardrails.registry``.
"""

import sys
from pathlib import Path

# The CLI runs this file from the pack directory, but not every launcher puts that directory on
# sys.path; the rules package sits next to this file.
_PACK_DIR = str(Path(__file__).resolve().parent)
if _PACK_DIR not in sys.path:
    sys.path.insert(0, _PACK_DIR)

from hipaa_guardrails import analyzer  # noqa: E402
from hipaa_guardrails.registry import PACK_NAME, build_policies  # noqa: E402
from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

# The pack's own config checks run in Configure, under the CLI as under the gate.
analyzer.install()

PolicyPack(
    name=PACK_NAME,
    policies=build_policies(),
    # Each rule sets its own level (mandatory for critical and high); this is only the fallback.
    enforcement_level=EnforcementLevel.ADVISORY,
    description=(
        "HIPAA Security Rule guardrails for the Medeez data layer: DynamoDB, KMS, AWS Backup, "
        "CloudWatch, SNS, IAM and budgets, with per-stack config and reported exemptions."
    ),
    display_name="Medeez HIPAA guardrails",
    provider="aws",
    tags=["hipaa", "aws", "phi"],
)
