"""Issue 9 rows 2 and 11 in unit form: expiring not-found markers, 'not found' after a link, ExpectedBucketOwner."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.amazon.download import LinkExpired
from archiver.core.months import Month
from archiver.core.periods import PlannedMonth
from archiver.core.results import RunFailedError
from archiver.core.settings import ConfigError, Settings
from archiver.run import pipeline
from archiver.run.plan import Request, plan_months
from archiver.run.startup import Clients
from archiver.storage import objects
from archiver.storage.store import ArchiveState
from tests.unit.conftest import BUCKET, keys
from tests.unit.fake_appstore import FakeAppstore
from tests.unit.test_handler import CURRENT, MISSING, report, run, statuses

__all__ = ["run"]  # the handler tests' fixture, used here too

NOW = datetime(2024, 5, 20, 2, 0, tzinfo=UTC)
OWNER = "123456789012"  # moto's account, which the template's AWS::AccountId resolves to locally


def state_with_markers(ages_in_hours: dict[Month, float]) -> ArchiveState:
    """An archive whose not-found markers were last answered that many hours before NOW."""
    checked = {month: NOW - timedelta(hours=hours) for month, hours in ages_in_hours.items()}
    archived = frozenset(Month(2018, 1).through(Month(2024, 5))) - set(checked)
    return ArchiveState(archived, frozenset(checked), {}, checked)


def test_the_oldest_not_found_markers_are_asked_again_a_seventh_at_a_time() -> None:
    ages = {Month(2019, m): 24.0 * m for m in range(1, 13)} | {Month(2020, 1): 1.0, Month(2020, 2): 19.0}  # 14 markers
    planned = plan_months(Request(None), state_with_markers(ages), Month(2024, 5), Month(2018, 1), 2, NOW)
    window = [PlannedMonth(m, False) for m in (Month(2024, 5), Month(2024, 4), Month(2024, 3))]
    # ceil(14 / 7) = 2 re-checks: the two answered longest ago; markers under 20 hours old never.
    assert planned == [*window, PlannedMonth(Month(2019, 12), False, recheck=True), PlannedMonth(Month(2019, 11), False, recheck=True)]


def test_every_not_found_month_is_asked_again_within_a_week_of_daily_runs() -> None:
    markers = {Month(2018, 1).shift(k): 24.0 for k in range(23)}  # all answered "not found" yesterday
    state = state_with_markers(markers)
    asked: dict[Month, int] = {}
    for day in range(7):
        now = NOW + timedelta(days=day)
        checks = [p.month for p in plan_months(Request(None), state, Month(2024, 5), Month(2018, 1), 2, now) if p.recheck]
        assert 0 < len(checks) <= 4  # ceil(23 / 7): a handful a run
        for month in checks:
            asked[month] = day
        refreshed = {**state.checked, **{m: now for m in checks}}  # a re-check that answers "not found" re-puts the marker
        state = ArchiveState(state.archived, state.not_found, {}, refreshed)
    assert set(asked) == set(markers)


def test_markers_only_matter_for_the_default_plan() -> None:
    state = state_with_markers({Month(2019, 1): 500.0})
    assert plan_months(Request((Month(2024, 1),)), state, Month(2024, 5), Month(2018, 1), 2, NOW) == [PlannedMonth(Month(2024, 1), False)]


def test_an_old_not_found_marker_is_asked_again_and_refreshed(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore
) -> None:
    run()
    marker = f"appstore/state/sales/not_found/{MISSING}.json"
    first = aws.s3.head_object(Bucket=BUCKET, Key=marker)["LastModified"]
    later = datetime.now(UTC) + timedelta(days=2)
    monkey = pytest.MonkeyPatch()
    monkey.setattr("archiver.run.service.datetime", type("Clock", (), {"now": staticmethod(lambda tz=None: later)}))
    try:
        result = run()
    finally:
        monkey.undo()
    assert statuses(result)[MISSING] == "not_found"
    assert aws.s3.head_object(Bucket=BUCKET, Key=marker)["LastModified"] >= first  # re-put: asked again
    amazon.files[MISSING] = report(MISSING)  # Amazon fills the month late
    monkey.setattr("archiver.run.service.datetime", type("Clock", (), {"now": staticmethod(lambda tz=None: later + timedelta(days=1))}))
    try:
        assert statuses(run())[MISSING] == "archived"
    finally:
        monkey.undo()
    assert marker not in keys(aws)


def test_not_found_after_a_link_was_given_is_a_failure(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    month = str(CURRENT)

    def expired_then_gone(*args: Any, **kwargs: Any) -> Any:
        """The first download finds the link expired; meanwhile Amazon answers 'Report not found' for the month."""
        del amazon.files[month]
        raise LinkExpired("download host refused the link (HTTP 403, expired?)")

    monkeypatch.setattr(pipeline, "download", expired_then_gone)
    with pytest.raises(RunFailedError, match=f"{month}: AppstoreError: .*'Report not found'.*after giving a link"):
        run({"months": [month]})
    assert keys(aws, "appstore/state/") == []  # no not_found marker


def test_every_s3_call_names_the_expected_bucket_owner(
    run: Callable[..., dict[str, Any]], aws: Clients, amazon: FakeAppstore, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert env["ARCHIVE_BUCKET_OWNER"] == OWNER
    calls: list[tuple[str, dict[str, Any]]] = []
    aws.s3.meta.events.register("provide-client-params.s3.*", lambda params, model, **kw: calls.append((model.name, dict(params))))
    monkeypatch.setattr(objects, "MULTIPART_THRESHOLD", 100)  # the reports are ~400 bytes: every upload is multipart
    monkeypatch.setattr(objects, "PART_SIZE", 5 * 1024 * 1024)
    run()  # backfill, a not_found marker
    month = str(CURRENT)
    amazon.files[month] = report(month, n=6, kind="gzip")  # restated under another name: the old raw file is removed
    run({"months": [month]})
    amazon.files[month] = (amazon.files[month][0], b"not a report")  # quarantined
    with pytest.raises(RunFailedError):
        run({"months": [month]})
    amazon.files[month] = report(month, n=8)
    failing = [True]

    def refuse_raw_and_rollback(params: dict[str, Any], model: Any, **kwargs: Any) -> None:
        """The raw upload fails, and so does the rollback's version listing: the pending marker stays."""
        if failing[0] and (
            ("/raw/" in params.get("Key", "") and model.name == "CreateMultipartUpload") or model.name == "ListObjectVersions"
        ):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected"}}, model.name)

    aws.s3.meta.events.register("provide-client-params.s3.*", refuse_raw_and_rollback)
    with pytest.raises(RunFailedError, match="rollback failed"):
        run({"months": [month]})
    failing[0] = False
    assert statuses(run({"months": [month]})) == {month: "archived"}  # the next run rolls the pending transaction back first
    operations = {name for name, _ in calls}
    assert {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "HeadObject", "GetObject"} <= operations
    assert {"ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "DeleteObject"} <= operations
    missing = [(name, params.get("Key")) for name, params in calls if params.get("ExpectedBucketOwner") != OWNER]
    assert missing == []
    assert all(params["Bucket"] == BUCKET for _, params in calls)


def test_months_left_pending_are_planned_first() -> None:
    state = ArchiveState(
        frozenset(Month(2018, 1).through(Month(2024, 5))), deferred={Month(2020, 3): True}, pending=frozenset({Month(2019, 2)})
    )
    planned = plan_months(Request(None), state, Month(2024, 5), Month(2018, 1), 0, NOW)
    assert planned == [PlannedMonth(Month(2019, 2), False), PlannedMonth(Month(2020, 3), True), PlannedMonth(Month(2024, 5), False)]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("ARCHIVE_BUCKET_OWNER", "not-an-account", "12-digit"), ("MAX_DECOMPRESSED_BYTES", "2GB", "whole number of bytes")],
)
def test_new_settings_are_validated(env: dict[str, str], name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**env, name: value})


def test_new_settings_are_optional(env: dict[str, str]) -> None:
    bare = {k: v for k, v in env.items() if k not in ("ARCHIVE_BUCKET_OWNER", "MAX_DECOMPRESSED_BYTES")}
    settings = Settings.from_env(bare)
    assert settings.bucket_owner is None
    assert settings.max_decompressed_bytes == shutil.disk_usage(tempfile.gettempdir()).total
    assert Settings.from_env(env).max_decompressed_bytes == 2 * 1024**3
