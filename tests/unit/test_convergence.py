"""A month transaction converges: before its commit point a failure leaves the month as it was, after it every run finishes it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from archiver.core.deadline import OutOfTime
from archiver.core.results import RunFailedError
from archiver.core.settings import ConfigError
from archiver.run import pipeline
from archiver.run.startup import Clients
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.reports import SEED_HEADER, csv_bytes, zipped
from tests.unit.test_handler import MONTHS, report, run, statuses

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


def raw_key(aws: Clients, month: str) -> str:
    """The month's one raw key."""
    year, mm = month.split("-")
    (key,) = keys(aws, f"{P}raw/sales/year={year}/month={mm}/")
    return key


def curated_key(month: str) -> str:
    """The month's curated key."""
    year, mm = month.split("-")
    return f"{P}sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"


def pair(aws: Clients, month: str) -> tuple[str, str, str]:
    """The raw object's sha256, the sha256 of the raw bytes the curated object says it was made from, and its row count."""
    raw = aws.s3.head_object(Bucket=BUCKET, Key=raw_key(aws, month))["Metadata"]["sha256"]
    curated = aws.s3.head_object(Bucket=BUCKET, Key=curated_key(month))["Metadata"]
    return raw, curated["source-sha256"], curated["rows"]


def current_versions(aws: Clients) -> set[tuple[str, str]]:
    """(key, version id) of every current archive object outside state/ and periods/ (the bookkeeping)."""
    listing = aws.s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
    return {(v["Key"], v["VersionId"]) for v in listing if v["IsLatest"] and "/state/" not in v["Key"] and "/periods/" not in v["Key"]}


@pytest.mark.parametrize("error", [ReadTimeoutError(endpoint_url="https://s3"), s3_error("InternalError", 500)])
def test_a_raw_upload_whose_outcome_is_unknown_keeps_the_pending_marker_so_a_late_write_is_settled(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    run()
    old = MONTHS[0]  # outside the lookback window: only the pending marker brings it back
    before, versions = pair(aws, old), current_versions(aws)
    amazon.files[old] = report(old, 9)
    real_put, late = aws.s3.put_object, []

    def put(**kw: Any) -> Any:
        if "/raw/" in kw["Key"] and not late:  # the request reached S3, which has not answered yet
            late.append({**kw, "Body": kw["Body"].read()})
            raise error
        return real_put(**kw)

    monkeypatch.setattr(aws.s3, "put_object", put)
    with pytest.raises(RunFailedError, match=old):
        run({"months": [old]})
    assert pair(aws, old) == before and current_versions(aws) == versions  # this run restored what it knows
    assert pending(aws) == [f"{P}state/sales/pending/{old}.json"]  # the safety net
    real_put(**late[0])  # S3 completes the write after the run
    del amazon.files[old]  # and Amazon no longer serves the month: the archived raw bytes are all there is
    assert statuses(run())[old] == "not_found"  # a daily run settles the month first, from the raw object
    raw, source, rows = pair(aws, old)
    assert raw == source != before[0] and rows == "9"
    assert pending(aws) == []


def test_a_raw_upload_refused_by_s3_clears_the_pending_marker_at_once(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    old = MONTHS[0]
    versions = current_versions(aws)
    amazon.files[old] = report(old, 9)
    real_put = aws.s3.put_object

    def put(**kw: Any) -> Any:
        if "/raw/" in kw["Key"]:
            raise s3_error("AccessDenied", 403)
        return real_put(**kw)

    monkeypatch.setattr(aws.s3, "put_object", put)
    with pytest.raises(RunFailedError, match="AccessDenied"):
        run({"months": [old]})
    assert current_versions(aws) == versions and pending(aws) == []


def lose_raw_answer(aws: Clients, monkeypatch: pytest.MonkeyPatch, month: str) -> dict[str, bool]:
    """While on: the month's raw upload commits but its answer is lost, and reading the key back fails too."""
    real_put, real_list, on = aws.s3.put_object, aws.s3.list_objects_v2, {"raw": True, "curated": False}
    year, mm = month.split("-")
    raw_prefix = f"{P}raw/sales/year={year}/month={mm}/"

    def put(**kw: Any) -> Any:
        if on["raw"] and kw["Key"].startswith(raw_prefix):
            real_put(**kw)
            raise s3_error()
        if on["curated"] and kw["Key"] == curated_key(month):
            raise s3_error()
        return real_put(**kw)

    def listing(**kw: Any) -> Any:
        if on["raw"] and str(kw.get("Prefix", "")).startswith(raw_prefix) and kw["Prefix"] != raw_prefix:  # the read-back
            raise s3_error("SlowDown", 503, "ListObjectsV2")
        return real_list(**kw)

    monkeypatch.setattr(aws.s3, "put_object", put)
    monkeypatch.setattr(aws.s3, "list_objects_v2", listing)
    return on


def test_a_roll_forward_that_fails_keeps_the_marker_and_a_later_run_converges(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    old = MONTHS[0]  # outside the lookback window
    amazon.files[old] = report(old, 9)  # Amazon restates it
    faults = lose_raw_answer(aws, monkeypatch, old)
    with pytest.raises(RunFailedError):
        run({"months": [old]})
    faults.update(raw=False, curated=True)
    with pytest.raises(RunFailedError, match=f"incomplete .*{old}: a pending transaction past its commit point could not be finished"):
        run()  # the roll-forward fails before its curated object is written (and so does the month's new transaction)
    assert pending(aws) == [f"{P}state/sales/pending/{old}.json"]  # still described
    faults.update(curated=False)
    run()
    raw, source, rows = pair(aws, old)
    assert raw == source and rows == "9" and pending(aws) == []


def test_a_forced_rewrite_of_the_same_bytes_whose_raw_answer_was_lost_converges(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    old = MONTHS[0]
    faults = lose_raw_answer(aws, monkeypatch, old)
    with pytest.raises(RunFailedError):
        run({"months": [old], "force": True})
    faults.update(raw=False)
    for _ in range(2):
        run()
    raw, source, _ = pair(aws, old)
    assert raw == source and pending(aws) == []


def test_a_forced_empty_report_whose_raw_answer_was_lost_is_not_refused_later(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    old = MONTHS[0]
    name = amazon.files[old][0]
    amazon.files[old] = (name, zipped(csv_bytes(SEED_HEADER, [])))  # the month really has no sales any more
    faults = lose_raw_answer(aws, monkeypatch, old)
    with pytest.raises(RunFailedError):
        run({"months": [old], "force": True})
    faults.update(raw=False)
    result = run()  # no EmptyReportRefused: the forced transaction committed, and it is finished as it was
    assert all(r["status"] != "failed" for r in result["results"])
    raw, source, rows = pair(aws, old)
    assert raw == source and rows == "0" and pending(aws) == []


def test_a_month_that_runs_out_of_time_before_its_commit_point_is_deferred_not_failed(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    month = MONTHS[-1]
    amazon.files[month] = report(month, 9)

    def slow(*args: Any, **kwargs: Any) -> Any:
        raise OutOfTime("the download from https://host/path (0 bytes so far) ran out of time")

    real_download = pipeline.download
    monkeypatch.setattr(pipeline, "download", slow)
    (entry,) = run({"months": [month], "force": True})["results"]  # no RunFailedError: nothing changed, the month waits
    assert entry["status"] == "deferred" and entry["error"].startswith("OutOfTime: the download")
    marker = aws.s3.get_object(Bucket=BUCKET, Key=f"{P}state/sales/deferred/{month}.json")["Body"].read()
    assert json.loads(marker)["force"] is True
    monkeypatch.setattr(pipeline, "download", real_download)
    assert statuses(run())[month] == "archived"  # first in the next run, forced as asked
    assert keys(aws, f"{P}state/sales/deferred/") == []


def test_a_settled_month_whose_finish_fails_is_archived_incomplete_and_still_fetched(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()
    month = MONTHS[-1]
    amazon.files[month] = report(month, 9, kind="gzip")  # restated under another name: the older raw file is removed
    real_delete, failing = aws.s3.delete_object, [True]

    def delete(**kw: Any) -> Any:
        if failing[0] and "/raw/" in kw["Key"]:
            raise s3_error("InternalError", 500, "DeleteObject")
        return real_delete(**kw)

    monkeypatch.setattr(aws.s3, "delete_object", delete)
    with pytest.raises(RunFailedError, match="archived but incomplete"):
        run({"months": [month]})
    amazon.files[month] = report(month, 11, kind="gzip")  # and restated again
    with pytest.raises(RunFailedError, match="archived but incomplete") as caught:
        result = run()
    assert "failed" not in str(caught.value).split("archived but incomplete")[0]
    failing[0] = False
    result = run()
    assert statuses(result)[month] == "unchanged"
    raw, source, rows = pair(aws, month)
    assert raw == source and rows == "11" and pending(aws) == []
    assert aws.s3.list_object_versions(Bucket=BUCKET, Prefix=f"{P}state/sales/pending/").get("Versions", []) == []
