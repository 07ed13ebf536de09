"""The stack's CloudTrail trail: management events and the table's data events (every GetItem,
Query, PutItem... by any principal, operators and break-glass roles included), multi-region,
log-file validation, KMS-encrypted with the audit key, delivered to the audit bucket under
``cloudtrail/``.

DynamoDB data events are selected with advanced event selectors only (``resources.type``
``AWS::DynamoDB::Table``, ``resources.ARN`` the table's ARN); basic event selectors cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stackspec.config.stack import StackConfig
from stackspec.definitions.audit_bucket import CLOUDTRAIL_PREFIX
from stackspec.naming import KeyPurpose

TABLE_RESOURCE_TYPE = "AWS::DynamoDB::Table"
STREAM_RESOURCE_TYPE = "AWS::DynamoDB::Stream"


@dataclass(frozen=True, kw_only=True)
class TrailDefinition:
    name: str
    region: str
    """The trail's home region (the stack's)."""
    key_purpose: KeyPurpose
    s3_key_prefix: str
    management_events: bool
    stream_data_events: bool
    tags: dict[str, str]
    multi_region: bool = True
    include_global_service_events: bool = True
    log_file_validation: bool = True

    def arn(self, *, partition: str, account_id: str) -> str:
        return f"arn:{partition}:cloudtrail:{self.region}:{account_id}:trail/{self.name}"

    def event_selectors(self, *, table_arn: str, stream_arn: str | None) -> list[dict[str, Any]]:
        """Advanced event selectors as the CloudTrail API takes them (``Name``,
        ``FieldSelectors`` of ``Field``/``Equals``)."""
        selectors: list[dict[str, Any]] = []
        if self.management_events:
            selectors.append(
                {
                    "Name": "Management events",
                    "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
                }
            )
        selectors.append(
            {
                "Name": "Data events of the app table",
                "FieldSelectors": [
                    {"Field": "eventCategory", "Equals": ["Data"]},
                    {"Field": "resources.type", "Equals": [TABLE_RESOURCE_TYPE]},
                    {"Field": "resources.ARN", "Equals": [table_arn]},
                ],
            }
        )
        if self.stream_data_events and stream_arn is not None:
            selectors.append(
                {
                    "Name": "Data events of the app table's stream",
                    "FieldSelectors": [
                        {"Field": "eventCategory", "Equals": ["Data"]},
                        {"Field": "resources.type", "Equals": [STREAM_RESOURCE_TYPE]},
                        {"Field": "resources.ARN", "Equals": [stream_arn]},
                    ],
                }
            )
        return selectors


def trail_definition(cfg: StackConfig) -> TrailDefinition | None:
    """The trail, or None when the stack records nothing itself (off, or an organization trail
    records this account)."""
    trail = cfg.trail
    if not trail.enabled or trail.organization_trail:
        return None
    return TrailDefinition(
        name=cfg.names.trail,
        region=cfg.region,
        key_purpose=KeyPurpose.AUDIT,
        s3_key_prefix=CLOUDTRAIL_PREFIX,
        management_events=trail.management_events,
        stream_data_events=trail.stream_data_events,
        tags=cfg.tags.as_dict(),
    )
