"""The handler end to end: in-process moto AWS plus the mocked Appstore API."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest

import app
from archiver.months import Month
from archiver.report import RunFailedError
from archiver.schema import CANONICAL_COLUMNS
from archiver.service import Clients
from tests.unit.conftest import BUCKET, DATABASE, SECRET, TABLE, keys, versions
from tests.unit.fake_appstore import CLIENT_SECRET, SIGNATURE, FakeAppstore
from tests.unit.reports import SEED_HEADER, csv_bytes, gzipped, sample_rows, zipped

CURRENT = Month.of(datetime.now(UTC))
START = CURRENT.shift(-5)
MONTHS = [str(m) for m in START.through(CURRENT)]
MISSING = MONTHS[1]  # Amazon has no report for this month


@dataclass
class Context:
    """A stand-in for the Lambda context object."""

    remaining_ms: int = 900_000
    function_name: str = "archiver"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:archiver"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def report(month: str, n: int = 4, kind: str = "zip") -> tuple[str, bytes]:
    data = csv_bytes(SEED_HEADER, sample_rows(month, n))
    year, mm = month.split("-")
    return (f"sales_{year}_{mm}.zip", zipped(data)) if kind == "zip" else (f"sales_{year}_{mm}.gz", gzipped(data))


@pytest.fixture
def run(aws: Clients, amazon: FakeAppstore, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    """Invoke the real handler with the template's environment and moto-backed clients."""
    env["START_MONTH"] = str(START)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(app, "clients", lambda: aws)
    amazon.files = {m: report(m) for m in MONTHS if m != MISSING}

    def invoke(event: dict[str, Any] | None = None, context: Context | None = None) -> dict[str, Any]:
        return cast(dict[str, Any], app.lambda_handler(event if event is not None else {}, cast(Any, context or Context())))

    return invoke


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every JSON log line the handler writes, formatted exactly as in Lambda."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(app.logger.registered_formatter)
    std_logger = logging.getLogger(app.logger.name)
    std_logger.addHandler(handler)
    yield buffer
    std_logger.removeHandler(handler)


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {r["month"]: r["status"] for r in result["results"]}


def partitions(aws: Clients) -> dict[tuple[str, ...], str]:
    parts = aws.glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"]["Location"] for p in parts}


def emitted_metrics(text: str) -> dict[str, float]:
    """Sum the EMF metric values printed to stdout."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[metric["Name"]]
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + (sum(value) if isinstance(value, list) else value)
    return totals


def test_backfill_archives_every_month_as_the_contract_says(run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore) -> None:
    result = run()
    expected = {m: "archived" for m in MONTHS} | {MISSING: "not_found"}
    assert statuses(result) == expected
    for entry in result["results"]:
        if entry["status"] != "archived":
            assert entry["raw_key"] is None and entry["curated_key"] is None
            continue
        year, mm = entry["month"].split("-")
        assert entry["raw_key"] == f"appstore/raw/sales/year={year}/month={mm}/sales_{year}_{mm}.zip"
        assert entry["curated_key"] == f"appstore/sales/year={year}/month={mm}/sales_{year}_{mm}.csv.gz"
        assert entry["rows"] == 4
        served = amazon.files[entry["month"]][1]
        assert entry["bytes"] == len(served) and entry["sha256"] == hashlib.sha256(served).hexdigest()
        raw = aws.s3.get_object(Bucket=BUCKET, Key=entry["raw_key"])
        assert raw["Body"].read() == served
        assert raw["Metadata"]["sha256"] == entry["sha256"]
        curated = aws.s3.get_object(Bucket=BUCKET, Key=entry["curated_key"])
        packed = curated["Body"].read()
        assert curated["Metadata"]["sha256"] == hashlib.sha256(packed).hexdigest()
        assert gzip.decompress(packed).decode().splitlines()[0] == ",".join(f'"{c}"' for c in CANONICAL_COLUMNS)
    archived = [m for m in MONTHS if m != MISSING]
    assert partitions(aws) == {(m[:4], m[5:]): f"s3://{BUCKET}/appstore/sales/year={m[:4]}/month={m[5:]}/" for m in archived}
    assert [k for k in keys(aws, "appstore/sales/")] == sorted(
        f"appstore/sales/year={m[:4]}/month={m[5:]}/sales_{m[:4]}_{m[5:]}.csv.gz" for m in archived
    )
    assert keys(aws, "appstore/state/") == [f"appstore/state/sales/not_found/{MISSING}.json"]
    assert amazon.calls["token"] == 1


def test_rerun_writes_nothing_and_skips_old_not_found_months(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    before = versions(aws)
    amazon.calls.clear()
    result = run()
    window = {str(CURRENT.shift(-k)) for k in range(3)}
    assert statuses(result) == {m: "unchanged" for m in window}
    assert versions(aws) == before
    assert amazon.calls["report"] == 3


def test_a_restated_month_is_rearchived_and_the_others_are_untouched(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    restated = str(CURRENT.shift(-1))
    amazon.files[restated] = report(restated, n=7)
    before = {v["Key"]: v["VersionId"] for v in versions(aws)}
    result = run()
    assert statuses(result)[restated] == "archived"
    assert next(r for r in result["results"] if r["month"] == restated)["rows"] == 7
    changed = {v["Key"] for v in versions(aws) if v["Key"] not in before or before[v["Key"]] != v["VersionId"]}
    assert all(restated.replace("-", "_") in key for key in changed) and len(changed) == 2


def test_a_restatement_served_as_gzip_replaces_the_zip_raw_copy(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = str(CURRENT)
    amazon.files[month] = report(month, kind="gzip")
    run({"months": [month]})
    assert keys(aws, f"appstore/raw/sales/year={month[:4]}/month={month[5:]}/") == [
        f"appstore/raw/sales/year={month[:4]}/month={month[5:]}/sales_{month[:4]}_{month[5:]}.gz"
    ]


def test_force_rewrites_unchanged_months(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    month = MONTHS[0]
    assert statuses(run({"months": [month]})) == {month: "unchanged"}
    assert statuses(run({"months": [month], "force": True})) == {month: "archived"}


def test_range_event(run: Callable[..., dict[str, Any]]) -> None:
    assert list(statuses(run({"from": MONTHS[2], "to": MONTHS[3]}))) == MONTHS[2:4]


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"months": ["2024-3"]}, "'2024-3'"),
        ({"months": ["2017-12"]}, "2017-12"),
        ({"from": str(CURRENT), "to": str(CURRENT.shift(1))}, str(CURRENT.shift(1))),
        ({"from": MONTHS[3], "to": MONTHS[2]}, "is after"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_invalid_events_fail_before_any_side_effect(
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    capsys: pytest.CaptureFixture[str],
    event: dict[str, Any],
    message: str,
) -> None:
    with pytest.raises(ValueError, match=message):
        run(event)
    assert keys(aws) == []
    assert sum(amazon.calls.values()) == 0
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics.get("RunFailed") == 1 and "RunSucceeded" not in metrics


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "could not be read"),
        ("not json", "is not a JSON object"),
        (json.dumps(["a"]), "is not a JSON object"),
        (json.dumps({"client_id": "id-only"}), "'client_secret'"),
        (json.dumps({"client_secret": CLIENT_SECRET}), "'client_id'"),
    ],
)
def test_bad_secret_fails_before_any_appstore_call(
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    capsys: pytest.CaptureFixture[str],
    secret: str | None,
    message: str,
) -> None:
    if secret is None:
        aws.secrets.delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)
    else:
        aws.secrets.put_secret_value(SecretId=SECRET, SecretString=secret)
    with pytest.raises(ValueError, match=message) as caught:
        run()
    assert CLIENT_SECRET not in str(caught.value) and "id-only" not in str(caught.value)
    assert sum(amazon.calls.values()) == 0
    output = capsys.readouterr().out
    assert CLIENT_SECRET not in output and "id-only" not in output
    assert emitted_metrics(output).get("RunFailed") == 1


def test_missing_glue_table_fails_before_writing(run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore) -> None:
    aws.glue.delete_table(DatabaseName=DATABASE, Name=TABLE)
    with pytest.raises(RuntimeError, match=f"{DATABASE}.{TABLE} does not exist"):
        run()
    assert keys(aws) == []


def test_a_bad_month_fails_alone_and_keeps_its_previous_archive(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, capsys: pytest.CaptureFixture[str]
) -> None:
    run()
    month = str(CURRENT)
    before = versions(aws)
    parts_before = partitions(aws)
    name, good = amazon.files[month]
    amazon.files[month] = (name, good[: len(good) // 2])
    capsys.readouterr()
    with pytest.raises(RunFailedError, match=month) as caught:
        run()
    assert "1 month(s) failed" in str(caught.value)
    assert versions(aws) == before
    assert partitions(aws) == parts_before
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["MonthsFailed"] == 1 and metrics["MonthsUnchanged"] == 2
    assert metrics["RunFailed"] == 1 and "RunSucceeded" not in metrics


def test_success_metrics(run: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str]) -> None:
    run()
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["MonthsArchived"] == len(MONTHS) - 1
    assert metrics["MonthsNotFound"] == 1
    assert metrics["RowsArchived"] == 4 * (len(MONTHS) - 1)
    assert metrics["BytesArchived"] > 0
    assert metrics["RunSucceeded"] == 1 and "RunFailed" not in metrics
    assert metrics["SchemaDrift"] == 0


def test_schema_drift_is_reported(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    month = str(CURRENT)
    data = csv_bytes([*SEED_HEADER, "Promotion ID"], [[*row, "P-1"] for row in sample_rows(month)])
    amazon.files[month] = (amazon.files[month][0], zipped(data))
    result = run({"months": [month]})
    assert result["results"][0]["unknown_columns"] == ["Promotion ID"]
    assert emitted_metrics(capsys.readouterr().out)["SchemaDrift"] == 1
    assert '"level":"WARNING"' in logs.getvalue() and "schema drift" in logs.getvalue()


def test_logs_never_contain_the_secret_token_or_signature(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    run()
    amazon.download_faults = [403]
    amazon.report_faults = [401]
    run({"months": [str(CURRENT)], "force": True})
    output = capsys.readouterr()
    text = output.out + output.err + logs.getvalue()
    for needle in (CLIENT_SECRET, "Atc|", SIGNATURE, "X-Amz-Signature"):
        assert needle not in text
    assert sum('"level":"INFO"' in line and '"report":"sales"' in line for line in text.splitlines()) == len(MONTHS) + 1


def test_time_running_out_defers_the_rest_to_the_front_of_the_next_run(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    result = run({"months": MONTHS[:3]}, Context(remaining_ms=60_000))
    assert statuses(result) == {m: "deferred" for m in MONTHS[:3]}
    assert keys(aws, "appstore/state/sales/deferred/") == [f"appstore/state/sales/deferred/{m}.json" for m in MONTHS[:3]]
    result = run()
    assert [r["month"] for r in result["results"]][:3] == MONTHS[:3]
    assert keys(aws, "appstore/state/sales/deferred/") == []


def test_partition_at_the_wrong_location_is_corrected(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    run()
    month = str(CURRENT)
    values = [month[:4], month[5:]]
    part = aws.glue.get_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=values)["Partition"]
    descriptor: Any = {**part["StorageDescriptor"], "Location": "s3://elsewhere/"}
    aws.glue.update_partition(
        DatabaseName=DATABASE,
        TableName=TABLE,
        PartitionValueList=values,
        PartitionInput={"Values": values, "StorageDescriptor": descriptor},
    )
    run()
    assert partitions(aws)[tuple(values)] == f"s3://{BUCKET}/appstore/sales/year={values[0]}/month={values[1]}/"


def test_empty_prefix(run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARCHIVE_PREFIX", "")
    month = str(CURRENT)
    run({"months": [month]})
    assert f"sales/year={month[:4]}/month={month[5:]}/sales_{month[:4]}_{month[5:]}.csv.gz" in keys(aws)


def test_expired_link_is_retried_with_a_fresh_link(run: Callable[..., dict[str, Any]], amazon: FakeAppstore) -> None:
    amazon.download_faults = [403]
    month = str(CURRENT)
    assert statuses(run({"months": [month]})) == {month: "archived"}
    assert amazon.calls["report"] == 2
    assert all("Authorization" not in headers for headers in amazon.download_headers)
