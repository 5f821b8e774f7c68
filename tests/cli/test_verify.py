"""`verify` against the local stack: a healthy archive passes; each kind of damage is reported on its own line."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from archiver.core.months import Month
from tests.cli.conftest import as_json, invoke
from tests.cli.healthy import Healthy

JAN, FEB = Month(2024, 1), Month(2024, 2)


def verify(state: Path, *extra: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = invoke("verify", "--state-file", str(state), "--json", *extra)
    return result.exit_code, as_json(result)


def test_a_healthy_archive_has_no_problem(local, healthy: Healthy) -> None:
    _, state = local
    result = invoke("verify", "--state-file", str(state))
    assert result.exit_code == 0, result.output
    assert "verified 4 report type(s), 7 period(s), 12 object(s): no problems" in result.stdout


def test_the_lease_of_a_run_in_progress_is_not_a_stray_key(local, healthy: Healthy) -> None:
    stack, state = local
    lease = b'{"holder": "appstore-archiver request r-1", "expires": "2999-01-01T00:00:00+00:00"}'
    stack.clients.s3.put_object(Bucket=stack.env["ARCHIVE_BUCKET"], Key="appstore/state/lease.json", Body=lease)
    result = invoke("verify", "--state-file", str(state))
    assert result.exit_code == 0, result.output
    assert "no problems" in result.stdout


def test_report_limits_the_audit_to_the_types_named(local, healthy: Healthy) -> None:
    _, state = local
    healthy.replace(healthy.store_of("earnings").curated_key(Month(2024, 1)), rows="9")
    code, report = verify(state, "--report", "sales", "--report", "earnings_yearly")
    assert (code, report["reports"], report["months_checked"]) == (0, ["sales", "earnings_yearly"], 5)
    code, report = verify(state, "--report", "earnings")
    assert (code, [(p["report"], p["month"]) for p in report["problems"]]) == (1, [("earnings", "2024-01")])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def raw_bytes_changed(a: Healthy) -> None:
    a.replace(a.raw_key(FEB), body=b"other bytes")


def second_raw_object(a: Healthy) -> None:
    a.s3.put_object(Bucket=a.bucket, Key=a.store.raw_prefix(FEB) + "renamed.zip", Body=b"x", Metadata={"sha256": _sha(b"x")})


def curated_missing(a: Healthy) -> None:
    a.s3.delete_object(Bucket=a.bucket, Key=a.store.curated_key(FEB))


def curated_bytes_changed(a: Healthy) -> None:
    a.replace(a.store.curated_key(FEB), body=gzip.compress(b'"a"\n'))


def curated_unparsable(a: Healthy) -> None:
    body = gzip.compress(b'"marketplace","x\n')
    a.replace(a.store.curated_key(FEB), body=body, sha256=_sha(body))


def curated_header_differs(a: Healthy) -> None:
    key = a.store.curated_key(FEB)
    text = gzip.decompress(a.s3.get_object(Bucket=a.bucket, Key=key)["Body"].read()).replace(b'"marketplace"', b'"market"', 1)
    body = gzip.compress(text)
    a.replace(key, body=body, sha256=_sha(body))


def curated_rows_differ(a: Healthy) -> None:
    a.replace(a.store.curated_key(FEB), rows="4")


def curated_old_format(a: Healthy) -> None:
    a.replace(a.store.curated_key(FEB), columns="0123456789abcdef")


def curated_without_source(a: Healthy) -> None:
    a.replace(a.store.curated_key(FEB), **{"source-sha256": None})


def curated_from_other_raw(a: Healthy) -> None:
    a.replace(a.store.curated_key(FEB), **{"source-sha256": _sha(b"an older report")})


def partition_missing(a: Healthy) -> None:
    a.glue.delete_partition(DatabaseName=a.database, TableName=a.table, PartitionValues=["2024", "02"])


def partition_elsewhere(a: Healthy) -> None:
    values = ["2024", "02"]
    partition = a.glue.get_partition(DatabaseName=a.database, TableName=a.table, PartitionValues=values)["Partition"]
    descriptor = {**partition["StorageDescriptor"], "Location": f"s3://{a.bucket}/elsewhere/"}
    a.glue.update_partition(
        DatabaseName=a.database,
        TableName=a.table,
        PartitionValueList=values,
        PartitionInput={"Values": values, "StorageDescriptor": descriptor},
    )


def partition_without_month(a: Healthy) -> None:
    a.glue.delete_partition(DatabaseName=a.database, TableName=a.table, PartitionValues=["2024", "02"])
    for key in (a.raw_key(FEB), a.store.curated_key(FEB)):
        a.s3.delete_object(Bucket=a.bucket, Key=key)
    location = a.store.location(Month(2023, 6))
    descriptor = a.glue.get_table(DatabaseName=a.database, Name=a.table)["Table"]["StorageDescriptor"]
    a.glue.create_partition(
        DatabaseName=a.database,
        TableName=a.table,
        PartitionInput={"Values": ["2023", "06"], "StorageDescriptor": {**descriptor, "Location": location}},
    )


def partition_not_as_written(a: Healthy) -> None:
    """('2024', '2') beside ('2024', '02'), both at February's files: Athena would count February twice."""
    descriptor = a.glue.get_table(DatabaseName=a.database, Name=a.table)["Table"]["StorageDescriptor"]
    a.glue.create_partition(
        DatabaseName=a.database,
        TableName=a.table,
        PartitionInput={"Values": ["2024", "2"], "StorageDescriptor": {**descriptor, "Location": a.store.location(FEB)}},
    )


def pending_marker(a: Healthy) -> None:
    a.marker("pending", FEB)


def stray_key(a: Healthy) -> None:
    a.s3.put_object(Bucket=a.bucket, Key=f"{a.prefix}sales/year=2024/month=02/copy of sales.csv", Body=b"x")


def open_upload(a: Healthy) -> None:
    a.s3.create_multipart_upload(Bucket=a.bucket, Key=a.store.curated_key(JAN))


def table_serde_changed(a: Healthy) -> None:
    table = a.glue.get_table(DatabaseName=a.database, Name=a.table)["Table"]
    descriptor = table["StorageDescriptor"]
    descriptor["SerdeInfo"]["Parameters"]["escapeChar"] = "|"
    keep = ("Name", "StorageDescriptor", "PartitionKeys", "TableType", "Parameters")
    a.glue.update_table(DatabaseName=a.database, TableInput={k: table[k] for k in keep if k in table})


DAMAGE: list[tuple[Callable[[Healthy], None], str, str | None, str]] = [
    (raw_bytes_changed, "raw+source", "2024-02", "differs from its metadata"),
    (second_raw_object, "raw", "2024-02", "2 raw objects"),
    (curated_missing, "curated", "2024-02", "no curated object"),
    (curated_bytes_changed, "curated", "2024-02", "SHA-256 differs from its metadata"),
    (curated_unparsable, "curated", "2024-02", "does not parse"),
    (curated_header_differs, "curated", "2024-02", "header differs from the Glue columns"),
    (curated_rows_differ, "curated", "2024-02", "has 3 rows, its metadata says 4"),
    (curated_old_format, "curated", "2024-02", "older format"),
    (curated_without_source, "source", "2024-02", "does not record its source"),
    (curated_from_other_raw, "source", "2024-02", "not made from the current raw object"),
    (partition_missing, "partition", "2024-02", "no Glue partition"),
    (partition_elsewhere, "partition", "2024-02", "points at s3://"),
    (partition_without_month, "partition", "2023-06", "not archived"),
    (partition_not_as_written, "partition", None, "names no period as the archive writes it"),
    (pending_marker, "pending", "2024-02", "did not finish"),
    (stray_key, "stray", None, "outside the archive's layout"),
    (open_upload, "upload", None, "incomplete multipart upload"),
    (table_serde_changed, "table", None, "escapeChar"),
]


@pytest.mark.parametrize(("damage", "check", "month", "words"), DAMAGE, ids=[d[0].__name__ for d in DAMAGE])
def test_each_damage_is_one_problem(local, healthy: Healthy, damage, check: str, month: str | None, words: str) -> None:
    _, state = local
    damage(healthy)
    code, report = verify(state)
    assert code == 1
    checks = check.split("+")  # a changed raw object also means the curated one was not made from it
    named = "sales" if month or check in ("table", "partition") else None
    assert [(p["check"], p["report"], p["month"]) for p in report["problems"]] == [(c, named, month) for c in checks], report["problems"]
    assert words in report["problems"][0]["message"]
    assert report["summary"] == dict.fromkeys(checks, 1)


def _lease(stack, seconds: float) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """A run's lease on the archive, written now, lasting `seconds` by S3's clock."""
    body = {"holder": "appstore-archiver request r-7", "seconds": seconds, "expires": "2000-01-01T00:00:00+00:00"}  # `expires`: people's
    s3, bucket = stack.clients.s3, stack.env["ARCHIVE_BUCKET"]
    s3.put_object(Bucket=bucket, Key="appstore/state/lease.json", Body=json.dumps(body).encode())
    return dict(s3.head_object(Bucket=bucket, Key="appstore/state/lease.json"))


def test_a_live_runs_pending_marker_and_upload_are_in_progress_not_problems_and_repair_runs_nothing(local, healthy: Healthy) -> None:
    stack, state = local
    doc = json.loads(state.read_text())
    doc["function_env"]["LEASE_WAIT_SECONDS"] = "0"  # a repair run that did start would end busy at once
    state.write_text(json.dumps(doc))
    head = _lease(stack, 1200)
    assert "date" in head["ResponseMetadata"]["HTTPHeaders"]  # moto's server sends S3's Date header: expiry is judged by it
    pending_marker(healthy)
    open_upload(healthy)
    code, report = verify(state)
    assert code == 1
    assert [(p["check"], p["month"], p["repairable"], p["action"]) for p in report["problems"]] == [
        ("running", "2024-02", False, None),
        ("running", None, False, None),
    ]
    assert report["running"].startswith("a run is in progress (appstore-archiver request r-7, until ")
    assert all(p["message"].startswith(report["running"]) for p in report["problems"])
    text = invoke("verify", "--state-file", str(state))
    assert "abort-multipart-upload" not in text.stdout and "a run is in progress" in text.stdout
    asked = stack.emulator.stats()
    repaired = invoke("verify", "--state-file", str(state), "--repair")
    assert repaired.exit_code == 1, repaired.output
    assert "busy" in repaired.stdout and "no repair run" in repaired.stdout and "run busy" not in repaired.stdout
    assert (
        stack.emulator.stats() == asked
        and healthy.s3.list_objects_v2(Bucket=healthy.bucket, Prefix="appstore/state/sales/pending/")["KeyCount"] == 1
    )


def test_an_expired_lease_leaves_a_pending_marker_and_upload_problems_to_repair(local, healthy: Healthy) -> None:
    stack, state = local
    _lease(stack, 0)  # a killed run's, expired by S3's clock
    pending_marker(healthy)
    open_upload(healthy)
    code, report = verify(state)
    assert code == 1 and report["running"] is None
    assert [(p["check"], p["repairable"]) for p in report["problems"]] == [("pending", True), ("upload", False)]
    assert "no run holds the archive's lease: abort it: " in report["problems"][1]["action"]
