"""Reading props through the SDK's unknown-checking proxy, and policy documents."""

from __future__ import annotations

import pytest
from hipaa_guardrails.iam import (
    admin_or_full_access,
    data_actions_on_any_resource,
    denies_insecure_transport,
    open_principal_statements,
)
from hipaa_guardrails.props import (
    MISSING,
    UNKNOWN,
    Deferred,
    describe,
    get,
    is_present,
    is_true,
    plain,
    policy_document,
    require_known,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from tests.policies.support import (
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
)

RAW = {
    "name": "t",
    "flag": UNKNOWN_BOOLEAN_VALUE,
    "nested": {"arn": UNKNOWN_STRING_VALUE, "list": [1, UNKNOWN_STRING_VALUE]},
    "actions": UNKNOWN_ARRAY_VALUE,
    "none": None,
}


def test_the_proxy_raises_on_unknown_reads_even_for_membership():
    proxied = unknown_checking_proxy(RAW)
    with pytest.raises(UnknownValueError):
        _ = proxied["flag"]
    assert "flag" in list(proxied)  # iteration is safe; reading is not


def test_plain_copies_the_proxy_with_unknown_markers():
    assert plain(unknown_checking_proxy(RAW)) == {
        "name": "t",
        "flag": UNKNOWN,
        "nested": {"arn": UNKNOWN, "list": [1, UNKNOWN]},
        "actions": UNKNOWN,
        "none": None,
    }


def test_get_walks_paths():
    props = plain(unknown_checking_proxy(RAW))
    assert get(props, "name") == "t"
    assert get(props, "nested", "list", 1) is UNKNOWN
    assert get(props, "nested", "list", 5) is MISSING
    assert get(props, "flag", "deeper") is UNKNOWN
    assert get(props, "none") is MISSING
    assert get(props, "absent", "x") is MISSING


def test_unknown_decisions():
    assert is_true(UNKNOWN) is False  # fails closed
    assert is_present(UNKNOWN) is True  # a set ARN that is not known yet
    assert is_present("") is False
    assert is_present([]) is False
    assert is_present(MISSING) is False
    assert describe(UNKNOWN) == "unknown during preview (fails closed)"
    assert describe(False) == "false"
    with pytest.raises(TypeError, match="has no truth value"):
        bool(UNKNOWN)


def test_require_known_defers_with_the_path():
    assert require_known({"a": 1}, "doc") == {"a": 1}
    with pytest.raises(Deferred) as deferred:
        require_known({"a": [UNKNOWN]}, "inlinePolicies[0].policy")
    assert deferred.value.as_sdk_error().message == (
        "string value at .inlinePolicies[0].policy can't be known during preview"
    )


def test_policy_document_forms():
    assert policy_document(MISSING, "p") is None
    assert policy_document('{"Statement": []}', "p") == {"Statement": []}
    assert policy_document({"Statement": []}, "p") == {"Statement": []}
    with pytest.raises(ValueError, match="p is not valid JSON"):
        policy_document("{", "p")
    with pytest.raises(Deferred):
        policy_document(UNKNOWN, "p")


def test_policy_statement_readers():
    single = {"Statement": {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": "sns:*"}}
    assert list(open_principal_statements(single)) == ["#1"]
    assert list(admin_or_full_access(single)) == ["statement #1 allows every sns action (sns:*)"]
    scoped = {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:k"}]}
    assert list(data_actions_on_any_resource(scoped)) == []
    deny = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Condition": {"Bool": {"aws:SecureTransport": False}},
            }
        ]
    }
    assert denies_insecure_transport(deny)
    deny["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::1:root"}
    assert not denies_insecure_transport(deny)
