"""A write refused (4xx) only on the SDK's retry, after an attempt that timed out, may still land: its marker stays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.retries import standard

import app
from archiver.core.results import RunFailedError
from archiver.run.startup import Clients
from archiver.storage import objects
from archiver.storage.objects import refused
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, report, run, statuses

__all__ = ["run"]  # the handler tests' fixture, used here too
P = "appstore/"


def refusal(retries: int | None, status: int = 412, code: str = "PreconditionFailed") -> ClientError:
    """A client error as botocore raises it, after `retries` retries (None: no RetryAttempts in its metadata)."""
    metadata: dict[str, Any] = {"HTTPStatusCode": status, **({"RetryAttempts": retries} if retries is not None else {})}
    return ClientError({"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": metadata}, "PutObject")


def test_only_a_4xx_answering_the_one_attempt_is_a_refusal() -> None:
    assert refused(refusal(0)) and refused(refusal(None)) and refused(refusal(0, 403, "AccessDenied"))
    assert not refused(refusal(1)) and not refused(refusal(2, 403, "AccessDenied"))  # an earlier attempt may still land
    assert not refused(refusal(0, 400, "RequestTimeout")) and not refused(refusal(0, 500, "InternalError"))


@pytest.mark.parametrize("operation", ["PutObject", "CompleteMultipartUpload"])
def test_a_raw_upload_refused_on_the_retry_after_a_timeout_keeps_its_marker_and_the_late_write_is_settled(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    run()
    old = MONTHS[0]  # outside the lookback window: only the pending marker brings it back
    year, mm = old.split("-")
    raw_prefix, curated_key = f"{P}raw/sales/year={year}/month={mm}/", f"{P}sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"
    before = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]["source-sha256"]
    amazon.files[old] = name, served = report(old, 9)  # a restatement, under the archived raw object's name
    if operation == "CompleteMultipartUpload":
        monkeypatch.setattr(objects, "MULTIPART_THRESHOLD", 100)  # the reports are ~400 bytes: every upload is multipart
        monkeypatch.setattr(objects, "PART_SIZE", 5 * 1024 * 1024)
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)  # no backoff sleep
    s3 = boto3.client("s3", config=app.retries())  # the function's own client: standard retry mode
    monkeypatch.setattr(app, "clients", lambda: Clients(s3, aws.glue, aws.secrets))
    late: dict[str, str] = {}  # the metadata of the write S3 is still processing
    attempts: list[str] = []

    def send(request: Any, event_name: str, **kwargs: Any) -> None:
        if raw_prefix not in unquote(request.url):
            return
        meta = {k[len("x-amz-meta-") :]: v for k, v in request.headers.items() if k.lower().startswith("x-amz-meta-")}
        late.update({k: v.decode() if isinstance(v, bytes) else str(v) for k, v in meta.items()})
        if event_name.endswith(operation):
            attempts.append(event_name)
            if len(attempts) == 1:  # the first attempt reaches S3, which has not answered when the SDK gives up
                raise ReadTimeoutError(endpoint_url=request.url)
            if operation == "CompleteMultipartUpload":  # so that S3 itself answers the retry 412 (the raw key exists)
                request.headers["If-None-Match"] = "*"
            else:
                request.headers["If-Match"] = '"not-the-current-etag"'

    s3.meta.events.register_first("before-send.s3", send)
    with pytest.raises(RunFailedError, match="PreconditionFailed"):
        run({"months": [old]})
    assert len(attempts) == 2 and keys(aws, f"{P}state/sales/pending/") == [f"{P}state/sales/pending/{old}.json"]
    (raw_key,) = keys(aws, raw_prefix)
    s3.meta.events.unregister("before-send.s3", send)
    aws.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=served, Metadata=late)  # S3 completes the first attempt after the run
    assert late["sha256"] == hashlib.sha256(served).hexdigest() and name == raw_key.rpartition("/")[2]
    del amazon.files[old]  # and Amazon no longer serves the month: the archived raw bytes are all there is
    assert statuses(run())[old] == "not_found"  # a daily run settles the month first, from the raw object
    metadata = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]
    assert metadata["source-sha256"] == late["sha256"] != before and metadata["rows"] == "9"
    assert keys(aws, f"{P}state/sales/pending/") == []
