"""Secrets Manager secrets: one mutation of a compliant baseline per case."""

from __future__ import annotations

import pytest
from hipaa_guardrails import resource_types as t

from tests.policies.fixtures import SECRET
from tests.policies.support import DELETE, UNKNOWN_STRING_VALUE, mutate, run_resource

RULE = "hipaa-secretsmanager-secret-encrypted-with-cmk"


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("kmsKeyId", DELETE, "aws/secretsmanager is used"),
        ("kmsKeyId", "", "aws/secretsmanager is used"),
        ("kmsKeyId", "alias/aws/secretsmanager", "is the AWS managed key"),
        ("kmsKeyId", UNKNOWN_STRING_VALUE, None),
        ("kmsKeyId", "alias/medeez-dev-audit-db", None),
    ],
)
def test_secret_mutation(path, value, expected):
    outcome = run_resource(RULE, t.SECRETSMANAGER_SECRET, mutate(SECRET, path, value))
    if expected is None:
        assert outcome.passed, outcome
    else:
        assert len(outcome.violations) == 1, outcome
        assert expected in outcome.violations[0]


def test_compliant_secret_passes():
    assert run_resource(RULE, t.SECRETSMANAGER_SECRET, SECRET).passed
