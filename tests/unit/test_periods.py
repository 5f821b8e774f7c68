"""The periods table: one row per report type and period, written whole by each run only when it changed."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any

import pytest

from archiver.answers.completeness import COLUMNS, STATUSES, PeriodRow, period_rows
from archiver.answers.periods_table import decode, encode, periods_key
from archiver.answers.periods_upkeep import MIN_SECONDS, Recorder
from archiver.core.months import Month
from archiver.core.report_types import SALES
from archiver.core.results import RunFailedError
from archiver.run.startup import Clients
from archiver.storage.store import ArchiveStore
from tests.unit.conftest import BUCKET
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import CURRENT, MISSING, MONTHS, START, report, run

__all__ = ["run"]  # the handler tests' fixture, used here too

KEY = periods_key("appstore/", SALES)


def table(aws: Clients) -> dict[str, dict[str, Any]]:
    """The sales periods object's rows by period, read as JSON Lines."""
    body = gzip.decompress(aws.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read())
    rows = [json.loads(line) for line in body.decode("ascii").splitlines()]
    assert all(list(row) == [name for name, _ in COLUMNS] for row in rows), "every key, by column name, in column order"
    return {row["period"]: row for row in rows}


def table_versions(aws: Clients) -> list[Any]:
    return [v for v in aws.s3.list_object_versions(Bucket=BUCKET, Prefix=KEY).get("Versions", []) if v["Key"] == KEY]


def test_every_month_has_a_row_and_a_missing_month_is_not_found(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    rows = table(aws)
    assert list(rows) == MONTHS  # a row per month from START_MONTH to the current month
    assert rows[MISSING]["status"] == "not_found" and rows[MISSING]["row_count"] is None and rows[MISSING]["sha256"] is None
    month = str(CURRENT)
    name, served = amazon.files[month]
    assert rows[month]["status"] == "archived" and rows[month]["row_count"] == 4
    assert (rows[month]["served_name"], rows[month]["sha256"]) == (name, hashlib.sha256(served).hexdigest())
    assert (rows[month]["year"], rows[month]["month"]) == (month[:4], month[5:])
    assert rows[month]["first_archived"] == rows[month]["last_changed"] and rows[month]["last_changed"].endswith("Z")
    assert rows[month]["last_error"] is None


def test_a_run_in_which_nothing_changed_writes_nothing(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    run()
    assert len(table_versions(aws)) == 1


def test_a_restated_month_changes_its_row_and_keeps_when_it_was_first_archived(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = str(CURRENT)
    before = table(aws)[month]
    amazon.files[month] = report(month, n=6)
    run()
    after = table(aws)[month]
    assert after["row_count"] == 6 and after["sha256"] == hashlib.sha256(amazon.files[month][1]).hexdigest() != before["sha256"]
    assert after["first_archived"] == before["first_archived"] and after["last_changed"] >= before["last_changed"]
    assert len(table_versions(aws)) == 2


def test_a_quarantined_month_shows_its_error_and_keeps_its_figures(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = str(CURRENT)
    archived = table(aws)[month]
    name, good = amazon.files[month]
    amazon.files[month] = (name, good[: len(good) // 2])
    with pytest.raises(RunFailedError):
        run()
    row = table(aws)[month]
    assert row["status"] == "quarantined" and row["last_error"] and "quarantine/sales/" in row["last_error"]
    assert (row["row_count"], row["sha256"]) == (archived["row_count"], archived["sha256"])  # what the table still holds


def test_a_failed_month_keeps_its_status_and_error_until_a_run_reports_on_it(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    amazon.download_faults = [403] * 3  # the first month asked fails, before its commit point
    with pytest.raises(RunFailedError):
        run({"months": [MONTHS[0]]})
    failed = table(aws)[MONTHS[0]]
    assert failed["status"] == "failed" and "403" in failed["last_error"] and failed["sha256"] is None
    run({"months": [MONTHS[-1]]})  # another month: the failure is still what is known of the first
    rows = table(aws)
    assert rows[MONTHS[0]] == failed
    assert rows[MONTHS[2]]["status"] == "deferred" and rows[MONTHS[2]]["last_error"] is None  # never asked yet: due
    run({"months": [MONTHS[0]]})
    assert table(aws)[MONTHS[0]]["status"] == "archived" and table(aws)[MONTHS[0]]["last_error"] is None


def test_a_pending_month_and_an_unsupported_type(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", SALES)
    store.put_intent(START, {"txn": "t1"})
    rows = {row.period: row for row in period_rows(store, START, START.shift(1))}
    assert (rows[str(START)].status, rows[str(START.shift(1))].status) == ("pending", "deferred")
    store.set_unsupported()
    assert period_rows(store, START, START)[0].status == "pending"
    assert period_rows(store, START.shift(1), START.shift(1))[0].status == "unsupported"


def test_a_failed_table_write_leaves_the_previous_object_whole_and_never_fails_the_run(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    before = aws.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read()
    amazon.files[str(CURRENT)] = report(str(CURRENT), n=7)

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == KEY:
            raise ConnectionError("killed during the table write")

    aws.s3.meta.events.register("before-parameter-build.s3.PutObject", refuse)
    try:
        results = run()["results"]
    finally:
        aws.s3.meta.events.unregister("before-parameter-build.s3.PutObject", refuse)
    assert {r["month"]: r["status"] for r in results}[str(CURRENT)] == "archived"
    assert aws.s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == before
    run()  # the next run writes it
    assert table(aws)[str(CURRENT)]["row_count"] == 7


def test_the_row_fields_are_the_columns_and_rows_use_the_listed_statuses(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    assert tuple(f.name for f in fields(PeriodRow)) == tuple(name for name, _ in COLUMNS)
    run()
    assert {row["status"] for row in table(aws).values()} <= set(STATUSES)


def test_decode_reads_what_encode_wrote_and_ignores_unknown_keys(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", SALES)
    rows = period_rows(store, Month(2024, 1), Month(2024, 2))
    body = b"".join(json.dumps({**row.record(), "account": "1"}).encode() + b"\n" for row in rows)
    assert list(decode(body).values()) == rows


def test_every_line_is_one_json_object_the_hive_json_serde_reads_exactly() -> None:
    """Hive's JsonSerDe (Jackson) reads one JSON object per text line, keys matched to the lower-case column names;
    a string column takes a JSON string or null, a bigint column a JSON integer or null. TextInputFormat splits lines
    on \\n and \\r only: with ensure_ascii every control character, U+2028 and non-ASCII text is a JSON escape."""
    error = 'a "quoted" C:\\path\r\nsecond line\ttab ü € 😀 \u2028 \x00 end'
    row = PeriodRow("sales", "2024-03", "2024", "03", "failed", 2**62, "sales 2024 03.zip", "ab" * 32, None, None, error)
    body = encode([row, PeriodRow("earnings_yearly", "2024", "2024", None, "deferred")])
    assert body.count(b"\n") == 2 and b"\r" not in body and max(body) < 0x80 and min(body.replace(b"\n", b" ")) >= 0x20
    kinds = {"string": str, "bigint": int}
    for line, expected in zip(body.splitlines(), (row, None), strict=True):
        record = json.loads(line)
        assert list(record) == [name.lower() for name, _ in COLUMNS]
        for name, kind in COLUMNS:
            assert record[name] is None or type(record[name]) is kinds[kind], name
        if expected is not None:
            assert record["last_error"] == error and record["row_count"] == 2**62


def test_a_failure_is_not_remembered_for_a_period_the_bucket_has(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    """A failed partition repair of an archived month outside the window: a later run repairs it without a result."""
    run()
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", SALES)
    rows = {row.period: row for row in period_rows(store, START, CURRENT)}
    failed = replace(rows[str(START)], status="failed", last_error="partition could not be registered: boom")
    again = period_rows(store, START, CURRENT, previous={**rows, str(START): failed})[0]
    assert (again.status, again.last_error, again.row_count) == ("archived", failed.last_error, 4)


def test_a_table_is_left_to_the_next_run_when_the_run_is_short_of_time(aws: Clients) -> None:
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", SALES)
    Recorder(START, CURRENT, lambda: MIN_SECONDS - 1).record(store)
    assert table_versions(aws) == []
    Recorder(START, CURRENT, lambda: MIN_SECONDS).record(store)
    assert list(table(aws)) == MONTHS


def test_a_month_whose_curated_copy_is_gone_is_not_archived_but_failed(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    month = MONTHS[0]
    year, mm = month.split("-")
    aws.s3.delete_object(Bucket=BUCKET, Key=f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz")  # a delete marker
    store = ArchiveStore(aws.s3, BUCKET, "appstore/", SALES)
    rows = {row.period: row for row in period_rows(store, START, CURRENT)}
    assert rows[month].status == "failed"  # not queryable: a SUM would read it as zero, so it is never `archived`
    assert rows[month].last_error is not None and "curated copy is missing" in rows[month].last_error
    assert rows[str(CURRENT)].status == "archived"
