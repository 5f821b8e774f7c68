"""Run contracts end to end: refusals as unknown (`unsupported` only for a type never archived that is not sales, else a
failure), an event naming its report types, and an unchanged month whose housekeeping fails."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
import requests
import responses

from archiver.core.results import MonthResult, RunFailedError
from archiver.run import parts
from archiver.run.plan import InvalidEvent
from archiver.run.startup import Clients
from archiver.storage.store import ArchiveStore
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import REPORT_URL, FakeAppstore
from tests.unit.test_handler import MISSING, MONTHS, emitted_metrics, run

__all__ = ["run"]  # the handler tests' fixture, used here too
LINKS = re.compile(re.escape(REPORT_URL) + r"/.*")


def refuse_every_link(amazon: FakeAppstore) -> None:
    """Answer every link request as a wrong APPSTORE_REPORT_URL path does: 400 `Unable to fetch the request scope`."""

    def refuse(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        amazon.calls["report"] += 1
        return 400, {}, f"Unable to fetch the request scope for uri = {request.url}"

    amazon.mock.remove(responses.GET, LINKS)
    amazon.mock.add_callback(responses.GET, LINKS, callback=refuse)


def test_sales_refused_as_unknown_fails_every_month_and_the_run_and_is_asked_again(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, aws: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    refuse_every_link(amazon)
    with pytest.raises(RunFailedError, match=r"sales is a documented report type.*check APPSTORE_REPORT_URL"):
        run()
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["MonthsFailed"] == len(MONTHS) and metrics["RunFailed"] == 1 and "RunSucceeded" not in metrics
    assert metrics["ReportsUnsupported"] == 0
    assert not keys(aws, "appstore/state/sales/unsupported")  # no weekly gate
    asked = amazon.calls["report"]
    with pytest.raises(RunFailedError):
        run()
    assert amazon.calls["report"] - asked == len(MONTHS)  # asked again the next day, every month


def test_a_stale_sales_unsupported_marker_does_not_gate_sales(run: Callable[..., dict[str, Any]], aws: Clients) -> None:
    aws.s3.put_object(Bucket=BUCKET, Key="appstore/state/sales/unsupported.json", Body=b"{}")  # left by an earlier version
    statuses = {r["status"] for r in run()["results"]}
    assert statuses == {"archived", "not_found"}
    assert not keys(aws, "appstore/state/sales/unsupported")  # served again: the marker is forgotten


def test_a_type_with_archived_periods_refused_as_unknown_fails(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTS", "sales,subscription")  # the mocked API refuses subscription as unknown
    year, mm = MONTHS[0].split("-")
    aws.s3.put_object(Bucket=BUCKET, Key=f"appstore/raw/subscription/year={year}/month={mm}/s.csv.gz", Body=b"x")
    with pytest.raises(RunFailedError, match=r"subscription .*the type has archived periods"):
        run()


def test_a_type_never_archived_refused_as_unknown_is_unsupported(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTS", "sales,subscription")
    results = run()["results"]
    assert [r["status"] for r in results if r["report"] == "subscription"] == ["unsupported"]
    assert keys(aws, "appstore/state/subscription/unsupported")
    assert {r["status"] for r in results if r["report"] == "sales"} == {"archived", "not_found"}
    assert MISSING in MONTHS


def test_an_event_naming_report_types_runs_only_those(
    run: Callable[..., dict[str, Any]], amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTS", "sales,subscription")
    results = run({"months": [MONTHS[-1]], "force": True, "reports": ["sales"]})["results"]
    assert [(r["report"], r["status"]) for r in results] == [("sales", "archived")]  # force reaches sales only
    assert amazon.calls["report"] == 1
    with pytest.raises(InvalidEvent, match=r"reports: \['earnings'\] not among the function's REPORTS"):
        run({"reports": ["earnings"]})
    assert amazon.calls["report"] == 1  # refused before anything was asked


def test_only_an_answer_to_a_link_request_clears_the_unsupported_marker(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPORTS", "sales,subscription")
    aws.s3.put_object(Bucket=BUCKET, Key="appstore/state/subscription/unsupported.json", Body=b"{}")  # refused just now
    real = parts.settle_pending

    def settle(store: ArchiveStore, *args: Any) -> Any:
        planned, results, unfinished = real(store, *args)
        if store.report.name == "subscription":  # a transaction left unfinished: settling it asks nothing of the API
            results.append(MonthResult("subscription", MONTHS[0], "archived", error="the partition could not be registered"))
        return planned, results, unfinished

    monkeypatch.setattr(parts, "settle_pending", settle)
    with pytest.raises(RunFailedError, match="archived but incomplete"):
        run()
    assert keys(aws, "appstore/state/subscription/unsupported")  # still gated: the API was not asked


def test_an_unchanged_month_whose_marker_cannot_be_cleared_is_unchanged_and_incomplete(
    run: Callable[..., dict[str, Any]], aws: Clients, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run()
    month = MONTHS[-1]
    aws.s3.put_object(Bucket=BUCKET, Key=f"appstore/state/sales/deferred/{month}.json", Body=b'{"force": false}')

    def fail(*args: Any) -> None:
        raise OSError("injected")

    monkeypatch.setattr(ArchiveStore, "clear_marker", fail)
    capsys.readouterr()
    with pytest.raises(RunFailedError, match=rf"archived but incomplete .*{month}: a marker could not be cleared: OSError"):
        run({"months": [month]})
    metrics = emitted_metrics(capsys.readouterr().out)
    assert metrics["MonthsUnchanged"] == 1 and metrics["MonthsIncomplete"] == 1 and metrics["MonthsFailed"] == 0
