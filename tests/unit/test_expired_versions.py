"""A rollback whose previous curated version the lifecycle expired meanwhile: the month is re-curated from its raw object."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.amazon.download import Downloaded
from archiver.core.results import RunFailedError
from archiver.run.startup import Clients
from archiver.storage import transaction
from archiver.storage.prepare import EmptyReportRefused, holds_rows, prepare
from archiver.storage.store import ArchiveStore
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.reports import SEED_HEADER, csv_bytes, zipped
from tests.unit.test_handler import MISSING, MONTHS, report, run

__all__ = ["run"]  # the handler tests' fixture, used here too


class Killed(BaseException):
    """The Lambda is killed (no except clause of the function catches it)."""


def killed_between_uploads(run: Callable[..., dict[str, Any]], month: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forced run of `month` killed between the curated upload and the raw upload (the commit point): its marker stays."""
    real = transaction.put_file

    def put_file(store: Any, key: str, *rest: Any) -> Any:
        if "/raw/" in key:
            raise Killed
        return real(store, key, *rest)

    monkeypatch.setattr(transaction, "put_file", put_file)
    with pytest.raises(Killed):
        run({"months": [month], "force": True})
    monkeypatch.setattr(transaction, "put_file", real)


def killed_after_expiry(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch, then: Callable[[str], object] = lambda month: None
) -> tuple[str, str]:
    """A backfill; `then(month)`; a run of a month outside the lookback killed between its uploads; the lifecycle expires
    the previous curated version, noncurrent since the killed upload. Returns the month and its curated key."""
    run()  # the backfill
    month = MONTHS[0]  # outside the lookback window: the default plan does not fetch it
    year, mm = month.split("-")
    curated_key = f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"
    before = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=curated_key)["Versions"]
    then(month)
    killed_between_uploads(run, month, monkeypatch)
    for version in before:
        aws.s3.delete_object(Bucket=BUCKET, Key=curated_key, VersionId=version["VersionId"])
    return month, curated_key


def test_a_rollback_after_the_previous_curated_version_expired_recurates_from_raw(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    month, curated_key = killed_after_expiry(
        run, aws, monkeypatch, lambda m: amazon.files.update({m: (amazon.files[m][0], report(m, n=7)[1])})
    )
    year, mm = month.split("-")
    del amazon.files[month]  # and Amazon would not serve the month again anyway
    results = run()["results"]  # settles the pending transaction: a rollback
    assert all(r["status"] != "failed" for r in results)
    assert not keys(aws, "appstore/state/sales/pending/")
    (raw_key,) = keys(aws, f"appstore/raw/sales/year={year}/month={mm}/")
    raw = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]
    assert curated_key in keys(aws, curated_key)
    curated = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]
    assert curated["source-sha256"] == raw["sha256"]
    assert curated["rows"] == "4"  # made from the archived raw object, not from the rolled back restatement


def expire(aws: Clients, key: str, keep: Callable[[dict[str, Any]], bool] = lambda version: False) -> None:
    """NoncurrentVersionExpiration: every noncurrent version of `key` (but those `keep` spares) is deleted."""
    listing = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])
    for version in listing:
        if version["Key"] == key and not version["IsLatest"] and not keep(version):
            aws.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version["VersionId"])


def made_from(aws: Clients, curated_key: str, metadata: str = "source-sha256") -> str:
    """One metadata entry of a curated object."""
    return str(aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"][metadata])


@pytest.mark.parametrize(
    ("stuck", "left"),
    [("/pending/", "no version"), ("/pending/", "a delete marker"), ("/pending/", "an older object"), ("/raw/", "no version")],
)
def test_rolling_back_a_transaction_that_superseded_an_unfinished_one_converges_whatever_expired(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch, stuck: str, left: str
) -> None:
    run()
    month = MONTHS[0]  # outside the lookback window: only its pending marker brings it back
    year, mm = month.split("-")
    curated_key, raw_prefix = (
        f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz",
        f"appstore/raw/sales/year={year}/month={mm}/",
    )
    pending_key = f"appstore/state/sales/pending/{month}.json"
    first = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["VersionId"]  # made from the backfill's raw object
    real_delete, real_put = aws.s3.delete_object, transaction.put_file

    def delete(**kw: Any) -> Any:
        if stuck in kw["Key"]:  # its marker, or the older raw file, cannot be removed: the transaction stays unfinished
            raise ClientError({"Error": {"Code": "InternalError"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, "DeleteObject")
        return real_delete(**kw)

    monkeypatch.setattr(aws.s3, "delete_object", delete)
    kind = "gzip" if stuck == "/raw/" else "zip"  # a gzip file is served under another name: the zip file is removed
    amazon.files[month] = report(month, n=9, kind=kind)
    with pytest.raises(RunFailedError, match="archived but incomplete"):
        run({"months": [month]})  # T1 commits (9 rows), its finish fails: its marker stays
    amazon.files[month] = report(month, n=11, kind=kind)  # restated again

    def put_file(store: Any, key: str, *rest: Any) -> Any:
        if "/raw/" in key:
            raise Killed  # T2, which supersedes T1, is killed between its curated upload and its raw upload
        return real_put(store, key, *rest)

    monkeypatch.setattr(transaction, "put_file", put_file)
    with pytest.raises(Killed):
        run({"months": [month]})
    monkeypatch.setattr(transaction, "put_file", real_put)
    monkeypatch.setattr(aws.s3, "delete_object", real_delete)
    expire(aws, pending_key)  # T1's marker, noncurrent since T2's marker was written
    expire(aws, curated_key, lambda version: left == "an older object" and version["VersionId"] == first)
    if left == "a delete marker":
        aws.s3.delete_object(Bucket=BUCKET, Key=curated_key)
    del amazon.files[month]  # Amazon no longer serves it: the archived raw object is all there is
    assert all(r["status"] != "failed" for r in run()["results"])  # a daily run settles T2: a rollback
    assert keys(aws, "appstore/state/sales/pending/") == []
    (raw_key,) = keys(aws, raw_prefix)  # T1's raw object (an older raw file is removed as T1 is finished)
    assert made_from(aws, curated_key) == aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]["sha256"]
    assert made_from(aws, curated_key, "rows") == "9"


def test_a_month_with_a_raw_object_but_no_curated_object_is_protected_by_the_empty_report_guard(
    run: Callable[..., dict[str, Any]], aws: Clients, tmp_path: Path
) -> None:
    run()
    month = MONTHS[0]
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", "sales")
    period = store.report.parse_period(month)
    for version in aws.s3.list_object_versions(Bucket=BUCKET, Prefix=store.curated_key(period))["Versions"]:
        aws.s3.delete_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
    view = store.month(period)
    assert view.curated is None and len(view.raw) == 1  # every curated version is gone; the raw object is still there
    served = tmp_path / "served.zip"
    served.write_bytes(zipped(csv_bytes(SEED_HEADER, [])))
    fetched = Downloaded(served, "sales.zip", served.stat().st_size, hashlib.sha256(served.read_bytes()).hexdigest())
    with pytest.raises(EmptyReportRefused, match="no data rows"):
        prepare(store, period, fetched, view, False, tmp_path / "curated.gz", None)
    prepare(store, period, fetched, view, True, tmp_path / "curated.gz", None)  # `force` still accepts it
    assert not holds_rows(store, store.month(store.report.parse_period(MISSING)))  # a month never archived has no rows


def test_a_rollback_that_cannot_recurate_from_raw_clears_its_marker_and_fetches_the_month_again(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    month, curated_key = killed_after_expiry(run, aws, monkeypatch)
    year, mm = month.split("-")
    (raw_key,) = keys(aws, f"appstore/raw/sales/year={year}/month={mm}/")
    metadata = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]  # and the raw bytes no longer match their SHA-256
    aws.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=b"not what Amazon served", Metadata=metadata)
    results = {r["month"]: r for r in run()["results"]}  # the rollback cannot re-curate: the month is fetched again
    assert results[month]["status"] == "archived", results[month]
    assert not keys(aws, "appstore/state/sales/pending/")
    (raw_key,) = keys(aws, f"appstore/raw/sales/year={year}/month={mm}/")
    raw = aws.s3.get_object(Bucket=BUCKET, Key=raw_key)
    assert hashlib.sha256(raw["Body"].read()).hexdigest() == raw["Metadata"]["sha256"] == made_from(aws, curated_key)
    assert {r["status"] for r in run()["results"]} <= {"unchanged"}  # and it stays put
