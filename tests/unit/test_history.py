"""The restatement history: a history object per raw version, bounded backfill, kills, and what Athena reads back."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.answers import history_upkeep
from archiver.answers.history import HISTORY_COLUMNS
from archiver.core.results import RunFailedError
from archiver.formats.sales_csv import CuratedDialect
from archiver.formats.schema import CANONICAL_COLUMNS
from archiver.run.startup import Clients
from infra.local.athena import LocalAthena
from tests.unit.conftest import BUCKET, DATABASE, TABLE, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.reports import SEED_HEADER, csv_bytes, sample_rows, zipped
from tests.unit.test_handler import MISSING, MONTHS, run

__all__ = ["run"]  # the handler tests' fixture, used here too
HISTORY = "appstore/history/sales/"
ARCHIVED = [m for m in MONTHS if m != MISSING]


class Killed(BaseException):
    """The Lambda runtime stopping the process: nothing after it runs (not an Exception, so nothing catches it)."""


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """S3's clock (LastModified), a second further at each write: fetches of one test are seconds apart, as runs are days."""
    now = [datetime(2026, 1, 1, tzinfo=UTC)]

    def tick() -> datetime:
        now[0] += timedelta(seconds=1)
        return now[0].replace(tzinfo=None)

    monkeypatch.setattr("moto.s3.models.utcnow", tick)
    yield now


def restated(month: str) -> tuple[str, bytes]:
    """The month's report as Amazon restates it: one amount cut, a refund added."""
    rows = sample_rows(month, 4)
    rows[1][14] = "1.79"
    rows.append([*rows[0][:3], f"TX-{month}-refund", rows[0][4], "Refund", *rows[0][6:11], "-1", "", "USD", "-1.99", "-1.39"])
    year, mm = month.split("-")
    return f"sales_{year}_{mm}.zip", zipped(csv_bytes(SEED_HEADER, rows))


def history_of(aws: Clients, month: str) -> list[str]:
    year, mm = month.split("-")
    return keys(aws, f"{HISTORY}year={year}/month={mm}/")


def read_rows(aws: Clients, key: str) -> list[list[str]]:
    packed = aws.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return list(csv.reader(io.StringIO(gzip.decompress(packed).decode(), newline=""), dialect=CuratedDialect))


def raw_versions(aws: Clients, month: str) -> list[dict[str, Any]]:
    year, mm = month.split("-")
    listed = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=f"appstore/raw/sales/year={year}/month={mm}/")["Versions"]
    return sorted(listed, key=lambda v: v["LastModified"])


def test_a_restated_month_keeps_every_served_version_with_its_fetch_time_and_sha256(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, aws: Clients
) -> None:
    run()
    month = ARCHIVED[-2]
    first = amazon.files[month][1]
    amazon.files[month] = restated(month)
    run()
    found = history_of(aws, month)
    assert len(found) == 2 and len(history_of(aws, ARCHIVED[-1])) == 1  # the other months: one version each
    served = [hashlib.sha256(first).hexdigest(), hashlib.sha256(amazon.files[month][1]).hexdigest()]
    for key, raw, sha256, count in zip(found, raw_versions(aws, month), served, (4, 5), strict=True):
        rows = read_rows(aws, key)
        assert rows[0] == [*CANONICAL_COLUMNS, *HISTORY_COLUMNS]
        assert len(rows) == count + 1
        fetched = raw["LastModified"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        assert {tuple(row[-2:]) for row in rows[1:]} == {(fetched, sha256)}
        assert key.endswith(f"{raw['LastModified'].astimezone(UTC):%Y%m%dT%H%M%SZ}-{sha256}.csv.gz")
    year, mm = month.split("-")
    current = read_rows(aws, f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz")
    assert [row[:-2] for row in read_rows(aws, found[1])] == current  # the same curating code, two columns more
    partitions = aws.glue.get_partitions(DatabaseName=DATABASE, TableName=f"{TABLE}_history")["Partitions"]
    locations = {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in partitions}
    assert locations[(month[:4], month[5:])] == f"s3://{BUCKET}/{HISTORY}year={month[:4]}/month={month[5:]}/"
    assert len(locations) == len(ARCHIVED)


def test_a_daily_run_in_which_nothing_changed_writes_no_history(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    before = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=HISTORY)["Versions"]
    run()
    assert aws.s3.list_object_versions(Bucket=BUCKET, Prefix=HISTORY)["Versions"] == before
    assert len(before) == len(ARCHIVED)


def test_an_existing_archive_gains_its_history_over_bounded_runs_newest_month_first(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_upkeep, "COPIES_PER_RUN", 0)  # the archive as an earlier version left it: no history
    run()
    amazon.files[ARCHIVED[-2]] = restated(ARCHIVED[-2])
    run()
    assert not keys(aws, HISTORY)
    monkeypatch.setattr(history_upkeep, "COPIES_PER_RUN", 2)
    made: list[list[str]] = []
    for _ in range(4):
        before = set(keys(aws, HISTORY))
        run()
        made.append(sorted(k.split("/")[3] + "/" + k.split("/")[4] for k in set(keys(aws, HISTORY)) - before))
    newest, older = ARCHIVED[-1], ARCHIVED[-2]
    part = {m: f"year={m[:4]}/month={m[5:]}" for m in ARCHIVED}
    assert made[0] == sorted([part[newest], part[older]])  # the current month, then the restated month's first fetch
    assert made[1] == sorted([part[older], part[ARCHIVED[-3]]])
    assert made[2] == sorted([part[ARCHIVED[-4]], part[ARCHIVED[-5]]]) and made[3] == []  # 5 months + 1 restatement: 2 + 2 + 2
    assert len(keys(aws, HISTORY)) == len(ARCHIVED) + 1


def test_a_run_killed_during_the_history_copy_leaves_no_half_object_and_the_next_run_completes_it(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_object = aws.s3.put_object

    def killed_mid_upload(**params: Any) -> Any:
        if not params["Key"].startswith(HISTORY):
            return put_object(**params)
        body = params["Body"]

        class Half(io.RawIOBase):
            """The history file's bytes, until the process dies halfway through sending them."""

            sent = 0

            def readable(self) -> bool:
                return True

            def readinto(self, buffer: Any) -> int:
                if self.sent:
                    raise Killed
                data = body.read(max(1, len(buffer) // 2))
                buffer[: len(data)] = data
                self.sent += len(data)
                return len(data)

        return put_object(**{**params, "Body": io.BufferedReader(Half())})

    monkeypatch.setattr(aws.s3, "put_object", killed_mid_upload)
    with pytest.raises(Killed):
        run()
    assert not keys(aws, HISTORY)  # not a half object: none
    assert not aws.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
    monkeypatch.setattr(aws.s3, "put_object", put_object)
    run()
    found = keys(aws, HISTORY)
    assert len(found) == len(ARCHIVED)
    for key in found:
        rows = read_rows(aws, key)
        assert rows[0] == [*CANONICAL_COLUMNS, *HISTORY_COLUMNS] and len(rows) == 5
    assert len(aws.glue.get_partitions(DatabaseName=DATABASE, TableName=f"{TABLE}_history")["Partitions"]) == len(ARCHIVED)


def test_a_failing_history_copy_fails_the_run_at_its_end_and_the_next_run_makes_it(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    put_object = aws.s3.put_object

    def refused(**params: Any) -> Any:
        if params["Key"].startswith(HISTORY):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "PutObject")
        return put_object(**params)

    monkeypatch.setattr(aws.s3, "put_object", refused)
    with pytest.raises(RunFailedError, match="HistoryError: history not complete"):  # not silent: the run's error, its alarm
        run()
    assert len(keys(aws, "appstore/raw/sales/")) == len(ARCHIVED)  # the months themselves are archived
    assert not keys(aws, HISTORY)
    monkeypatch.setattr(aws.s3, "put_object", put_object)
    run()
    assert len(keys(aws, HISTORY)) == len(ARCHIVED)


def test_a_second_copy_of_a_version_changes_nothing(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    """A retry, or an overlapping run, finds the object there (If-None-Match) and leaves it as it is."""
    run()
    key = keys(aws, HISTORY)[0]
    before = aws.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"]
    aws.s3.delete_object(Bucket=BUCKET, Key=keys(aws, HISTORY)[1])  # one copy missing: the next run makes it again
    store_keys = set(keys(aws, HISTORY))
    run()
    assert aws.s3.list_object_versions(Bucket=BUCKET, Prefix=key)["Versions"] == before
    assert len(set(keys(aws, HISTORY)) - store_keys) == 1


def test_the_history_reads_back_exactly_as_athena_serde_reads_it(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, aws: Clients
) -> None:
    titles = ["C:\\", "a\\b", '"Quoted" start', 'ends with quote"', '\\"mixed\\', "", 'Café, "Deluxe"', "Multi\nLine"]
    month = ARCHIVED[-1]
    rows = [[*row[:7], title, *row[8:]] for row, title in zip(sample_rows(month, len(titles)), titles, strict=True)]
    amazon.files[month] = (amazon.files[month][0], zipped(csv_bytes(SEED_HEADER, rows)))
    run()
    with LocalAthena(aws.glue, aws.s3, DATABASE, TABLE) as athena:
        year, mm = month.split("-")
        result = athena.query(
            f"SELECT title, fetched_at, source_sha256 FROM {TABLE}_history WHERE year = '{year}' AND month = '{mm}' ORDER BY invoice_id"
        )
    sha256 = hashlib.sha256(amazon.files[month][1]).hexdigest()
    assert [row[0] for row in result.rows] == [t.replace("\n", " ") for t in titles]
    assert {row[2] for row in result.rows} == {sha256} and all(len(row[1]) == 19 for row in result.rows)


def test_two_fetches_in_one_second_each_get_their_copy(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, aws: Clients, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A listing names no SHA-256: versions of one stamp are copied until the stamp has as many copies (If-None-Match: no-op)."""
    run()
    month = ARCHIVED[-1]
    (raw,) = raw_versions(aws, month)
    monkeypatch.setattr("moto.s3.models.utcnow", lambda: clock[0].replace(tzinfo=None))  # every write from now on: one second
    amazon.files[month] = restated(month)
    run()  # the restatement and its copy
    assert len(history_of(aws, month)) == 2
    aws.s3.copy_object(  # and the first version's bytes again (metadata copied), in that same second
        Bucket=BUCKET, Key=raw["Key"], CopySource={"Bucket": BUCKET, "Key": raw["Key"], "VersionId": raw["VersionId"]}
    )
    other = {"months": [ARCHIVED[0]]}  # a run that does not fetch the month again
    run(other)  # the restatement's copy is there (If-None-Match answers 412: a no-op), the new version's is made
    stamp = f"{clock[0]:%Y%m%dT%H%M%SZ}"
    found = history_of(aws, month)
    assert len(found) == 3 and len([key for key in found if f"/{stamp}-" in key]) == 2
    run(other)  # settled: as many copies as versions in that second, nothing more
    assert history_of(aws, month) == found


def test_a_raw_version_the_converter_cannot_read_gets_no_copy_and_fails_no_run(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    month = ARCHIVED[0]  # outside the lookback: no run fetches it again
    year, mm = month.split("-")
    (raw_key,) = keys(aws, f"appstore/raw/sales/year={year}/month={mm}/")
    body = b"neither gzip nor zip"  # a version today's converter cannot read, its SHA-256 right
    aws.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=body, Metadata={"sha256": hashlib.sha256(body).hexdigest()})
    run()  # its history copy is skipped with a warning: no run could make it, so none fails for it
    assert len(history_of(aws, month)) == 1  # the readable version's copy only
