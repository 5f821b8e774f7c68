"""A transaction a killed run left is settled by the next run even when that run stops at a Glue table, the secret or the token."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from archiver.amazon import appstore
from archiver.amazon.appstore import AppstoreError
from archiver.core.results import RunFailedError
from archiver.core.settings import ConfigError
from archiver.run.metrics import MONTH_METRICS
from archiver.run.plan import InvalidEvent
from archiver.run.startup import Clients
from archiver.storage import transaction
from archiver.storage.objects import TXN
from tests.unit.conftest import BUCKET, TABLE, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, emitted_metrics, fail_calls, report, run

__all__ = ["run"]  # the handler tests' fixture, used here too

MONTH = MONTHS[-1]  # in the lookback window: every default run fetches it
YEAR, MM = MONTH.split("-")
CURATED = f"appstore/sales/year={YEAR}/month={MM}/sales_{YEAR}_{MM}.csv.gz"
PENDING = f"appstore/state/sales/pending/{MONTH}.json"


class Killed(BaseException):
    """The Lambda is killed (no except clause of the function catches it)."""


class Stop:
    """What stops the next run before any month is fetched (the sales table only); `on` is switched off after it."""

    def __init__(self, name: str, aws: Clients, amazon: FakeAppstore) -> None:
        self.name, self.amazon, self.on = name, amazon, False
        self.raises: type[Exception] = {"glue table": ClientError, "secret": ConfigError, "token": AppstoreError}[name]
        if name == "glue table":
            fail_calls(aws.glue, "GetTable", "InternalServiceException", when=lambda params: self.on and params["Name"] == TABLE)
        if name == "secret":
            fail_calls(aws.secrets, "GetSecretValue", "InternalServiceError", when=lambda params: self.on)

    def __enter__(self) -> None:
        self.on = True
        if self.name == "token":
            appstore._TOKEN_CACHE.clear()  # a new execution environment: the run must log in
            self.amazon.token_faults.extend([503] * 10)  # the token endpoint fails every retry

    def __exit__(self, *exc: object) -> None:
        self.on = False
        self.amazon.token_faults.clear()

    def run(
        self, run: Callable[..., dict[str, Any]], capsys: pytest.CaptureFixture[str], raises: type[Exception] | None = None, match: str = ""
    ) -> dict[str, float]:
        """One run with the stop on, raising the stop's error (or `raises`); the metrics it emitted."""
        capsys.readouterr()
        with self, pytest.raises(raises or self.raises, match=match):
            run()
        return emitted_metrics(capsys.readouterr().out)


def pair(aws: Clients) -> tuple[str, str]:
    """The month's curated source-sha256 and raw sha256 (they agree when the month is consistent)."""
    (raw_key,) = keys(aws, f"appstore/raw/sales/year={YEAR}/month={MM}/")
    raw = aws.s3.head_object(Bucket=BUCKET, Key=raw_key)["Metadata"]
    curated = aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["Metadata"]
    return curated["source-sha256"], raw["sha256"]


def restate_and_fail_raw(
    run: Callable[..., dict[str, Any]],
    amazon: FakeAppstore,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
    raised: type[BaseException],
) -> None:
    """Back the months up, then have Amazon restate MONTH and the run's raw upload (the commit point) raise `failure`."""
    run()
    amazon.files[MONTH] = report(MONTH, n=7)
    real = transaction.put_file

    def put_file(store: Any, key: str, *rest: Any) -> Any:
        if "/raw/" in key:
            raise failure
        return real(store, key, *rest)

    monkeypatch.setattr(transaction, "put_file", put_file)
    with pytest.raises(raised):
        run()
    monkeypatch.setattr(transaction, "put_file", real)


STOPS = ["glue table", "secret", "token"]


@pytest.mark.parametrize("stop", STOPS)
def test_a_run_that_stops_early_still_rolls_back_a_killed_transaction(
    stop: str,
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stopping = Stop(stop, aws, amazon)
    run()
    committed = aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"]
    restate_and_fail_raw(run, amazon, monkeypatch, Killed(), Killed)  # killed between the curated and the raw upload
    assert keys(aws, PENDING)
    source, raw = pair(aws)
    assert source != raw  # the killed run's curated version is current and disagrees with the raw object
    assert stopping.run(run, capsys) == {"RunFailed": 1}  # a rollback is no month's result
    assert not keys(aws, PENDING)
    assert aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"] == committed  # rolled back to exactly as before
    assert len(set(pair(aws))) == 1
    results = run()["results"]  # the clean run archives the restatement
    assert {r["month"]: r["status"] for r in results}[MONTH] == "archived"
    assert len(set(pair(aws))) == 1 and not keys(aws, PENDING)


@pytest.mark.parametrize("stop", STOPS)
def test_a_run_that_stops_early_still_rolls_forward_a_raw_upload_that_landed_late(
    stop: str,
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stopping = Stop(stop, aws, amazon)
    unknown = EndpointConnectionError(endpoint_url="https://s3.example")  # no answer: the upload may still land
    restate_and_fail_raw(run, amazon, monkeypatch, unknown, RunFailedError)  # the month failed, its curated version rolled back
    intent = json.loads(aws.s3.get_object(Bucket=BUCKET, Key=PENDING)["Body"].read())
    body = amazon.files[MONTH][1]
    metadata = {"sha256": hashlib.sha256(body).hexdigest(), TXN: intent["txn"]}
    aws.s3.put_object(Bucket=BUCKET, Key=intent["raw_key"], Body=body, Metadata=metadata)  # ... and then it landed
    source, raw = pair(aws)
    assert source != raw  # the raw object is the restatement's, the curated one the month's before it
    metrics = stopping.run(run, capsys)
    if stop == "glue table":  # rolled forward, but its partition could not be checked: archived, incomplete
        zeros = dict.fromkeys(MONTH_METRICS, 0)  # it reached a month (settling's): the run's zero data points too
        assert metrics == {**zeros, "MonthsArchived": 1, "MonthsIncomplete": 1, "RunFailed": 1}
    else:
        assert metrics == {"RunFailed": 1}
    source, raw = pair(aws)  # re-curated from the raw object that landed
    assert source == raw == metadata["sha256"]
    assert bool(keys(aws, PENDING)) == (stop == "glue table")  # its partition could not be checked: finished next run
    results = run()["results"]
    assert {r["month"]: r["status"] for r in results}[MONTH] == "unchanged"
    assert not keys(aws, PENDING) and len(set(pair(aws))) == 1


def test_a_type_whose_table_cannot_be_read_is_settled_while_the_others_run(
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("REPORTS", "sales,subscription")
    stopping = Stop("glue table", aws, amazon)
    run()
    committed = aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"]
    restate_and_fail_raw(run, amazon, monkeypatch, Killed(), Killed)
    assert keys(aws, "appstore/state/subscription/unsupported.json")  # the fake API refuses the type: one result a run
    stopped = stopping.run(run, capsys, RunFailedError, r"1 report type\(s\) could not run: sales: ClientError: .*GetTable")
    assert stopped == {**dict.fromkeys(MONTH_METRICS, 0), "ReportsUnsupported": 1, "RunFailed": 1}  # the other type ran
    assert not keys(aws, PENDING)  # the sales transaction was rolled back although its table could not be read
    assert aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"] == committed


def test_bad_input_leaves_a_killed_transaction_to_the_next_run(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    restate_and_fail_raw(run, amazon, monkeypatch, Killed(), Killed)
    pending = aws.s3.head_object(Bucket=BUCKET, Key=PENDING)["VersionId"]
    current = aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"]
    with pytest.raises(InvalidEvent):
        run({"months": ["1999-01"]})
    assert aws.s3.head_object(Bucket=BUCKET, Key=PENDING)["VersionId"] == pending  # nothing was written
    assert aws.s3.head_object(Bucket=BUCKET, Key=CURATED)["VersionId"] == current
