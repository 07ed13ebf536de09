"""``make audit-digest`` puts the digest into the audit bucket's ``audit-chain/<stack>/`` prefix,
where the bucket's default object lock keeps it: a round trip on moto, with the bucket as local
setup builds it from the stack's definition.

moto 5.2.5 applies a bucket policy's Deny statements without evaluating their conditions, so the
audit bucket's TLS statements refuse every object request locally: the command reports that as a
skipped upload, and the round trip runs on the same bucket with its policy removed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from auditlog.connect import connect
from functions.stream_consumer.handler import Consumer
from scripts import audit
from scripts.aws_target import Clients
from scripts.setup_database import setup_local
from stackspec.config.stack import load_stack_config
from tests.auditlog.support import patient_item, record
from tests.moto_env import isolate_from_real_aws

ACCOUNT = "123456789012"


@pytest.fixture
def local(audit_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AUDIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    isolate_from_real_aws(monkeypatch)
    Consumer(lambda: connect(audit_db.ingest_url))(
        {"Records": [record("w1", 1, new=patient_item("c1", "p1", b"x"))]}, None
    )
    with mock_aws():
        cfg = load_stack_config("dev")
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=cfg.region
        )
        clients = Clients(session, emulator=True)
        setup_local(cfg, clients)
        monkeypatch.setattr(audit, "_s3_clients", lambda args, cfg, out: clients)
        base = ["--stack", "dev", "--database-url", audit_db.reader_url]
        yield clients, [*base, "--digest-dir", str(tmp_path / "digests")]


def test_the_emulator_refusing_the_upload_is_reported_as_skipped(local: Any, capsys: Any) -> None:
    _, args = local
    assert audit.main(["digest", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    path = Path(lines[0].removeprefix("audit digest: wrote "))
    assert lines[1] == (
        f"audit digest: upload skipped: the local emulator refuses objects in "
        f"medeez-dev-audit-{ACCOUNT} (it applies the bucket policy's TLS Deny statements "
        f"without their conditions); {path} stays"
    )
    assert path.exists()


def test_digest_is_uploaded_under_audit_chain_and_locked(local: Any, capsys: Any) -> None:
    clients, args = local
    clients("s3").delete_bucket_policy(Bucket=f"medeez-dev-audit-{ACCOUNT}")  # see the docstring
    assert audit.main(["digest", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    path = Path(lines[0].removeprefix("audit digest: wrote "))
    bucket = f"medeez-dev-audit-{ACCOUNT}"
    key = f"audit-chain/dev/{path.name}"
    assert lines[1] == f"audit digest: uploaded s3://{bucket}/{key} (object-locked by default)"
    s3 = clients("s3")
    stored = s3.get_object(Bucket=bucket, Key=key)
    body = stored["Body"].read()
    assert body == path.read_bytes()
    assert json.loads(body)["heads"]["c1"]["seq"] == 1
    assert stored["ServerSideEncryption"] == "aws:kms"
    # The bucket's default retention (dev: governance, 90 days) locks the version.
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    held = head["ObjectLockRetainUntilDate"] - stored["LastModified"]
    assert 89 <= held.days <= 90
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=key, VersionId=stored["VersionId"])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert hashlib.sha256(body).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failed_upload_keeps_the_file_and_exits_1(local: Any, capsys: Any) -> None:
    clients, args = local
    clients("s3").meta.events.register(
        "before-call.s3.PutObject",
        lambda **_: (_ for _ in ()).throw(
            ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "PutObject")
        ),
    )
    assert audit.main(["digest", *args]) == 1
    out = capsys.readouterr().out.splitlines()
    path = Path(out[0].removeprefix("audit digest: wrote "))
    assert path.exists()
    assert out[1].startswith("audit digest: not uploaded (An error occurred (NoSuchBucket)")
    assert out[1].endswith(f"{path} stays, rerun to upload")


def test_no_emulator_to_upload_to_is_one_line_and_exit_2(
    audit_db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.delenv("AUDIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path / "state"))
    digests = tmp_path / "digests"
    argv = ["digest", "--stack", "dev", "--database-url", audit_db.reader_url]
    assert audit.main([*argv, "--digest-dir", str(digests)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("audit: error: cannot upload the digest: no local emulator is running")
    assert line.endswith("(or pass --no-upload)")
    assert not digests.exists()  # nothing written before the target is known
