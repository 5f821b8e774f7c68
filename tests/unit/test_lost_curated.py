"""An archived month whose curated object is gone, with no transaction pending: an ordinary run re-curates it from the raw object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from archiver.core.results import RunFailedError
from archiver.run.startup import Clients
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, run, statuses

__all__ = ["run"]  # the handler tests' fixture, used here too


def lose(aws: Clients, key: str, left: str) -> None:
    """Every version of `key` deleted (an earlier version's rollback after they expired), or a delete marker put on top."""
    if left == "a delete marker":
        aws.s3.delete_object(Bucket=BUCKET, Key=key)
        return
    for version in aws.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]:
        aws.s3.delete_object(Bucket=BUCKET, Key=key, VersionId=version["VersionId"])


def keys_of(month: str) -> tuple[str, str]:
    """The month's raw prefix and curated key."""
    year, mm = month.split("-")
    return f"appstore/raw/sales/year={year}/month={mm}/", f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"


@pytest.mark.parametrize("left", ["no version", "a delete marker"])
def test_an_ordinary_run_recurates_a_lost_curated_object_from_the_raw_object(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, left: str
) -> None:
    run()
    month = MONTHS[0]  # outside the lookback window: the run does not fetch it
    raw_prefix, curated_key = keys_of(month)
    before = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]
    lose(aws, curated_key, left)
    del amazon.files[month]  # Amazon no longer serves it: the archived raw object is all there is
    result = run()
    assert month not in statuses(result) and all(r["status"] != "failed" for r in result["results"])
    (raw_key,) = keys(aws, raw_prefix)
    after = aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]
    assert after["source-sha256"] == aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]["sha256"] == before["source-sha256"]
    assert after["rows"] == before["rows"] == "4" and after["sha256"] == before["sha256"]  # the same curated bytes as before
    versions = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=curated_key)["Versions"]
    assert len(versions) == (1 if left == "no version" else 2)
    run()  # the next run finds the pair whole: nothing more to write
    assert aws.s3.list_object_versions(Bucket=BUCKET, Prefix=curated_key)["Versions"] == versions


def test_a_lost_curated_object_whose_raw_object_does_not_match_its_sha256_fails_the_month(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = MONTHS[0]
    raw_prefix, curated_key = keys_of(month)
    (raw_key,) = keys(aws, raw_prefix)
    metadata = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]
    aws.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=b"not the bytes Amazon served", Metadata=metadata)
    lose(aws, curated_key, "no version")
    with pytest.raises(RunFailedError, match=f"{month}: the lost curated object could not be made again from the raw object: RawMismatch"):
        run()
    assert curated_key not in keys(aws, curated_key)  # nothing made from bytes that are not the archived ones


def test_a_fetched_month_whose_curated_object_is_lost_is_recurated_first_and_found_unchanged(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = MONTHS[-1]  # the current month: every run fetches it
    raw_prefix, curated_key = keys_of(month)
    (raw_key,) = keys(aws, raw_prefix)
    raw = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)
    lose(aws, curated_key, "no version")
    assert statuses(run())[month] == "unchanged"  # Amazon serves the archived bytes: nothing is rewritten
    assert aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["VersionId"] == raw["VersionId"]
    assert aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]["source-sha256"] == raw["Metadata"]["sha256"]


def test_a_fetched_month_whose_lost_curated_object_cannot_be_recurated_is_written_again_from_amazon(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = MONTHS[-1]
    raw_prefix, curated_key = keys_of(month)
    (raw_key,) = keys(aws, raw_prefix)
    metadata = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]
    aws.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=b"not the bytes Amazon served", Metadata=metadata)
    lose(aws, curated_key, "no version")
    results = [r for r in run()["results"] if r["month"] == month]
    assert [r["status"] for r in results] == ["archived"]  # one result: the month's own, from the bytes Amazon serves
    assert aws.s3.head_object(Bucket=BUCKET, Key=curated_key)["Metadata"]["source-sha256"] == metadata["sha256"]
