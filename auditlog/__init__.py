"""The audit trail (issue 8): append-only, hash-chained events in PostgreSQL.

Pulumi-free and boto3-free except :mod:`auditlog.connect` (RDS IAM tokens). Writers are the stream
consumer (``functions/stream_consumer``) and the PHI read auditor (:mod:`datalayer.audit`);
readers are ``make audit-verify`` and ``make audit-report``. docs/audit-trail.md has the design.
"""
