"""A rollback whose previous curated version the lifecycle expired meanwhile: the month is re-curated from its raw object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from archiver import transaction
from archiver.service import Clients
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, report, run

__all__ = ["run"]  # the handler tests' fixture, used here too


class Killed(BaseException):
    """The Lambda is killed (no except clause of the function catches it)."""


def test_a_rollback_after_the_previous_curated_version_expired_recurates_from_raw(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run()  # the backfill
    month = MONTHS[0]  # outside the lookback window: the default plan does not fetch it
    year, mm = month.split("-")
    curated_key = f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"
    before = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=curated_key)["Versions"]
    amazon.files[month] = (amazon.files[month][0], report(month, n=7)[1])  # a restatement
    real = transaction.put_file

    def put_file(store: Any, key: str, *rest: Any) -> Any:
        if "/raw/" in key:
            raise Killed  # killed between the curated upload and the raw upload (the commit point)
        return real(store, key, *rest)

    monkeypatch.setattr(transaction, "put_file", put_file)
    with pytest.raises(Killed):
        run({"months": [month], "force": True})
    monkeypatch.setattr(transaction, "put_file", real)
    for version in before:  # NoncurrentVersionExpiration removes the previous curated version, noncurrent since the upload
        aws.s3.delete_object(Bucket=BUCKET, Key=curated_key, VersionId=version["VersionId"])
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
