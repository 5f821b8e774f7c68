"""The handler end to end: in-process moto AWS plus the mocked Appstore API."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

import app
from archiver.amazon.appstore import AppstoreError, CredentialsError
from archiver.core.months import Month
from archiver.core.results import RunFailedError
from archiver.core.settings import ConfigError
from archiver.formats.schema import CANONICAL_COLUMNS
from archiver.run import pipeline
from archiver.run.startup import Clients
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
    history = {key for key in changed if key.startswith("appstore/history/")}  # the new version's history copy, a new key
    assert len(history) == 1 and f"/year={restated[:4]}/month={restated[5:]}/" in history.pop()
    changed = {key for key in changed if not key.startswith("appstore/history/")}
    assert "appstore/periods/sales.json.gz" in changed  # the periods table records the new figures
    changed.discard("appstore/periods/sales.json.gz")
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
    assert keys(aws) == []  # not even the periods table: a type whose Glue table is missing is only settled


def test_a_bad_month_fails_alone_and_keeps_its_previous_archive(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, capsys: pytest.CaptureFixture[str]
) -> None:
    run()
    month = str(CURRENT)
    before = [v for v in versions(aws) if "/periods/" not in v["Key"]]  # the periods table records the failure
    parts_before = partitions(aws)
    name, good = amazon.files[month]
    amazon.files[month] = (name, good[: len(good) // 2])
    capsys.readouterr()
    with pytest.raises(RunFailedError, match=month) as caught:
        run()
    assert "1 month(s) failed" in str(caught.value)
    (kept,) = [v for v in versions(aws) if "/quarantine/" in v["Key"]]  # the served bytes are kept, outside raw/ and sales/
    assert aws.s3.get_object(Bucket=BUCKET, Key=kept["Key"])["Body"].read() == good[: len(good) // 2]
    assert kept["Key"] in str(caught.value)
    assert [v for v in versions(aws) if "/quarantine/" not in v["Key"] and "/periods/" not in v["Key"]] == before
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


def fail_calls(client: Any, operation: str, code: str, when: Callable[[dict[str, Any]], bool] = lambda params: True) -> list[str]:
    """Make one operation of a boto3 client fail with an AWS error (when `when` holds for its parameters)."""
    failed: list[str] = []

    def refuse(params: dict[str, Any], **kwargs: Any) -> None:
        if when(params):
            failed.append(str(params))
            raise ClientError({"Error": {"Code": code, "Message": "injected"}}, operation)

    client.meta.events.register(f"before-parameter-build.{client.meta.service_model.service_name}.{operation}", refuse)
    return failed


def glue_calls(aws: Clients) -> list[str]:
    """Record the names of the Glue operations the handler calls from now on."""
    calls: list[str] = []
    aws.glue.meta.events.register("before-call.glue.*", lambda model, **kwargs: calls.append(model.name))
    return calls


def move_partition(aws: Clients, month: str, location: str) -> None:
    values = [month[:4], month[5:]]
    part = aws.glue.get_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=values)["Partition"]
    descriptor: Any = {**part["StorageDescriptor"], "Location": location}
    aws.glue.update_partition(
        DatabaseName=DATABASE,
        TableName=TABLE,
        PartitionValueList=values,
        PartitionInput={"Values": values, "StorageDescriptor": descriptor},
    )


def test_partitions_of_months_outside_the_plan_are_repaired_without_a_download(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, logs: io.StringIO
) -> None:
    gone, moved = MONTHS[0], MONTHS[2]  # older than the lookback window
    run({"months": [gone, moved]})
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[gone[:4], gone[5:]])
    move_partition(aws, moved, "s3://elsewhere/")

    def old_objects() -> list[tuple[str, str]]:
        found = [v for v in versions(aws) if not v["Key"].startswith("appstore/history/")]  # their raw and curated copies
        return [(v["Key"], v["VersionId"]) for v in found if any(f"year={m[:4]}/month={m[5:]}/" in v["Key"] for m in (gone, moved))]

    objects = old_objects()
    amazon.calls.clear()
    result = run()
    assert statuses(result) == {str(CURRENT.shift(-k)): "archived" for k in range(3)} | {MISSING: "not_found"}  # not the two
    assert (amazon.calls["report"], amazon.calls["download"]) == (4, 3)
    archived = [gone, moved, *(str(CURRENT.shift(-k)) for k in range(3))]
    assert partitions(aws) == {(m[:4], m[5:]): f"s3://{BUCKET}/appstore/sales/year={m[:4]}/month={m[5:]}/" for m in archived}
    assert old_objects() == objects and len(objects) == 4
    assert f"sales {gone}: partition created" in logs.getvalue() and f"sales {moved}: partition updated" in logs.getvalue()
    calls = glue_calls(aws)
    run()  # a healthy archive: one partition listing, no Glue write
    # one listing answers every month's partition check, in the sales table and in its history table
    assert sorted(calls) == ["GetPartitions", "GetPartitions", "GetTable", "GetTable"]


@pytest.mark.parametrize("served", ["half", "nothing"])
def test_an_archived_month_gets_its_partition_back_even_when_its_own_fetch_fails_or_finds_nothing(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, served: str
) -> None:
    run()
    month = str(CURRENT)  # planned by every run: the repair must not wait for the month's own archive step
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[month[:4], month[5:]])
    before = [v for v in versions(aws) if "/quarantine/" not in v["Key"] and "/periods/" not in v["Key"]]
    name, good = amazon.files[month]
    if served == "half":  # the month fails before its commit point
        amazon.files[month] = (name, good[: len(good) // 2])
        with pytest.raises(RunFailedError, match=f"1 month\\(s\\) failed: {month}"):
            run()
    else:  # Amazon no longer has it: `not_found`, and the archive keeps what it has
        del amazon.files[month]
        assert statuses(run())[month] == "not_found"
    assert [v for v in versions(aws) if "/quarantine/" not in v["Key"] and "/periods/" not in v["Key"]] == before
    assert partitions(aws)[(month[:4], month[5:])] == f"s3://{BUCKET}/appstore/sales/year={month[:4]}/month={month[5:]}/"


@pytest.mark.parametrize("served", ["restated", "same", "nothing", "half"])
def test_a_fetched_month_whose_partition_repair_fails_is_reported_once_and_truthfully(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, served: str
) -> None:
    run()
    month = str(CURRENT)
    values = [month[:4], month[5:]]
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=values)
    asked: list[int] = []

    def refused(params: dict[str, Any]) -> bool:  # the run-start repair's call only, or every call
        asked.append(1) if params["PartitionValues"] == values else None
        return params["PartitionValues"] == values and (served not in ("restated", "same") or len(asked) == 1)

    fail_calls(aws.glue, "GetPartition", "AccessDeniedException", refused)
    if served in ("restated", "same"):  # its own commit, or its unchanged check, registers it: one result, no error
        if served == "restated":
            amazon.files[month] = (amazon.files[month][0], report(month, n=9)[1])
        (result,) = [r for r in run()["results"] if r["month"] == month]
        assert (result["status"], result["error"]) == ("archived" if served == "restated" else "unchanged", None)
        assert partitions(aws)[tuple(values)] == f"s3://{BUCKET}/appstore/sales/year={values[0]}/month={values[1]}/"
    elif served == "nothing":  # Amazon no longer serves it: `not_found`, then the partition failure, which fails the run
        del amazon.files[month]
        with pytest.raises(RunFailedError, match=f"1 month\\(s\\) failed: {month}: partition could not be registered"):
            run()
        assert tuple(values) not in partitions(aws)
    else:  # the month's own attempt fails too: one `failed` result naming both
        name, good = amazon.files[month]
        amazon.files[month] = (name, good[: len(good) // 2])
        with pytest.raises(RunFailedError, match=f"1 month\\(s\\) failed: {month}: .+; partition could not be registered"):
            run()


def test_a_partition_put_right_at_the_run_start_is_not_asked_for_again_by_the_months_commit(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    month = str(CURRENT)
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[month[:4], month[5:]])
    amazon.files[month] = (amazon.files[month][0], report(month, n=9)[1])
    calls = glue_calls(aws)
    (result,) = [r for r in run()["results"] if r["month"] == month]
    assert result["status"] == "archived"
    assert (calls.count("GetPartition"), calls.count("CreatePartition"), calls.count("UpdatePartition")) == (1, 1, 0)


def test_a_partition_that_cannot_be_repaired_fails_its_month(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    old = MONTHS[0]
    run({"months": [old]})
    aws.glue.delete_partition(DatabaseName=DATABASE, TableName=TABLE, PartitionValues=[old[:4], old[5:]])
    fail_calls(
        aws.glue, "CreatePartition", "InternalServiceException", lambda params: params["PartitionInput"]["Values"] == [old[:4], old[5:]]
    )
    with pytest.raises(RunFailedError, match=f"1 month\\(s\\) failed: {old}: partition could not be registered: ClientError"):
        run({"months": [str(CURRENT)]})


@pytest.mark.parametrize(
    ("fault", "error", "message", "tokens"),
    [
        ("wrong-secret", CredentialsError, "refused the client credentials \\(invalid_client\\): check client_id and client_secret", 1),
        ("token-503", AppstoreError, "token endpoint failed with HTTP 503", 6),  # the first request and 5 retries
    ],
)
def test_a_refused_login_fails_the_run_before_any_month(
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
    fault: str,
    error: type[Exception],
    message: str,
    tokens: int,
) -> None:
    if fault == "wrong-secret":
        aws.secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"client_id": "amzn1.x", "client_secret": "wrong"}))
    else:
        amazon.token_faults = [503] * 10
    capsys.readouterr()
    with pytest.raises(error, match=message):
        run({"months": MONTHS})
    assert amazon.calls == {"token": tokens}
    assert keys(aws) == []
    assert emitted_metrics(capsys.readouterr().out) == {"RunFailed": 1}
    assert "run failed before archiving any month" in logs.getvalue()


def test_start_month_after_the_current_month_is_a_config_error(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("START_MONTH", str(CURRENT.shift(1)))
    with pytest.raises(ConfigError, match=f"START_MONTH {CURRENT.shift(1)} is after the current UTC month {CURRENT}"):
        run()
    assert keys(aws) == []
    assert sum(amazon.calls.values()) == 0


def test_months_are_logged_and_counted_as_they_finish_even_if_the_run_dies_later(
    run: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    class Dying(Context):
        """Plenty of time for two months, then the run breaks down (the lease's take and each renewal read the time too)."""

        calls = 0

        def get_remaining_time_in_millis(self) -> int:
            self.calls += 1
            if self.calls > 5:
                raise RuntimeError("the run broke down")
            return 900_000

    capsys.readouterr()
    with pytest.raises(RuntimeError, match="broke down"):
        run({"months": MONTHS[2:5]}, Dying())
    assert f"sales {MONTHS[2]}: archived" in logs.getvalue() and f"sales {MONTHS[3]}: archived" in logs.getvalue()
    assert "run failed after 2 month(s)" in logs.getvalue()
    metrics = emitted_metrics(capsys.readouterr().out)
    assert (metrics["MonthsArchived"], metrics["RowsArchived"], metrics["RunFailed"]) == (2, 8, 1)
    assert "RunSucceeded" not in metrics


def test_a_deferred_marker_that_cannot_be_saved_does_not_stop_the_run(
    run: Callable[..., dict[str, Any]], aws: Clients, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    refused = fail_calls(aws.s3, "PutObject", "AccessDenied", lambda params: "/state/sales/" in params["Key"])
    capsys.readouterr()
    result = run({"months": MONTHS[:2]}, Context(remaining_ms=60_000))
    assert [(r["status"], r["error"]) for r in result["results"]] == [
        (
            "deferred",
            "the deferred marker could not be saved: ClientError: An error occurred (AccessDenied) when calling the "
            "PutObject operation: injected",
        )
    ] * 2
    assert len(refused) == 2
    assert keys(aws) == ["appstore/periods/sales.json.gz"]  # only the periods table, whose rows say `deferred`
    metrics = emitted_metrics(capsys.readouterr().out)
    assert (metrics["MonthsDeferred"], metrics["RunSucceeded"]) == (2, 1)
    assert logs.getvalue().count('"level":"WARNING"') == 2 and "marker could not be saved" in logs.getvalue()


def test_a_missing_curated_object_is_listed_not_probed(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    month = str(CURRENT)
    (entry,) = run({"months": [month]})["results"]
    aws.s3.delete_object(Bucket=BUCKET, Key=entry["curated_key"])
    # Without an unconditional s3:ListBucket, S3 answers HEAD on a missing key with 403, not 404.
    probed = fail_calls(aws.s3, "HeadObject", "403", lambda params: params["Key"] not in keys(aws))
    assert statuses(run({"months": [month]})) == {month: "unchanged"}  # re-curated from the raw object before the fetch
    assert probed == []
    assert entry["curated_key"] in keys(aws)


def test_each_month_is_flushed_as_it_ends_and_the_run_metrics_still_come_out(
    run: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    printed: list[str] = []
    seen_at_download: list[float] = []
    real_download = pipeline.download

    def watching(*args: Any, **kwargs: Any) -> Any:
        printed.append(capsys.readouterr().out)
        seen_at_download.append(emitted_metrics("".join(printed)).get("MonthsArchived", 0))
        return real_download(*args, **kwargs)

    monkeypatch.setattr(pipeline, "download", watching)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty flush would warn "No application metrics to publish"
        run({"months": MONTHS[2:5]})
    printed.append(capsys.readouterr().out)
    assert seen_at_download == [0, 1, 2]  # each month's metrics were on stdout before the next month started
    metrics = emitted_metrics("".join(printed))
    assert (metrics["MonthsArchived"], metrics["RowsArchived"], metrics["RunSucceeded"]) == (3, 12, 1)
    assert {"MonthsFailed", "MonthsNotFound", "MonthsDeferred", "MonthsUnchanged", "SchemaDrift"} <= set(metrics)  # the zeros


def test_clients_take_the_sdk_attempts_from_the_environment_of_their_own_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore writes the resolved attempt count into the Config it is given: a shared Config would keep an old value."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    app.clients.cache_clear()
    assert app.clients().s3.meta.config.retries == {"mode": "standard", "total_max_attempts": 2}
    monkeypatch.delenv("AWS_MAX_ATTEMPTS")
    app.clients.cache_clear()
    try:
        assert app.clients().s3.meta.config.retries == {"mode": "standard"}
    finally:
        app.clients.cache_clear()
