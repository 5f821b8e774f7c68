"""`history YYYY-MM`: the versions of a month from its history objects, and what changed between them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from archiver.answers.history import copy_version, raw_versions
from archiver.core.months import Month
from archiver.core.report_types import SALES
from cli.historydiff import Totals, compare
from cli.layout import classify_key
from tests.cli.conftest import as_json, invoke
from tests.cli.healthy import Healthy

MONTH = Month(2024, 2)


def restate_with_history(healthy: Healthy, tmp_path: Path) -> None:
    """Amazon serves February again with two rows more; each raw version gets its history object, a day apart."""
    healthy.archive(MONTH, tmp_path, rows=5)
    listed = [v for v in raw_versions(healthy.store) if v.period == MONTH][::-1]  # S3 lists a key's newest version first
    assert len(listed) == 2
    for day, version in enumerate(listed):
        copy_version(healthy.store, replace(version, fetched=datetime(2024, 3, 1 + day, 6, tzinfo=UTC)), None)


def test_history_lists_each_version_and_the_change_between_them(local, healthy: Healthy, tmp_path: Path) -> None:
    _, state = local
    restate_with_history(healthy, tmp_path)
    document = as_json(invoke("history", "2024-02", "--state-file", str(state), "--json"))
    assert [(v["fetched_at"], v["rows"]) for v in document["versions"]] == [("2024-03-01 06:00:00", 3), ("2024-03-02 06:00:00", 5)]
    assert all(len(v["source_sha256"]) == 64 for v in document["versions"])
    assert document["versions"][1]["totals"] == {"USD": {"rows": 5, "units": 5, "sales": "14.95", "estimated_earnings": "0"}}
    (change,) = document["changes"]
    assert (change["added"], change["removed"], change["changed"]) == (2, 0, 0)
    assert change["totals"] == {"USD": {"rows": 2, "units": 2, "sales": "8.98", "estimated_earnings": "0"}}
    text = invoke("history", "2024-02", "--state-file", str(state)).stdout
    assert "version 1 → 2 (fetched 2024-03-02 06:00:00): 2 row(s) added, 0 removed, 0 changed" in text
    assert "+8.98" in text


def test_a_month_without_history_says_so_and_a_bad_month_fails(local, healthy: Healthy) -> None:
    _, state = local
    assert "no history of 2024-01 yet" in invoke("history", "2024-01", "--state-file", str(state)).stdout
    bad = invoke("history", "2024-13", "--state-file", str(state))
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_compare_counts_added_removed_and_changed_rows_and_totals_per_currency() -> None:
    before = [
        {"transaction_id": "a", "transaction_type": "Charge", "marketplace_currency": "USD", "units": "1", "sales_price": "2.00"},
        {"transaction_id": "b", "transaction_type": "Charge", "marketplace_currency": "USD", "units": "1", "sales_price": "3.00"},
        {"transaction_id": "", "transaction_type": "Charge", "marketplace_currency": "EUR", "units": "1", "sales_price": "0.99"},
    ]
    after = [
        {**before[0], "sales_price": "1.80"},  # changed
        {"transaction_id": "a", "transaction_type": "Refund", "marketplace_currency": "USD", "units": "-1", "sales_price": "-1.80"},
        {"transaction_id": "c", "transaction_type": "Charge", "marketplace_currency": "JPY", "units": "2", "sales_price": "n/a"},
    ]
    change = compare(before, after)
    assert (change.added, change.removed, change.changed) == (2, 2, 1)
    assert change.totals == {
        "EUR": Totals(-1, -1, Decimal("-0.99"), Decimal(0)),
        "JPY": Totals(1, 2, Decimal(0), Decimal(0)),
        "USD": Totals(0, -2, Decimal("-5.00"), Decimal(0)),
    }


def test_verify_and_status_take_the_history_objects_for_the_archives_own(local, healthy: Healthy, tmp_path: Path) -> None:
    _, state = local
    restate_with_history(healthy, tmp_path)
    found = as_json(invoke("verify", "--state-file", str(state), "--report", "sales", "--json"))
    assert not [p for p in found["problems"] if "history/" in str(p.get("key"))], found["problems"]
    months = as_json(invoke("status", "--state-file", str(state), "--report", "sales", "--json"))["reports"]["sales"]["months"]
    assert {m["month"]: m["state"] for m in months}["2024-02"] == "archived"


def test_the_layout_knows_a_history_key_and_nothing_like_it() -> None:
    sha = "ab" * 32
    assert classify_key("p/", f"p/history/sales/year=2024/month=02/20240302T060000Z-{sha}.csv.gz") == (SALES, "history", MONTH)
    for stray in (
        f"p/history/sales/year=2024/month=02/{sha}.csv.gz",
        f"p/history/sales/year=2024/month=02/20240302T060000Z-{sha}.json.gz",
        f"p/history/earnings/year=2024/month=02/20240302T060000Z-{sha}.csv.gz",  # sales only
        f"p/history/sales/year=2024/20240302T060000Z-{sha}.csv.gz",
    ):
        assert classify_key("p/", stray) is None, stray
