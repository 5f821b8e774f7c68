"""A month transaction converges: before its commit point a failure leaves the month as it was, after it every run finishes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.service import Clients
from archiver.settings import ConfigError
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, run

__all__ = ["run"]  # the handler tests' fixture, used here too
P = "appstore/"


def s3_error(code: str = "InternalError", status: int = 500, operation: str = "PutObject") -> ClientError:
    """An S3 error as botocore raises it once its retries are spent."""
    return ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


@pytest.mark.parametrize("status", [None, "Suspended"])
def test_a_bucket_without_versioning_is_refused_before_any_month(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch, status: str | None
) -> None:
    plain = "plain-archive"
    aws.s3.create_bucket(Bucket=plain)
    if status:
        aws.s3.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": status})
    monkeypatch.setenv("ARCHIVE_BUCKET", plain)
    with pytest.raises(ConfigError, match=f"archive bucket {plain} does not have versioning enabled"):
        run({"months": [MONTHS[0]]})
    assert aws.s3.list_objects_v2(Bucket=plain).get("KeyCount", 0) == 0
    assert keys(aws) == []


def pending(aws: Clients) -> list[str]:
    """The pending markers now current."""
    return keys(aws, f"{P}state/sales/pending/")


def test_a_pending_marker_written_twice_by_a_retried_put_is_cleared_whole(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_put = aws.s3.put_object

    def put(**kw: Any) -> Any:
        if "/pending/" in kw["Key"]:  # the first attempt commits, its answer is lost, the SDK's retry commits again
            real_put(**{**kw, "Body": kw["Body"]})
        return real_put(**kw)

    monkeypatch.setattr(aws.s3, "put_object", put)
    month = MONTHS[-1]
    assert run({"months": [month]})["results"][0]["status"] == "archived"
    assert pending(aws) == []
    assert [v for v in aws.s3.list_object_versions(Bucket=BUCKET, Prefix=f"{P}state/sales/pending/").get("Versions", [])] == []
