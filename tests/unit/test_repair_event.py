"""A `repair` event: each pair put right from its raw object without Amazon, else from Amazon's bytes through the guard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archiver.core.months import Month
from archiver.core.report_types import SALES
from archiver.run.startup import Clients
from tests.unit.conftest import BUCKET, DATABASE, SECRET, TABLE, keys, versions
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, Context, run, statuses

__all__ = ["run"]  # the handler tests' fixture, used here too
P = "appstore/"
MONTH = MONTHS[2]


def repair(month: str = MONTH) -> dict[str, Any]:
    return {"repair": [{"report": "sales", "period": month}]}


def head(aws: Clients, key: str) -> dict[str, str]:
    return dict(aws.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"])


def test_a_pair_with_a_raw_object_is_repaired_from_it_with_no_secret_token_or_report(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run({"months": [MONTH]})
    curated = SALES.curated_key(P, Month.parse(MONTH))
    good = head(aws, curated)
    aws.s3.put_object(Bucket=BUCKET, Key=curated, Body=b"not what the raw object holds", Metadata={**good, "rows": "99"})
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=MONTH.split("-"))
    aws.secrets.delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)  # reading it would fail the run
    asked = dict(amazon.calls)
    result = run(repair())
    assert statuses(result) == {MONTH: "archived"}
    assert dict(amazon.calls) == asked
    assert {k: v for k, v in head(aws, curated).items() if k != "txn"} == {k: v for k, v in good.items() if k != "txn"}
    assert aws.glue.get_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=MONTH.split("-"))["Partition"]


def test_raw_bytes_their_sha256_does_not_name_are_replaced_by_amazons_even_when_the_metadata_agrees(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run({"months": [MONTH]})
    (raw,) = keys(aws, SALES.raw_prefix(P, Month.parse(MONTH)))
    served = aws.s3.get_object(Bucket=BUCKET, Key=raw)["Body"].read()
    aws.s3.put_object(Bucket=BUCKET, Key=raw, Body=b"rotten", Metadata=head(aws, raw))
    result = run(repair())
    assert statuses(result) == {MONTH: "archived"}  # not `unchanged`: the served bytes match the metadata, not the object
    assert aws.s3.get_object(Bucket=BUCKET, Key=raw)["Body"].read() == served


def test_a_pair_is_deferred_without_a_write_when_too_little_time_is_left(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    def archived() -> list[Any]:  # the periods table records the deferral: the archive itself must not change
        return [v for v in versions(aws) if not v["Key"].startswith("appstore/periods/")]

    run({"months": [MONTH]})
    before = archived()
    result = run(repair(), Context(remaining_ms=60_000))
    assert statuses(result) == {MONTH: "deferred"}
    assert archived() == before
