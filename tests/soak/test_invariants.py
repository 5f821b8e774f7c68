"""When invariant 6 applies: a run that got past the token, not one that only settled a killed run's transaction."""

from __future__ import annotations

import gzip
import hashlib

from archiver.storage.settle import SETTLING
from infra.local.emulator.served import Served
from soak.invariants import Outcome, check_run
from soak.layout import Layout, Slot
from soak.observe import Archive, Obj


def test_settling_alone_is_not_reaching_the_months() -> None:
    settled = {"month": "2026-11", "status": "failed", "error": f"{SETTLING} could not be settled: ClientError: injected"}
    stopped = Outcome(results=[settled], error="AppstoreError: token endpoint failed with HTTP 500")
    assert not stopped.reached_months()  # stopped at the token: partitions were never repaired


def test_a_month_result_or_a_failure_raised_after_the_months_is_reaching_them() -> None:
    settled = {"month": "2026-11", "status": "failed", "error": f"{SETTLING} could not be settled: ClientError: injected"}
    own = {"month": "2026-10", "status": "failed", "error": "ClientError: injected"}
    assert Outcome(results=[settled, own], error="RunFailedError: 2 month(s) failed").reached_months()
    assert Outcome(results=[settled], error="RunFailedError: 1 month(s) failed: 2026-11").reached_months()  # its plan emptied
    assert Outcome(results=[{"month": "2026-10", "status": "archived", "error": None}]).reached_months()


def _archive(objects: list[Obj], partitions: dict[Slot, str] | None = None) -> Archive:
    return Archive(LAYOUT, {o.key: o for o in objects}, partitions or {})


def _obj(key: str, body: bytes, **metadata: str) -> Obj:
    return Obj(key, "v1", hashlib.sha256(body).hexdigest(), {"sha256": hashlib.sha256(body).hexdigest(), **metadata}, True, body)


LAYOUT = Layout("archive", "appstore/")
YEARLY = Slot("earnings_yearly", "2026")
RAW = b"Summary\nMarketplace,Amount\nUS,1\n"


def test_the_layout_knows_every_report_type_and_its_period() -> None:
    key = LAYOUT.curated_key(YEARLY)
    assert key == "appstore/earnings_yearly/year=2026/earnings_yearly_2026.json.gz"
    assert LAYOUT.slot_of(key) == ("curated", YEARLY)
    assert LAYOUT.slot_of("appstore/raw/earnings_yearly/year=2026/earnings_2026.zip") == ("raw", YEARLY)
    assert LAYOUT.slot_of("appstore/state/subscription/pending/2026-11.json") == ("pending", Slot("subscription", "2026-11"))
    assert LAYOUT.slot_of("appstore/raw/earnings_yearly/year=2026/month=11/earnings_2026.zip") is None  # yearly: no month
    assert LAYOUT.slot_of("appstore/earnings/year=2026/month=11/earnings_2026_11.csv.gz") is None  # JSON Lines, not CSV
    kept = [_obj("appstore/state/lease.json", b"{}"), _obj("appstore/state/earnings/columns.json", b"{}")]
    assert _archive([*kept, _obj("appstore/earnings/x.json", b"")]).stray() == ["appstore/earnings/x.json"]


def test_the_invariants_apply_to_a_schema_free_type() -> None:
    raw = _obj("appstore/raw/earnings_yearly/year=2026/earnings_2026.zip", RAW)
    served = {YEARLY: [Served("2026", "earnings_2026.zip", raw.sha256, len(RAW), 0.0, "earnings_yearly")]}
    curated = _obj(LAYOUT.curated_key(YEARLY), gzip.compress(b"{}\n"), **{"source-sha256": "0" * 64})
    after = _archive([raw, curated], {YEARLY: LAYOUT.location(YEARLY)})
    ran = Outcome(returned=True, metrics={"RunSucceeded": 1})
    assert [(v.invariant, v.month) for v in check_run(after, after, ran, served, False)] == [(2, "earnings_yearly 2026")]
    assert [v.invariant for v in check_run(after, after, ran, {}, False)] == [1, 2]  # bytes never served
    assert [v.invariant for v in check_run(after, _archive([raw]), ran, served, False)] == [3, 6]  # no curated object, no partition


def test_a_busy_run_did_nothing_and_is_no_failure() -> None:
    empty = _archive([])
    busy = Outcome(returned=True, status="busy", metrics={"RunBusy": 1})
    assert check_run(empty, empty, busy, {}, True) == []  # busy after a kill: invariant 7 waits for a run that works
    failed = Outcome(returned=True, status="busy", metrics={"RunBusy": 1, "RunFailed": 1})
    assert [v.invariant for v in check_run(empty, empty, failed, {}, False)] == [5]
    assert [v.invariant for v in check_run(empty, empty, Outcome(returned=True, status="busy"), {}, False)] == [5]


def test_two_overlapping_runs_are_checked_together() -> None:
    month = Slot("subscription", "2026-11")
    raw = _obj("appstore/raw/subscription/year=2026/month=11/subscription_2026_11.csv.gz", RAW)
    served = {month: [Served("2026-11", "subscription_2026_11.csv.gz", raw.sha256, len(RAW), 0.0, "subscription")]}
    curated = _obj(LAYOUT.curated_key(month), gzip.compress(b"{}\n"), **{"source-sha256": raw.sha256})
    before, after = _archive([]), _archive([raw, curated], {month: LAYOUT.location(month)})
    result = {"report": "subscription", "month": "2026-11", "status": "failed", "error": "ClientError: injected"}
    failed = Outcome(error="RunFailedError: 1 month(s) failed", results=[result], metrics={"RunFailed": 1})
    archived = Outcome(returned=True, results=[{**result, "status": "archived", "error": None}], metrics={"RunSucceeded": 1})
    assert check_run(before, after, failed, served, False, archived) == []  # the other run archived the month
    assert [v.invariant for v in check_run(before, after, failed, served, False)] == [4]  # alone, the failed run changed it
    pending = _archive([raw, curated, _obj(LAYOUT.marker_key(month, "pending"), b"{}")], after.partitions)
    busy = Outcome(returned=True, status="busy", metrics={"RunBusy": 1})
    assert [v.invariant for v in check_run(before, pending, archived, served, True, busy)] == [7]  # the working run must settle


def _sales_pair(raw_body: bytes, source: bytes) -> tuple[Obj, Obj]:
    raw = _obj("appstore/raw/sales/year=2026/month=10/sales_2026_10.zip", raw_body)
    curated = _obj(LAYOUT.curated_key(SALES), gzip.compress(b"a,b\n"), **{"source-sha256": hashlib.sha256(source).hexdigest()})
    return raw, curated


SALES = Slot("sales", "2026-10")
OLD, NEW = b"old report", b"restated report"
SERVED = {SALES: [Served("2026-10", "sales_2026_10.zip", hashlib.sha256(body).hexdigest(), len(body), 0.0) for body in (OLD, NEW)]}


def test_a_rollback_left_without_the_version_it_relied_on_is_caught() -> None:
    """Lifecycle expired the old curated version; rolling back the killed run's curated upload leaves the month without one."""
    raw, curated = _sales_pair(OLD, OLD)
    before = _archive([raw, curated, _obj(LAYOUT.marker_key(SALES, "pending"), b"{}")], {SALES: LAYOUT.location(SALES)})
    after = _archive([raw], before.partitions)
    settled = Outcome(returned=True, metrics={"RunSucceeded": 1}, settled=["rolled back"])
    assert [(v.invariant, v.evidence) for v in check_run(before, after, settled, SERVED, True)] == [(3, "no curated object")]


def test_a_raw_upload_refused_on_retry_but_committed_is_caught() -> None:
    """The raw upload landed while its retries were refused; the run took it as not written and kept the old curated copy."""
    raw, curated = _sales_pair(NEW, OLD)
    after = _archive([raw, curated], {SALES: LAYOUT.location(SALES)})
    result = {"report": "sales", "month": "2026-10", "status": "failed", "error": "ClientError: RequestTimeout"}
    failed = Outcome(error="RunFailedError: 1 month(s) failed", results=[result], metrics={"RunFailed": 1})
    assert [v.invariant for v in check_run(after, after, failed, SERVED, False)] == [2]


def test_a_killed_runs_transaction_stays_open_through_busy_runs() -> None:
    """Seed 201 run 4: killed between the curated and the raw upload, then a run that found the killed run's lease still
    held and ended busy. It settled nothing, so the month is still open; the run that takes over the lease settles it."""
    raw, curated = _sales_pair(OLD, NEW)  # the killed transaction's curated object beside the old raw object
    marker = _obj(LAYOUT.marker_key(SALES, "pending"), b"{}")
    killed = _archive([raw, curated, marker], {SALES: LAYOUT.location(SALES)})
    busy = Outcome(returned=True, status="busy", metrics={"RunBusy": 1})
    assert check_run(killed, killed, busy, SERVED, True) == []
    assert check_run(killed, killed, busy, SERVED, True, busy) == []  # two overlapping runs, both busy
    worked = Outcome(returned=True, metrics={"RunSucceeded": 1})  # a run that held the lease and left the month so
    assert [v.invariant for v in check_run(killed, killed, worked, SERVED, True)] == [2, 7]
    assert [v.invariant for v in check_run(killed, killed, worked, SERVED, True, busy)] == [2, 7]
