"""Two runs at once: the second ends busy instead of settling the first one's live transaction."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from archiver.run.service import SAFETY_MARGIN_SECONDS, invoke
from archiver.run.startup import Clients
from archiver.storage.lease import KEY, Busy, LeaseLost
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import MONTHS, emitted_metrics, logs, report, run
from tests.unit.test_lease import FakeTime
from tests.unit.test_settle_first import MONTH, PENDING, pair

__all__ = ["logs", "run"]  # the handler tests' fixtures


def test_a_run_started_while_another_is_mid_transaction_ends_busy_and_the_month_stays_one_download(
    run: Callable[..., dict[str, Any]],
    aws: Clients,
    amazon: FakeAppstore,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
) -> None:
    monkeypatch.setenv("LEASE_WAIT_SECONDS", "0")
    run()
    amazon.files[MONTH] = report(MONTH, n=7)  # what run A downloads
    second: list[dict[str, Any]] = []
    started: list[bool] = []

    def run_b_before_a_commits(params: dict[str, Any], **kwargs: Any) -> None:
        if not started and "/raw/sales/" in params["Key"]:  # A's curated object and pending marker are written
            started.append(True)
            assert keys(aws, PENDING)
            amazon.files[MONTH] = report(MONTH, n=9)  # restated again: what run B would download
            capsys.readouterr()
            second.append(run({"months": [MONTH]}))
            second.append(emitted_metrics(capsys.readouterr().out))

    aws.s3.meta.events.register("before-parameter-build.s3.PutObject", run_b_before_a_commits)
    first = run({"months": [MONTH]})
    curated_source, raw = pair(aws)
    assert curated_source == raw  # raw and curated from the same download
    assert keys(aws, PENDING) == [] and keys(aws, "appstore/state/lease") == []  # no pending marker left, the lease released
    busy, metrics = second
    assert busy["status"] == "busy" and busy["results"] == []
    assert busy["holder"].startswith("archiver request req-1 ") and busy["expires"]
    assert metrics == {"RunBusy": 1}  # neither RunSucceeded nor RunFailed
    assert f"held by {busy['holder']} until {busy['expires']}" in logs.getvalue()
    assert [(r["month"], r["status"], r["rows"]) for r in first["results"]] == [(MONTH, "archived", 7)]


def test_a_run_whose_lease_was_taken_over_stops_before_its_next_month(
    run: Callable[..., dict[str, Any]], aws: Clients, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = MONTHS[-2], MONTHS[-1]
    taken: list[bool] = []

    def take_over(params: dict[str, Any], **kwargs: Any) -> None:  # as a run would once this one's lease had expired
        if not taken and "/state/sales/pending/" in params["Key"]:  # the first month's last step
            taken.append(True)
            lease = {"holder": "another run", "expires": "2999-01-01T00:00:00+00:00"}
            aws.s3.put_object(Bucket=BUCKET, Key=f"appstore/{KEY}", Body=json.dumps(lease).encode())

    aws.s3.meta.events.register("before-parameter-build.s3.DeleteObject", take_over)
    capsys.readouterr()
    with pytest.raises(LeaseLost, match="now held by another run"):
        run({"months": [first, second]})
    assert emitted_metrics(capsys.readouterr().out)["RunFailed"] == 1
    assert keys(aws, "appstore/raw/sales/") == [f"appstore/raw/sales/year={first[:4]}/month={first[5:]}/sales_{first[:4]}_{first[5:]}.zip"]
    assert json.loads(aws.s3.get_object(Bucket=BUCKET, Key=f"appstore/{KEY}")["Body"].read())["holder"] == "another run"  # not released


def test_a_lease_wait_longer_than_the_run_has_left_ends_busy_before_the_safety_margin(aws: Clients, env: dict[str, str]) -> None:
    held = {"holder": "another run", "seconds": 3600}
    aws.s3.put_object(Bucket=BUCKET, Key=f"appstore/{KEY}", Body=json.dumps(held).encode())
    time = FakeTime()
    time.stamp(aws.s3)
    with pytest.raises(Busy, match="another run"):  # not a Lambda timeout mid-wait
        invoke(
            {},
            aws,
            lambda: SAFETY_MARGIN_SECONDS + 30 - (time.at - time.start).total_seconds(),
            {**env, "LEASE_WAIT_SECONDS": "600"},
            clock=time.clock(),
        )
    assert sum(time.slept) == 30  # the time left minus the safety margin, not the 600 s asked for
