"""The emulator's earnings and subscription reports (illustrations), their link paths, and refusals, over real HTTP."""

from __future__ import annotations

import calendar
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from archiver.amazon.appstore import AppstoreClient, AppstoreError, Credentials
from archiver.core.months import Month
from archiver.core.report_types import BY_NAME
from archiver.formats.sections import curate_sections
from infra.local.appstore_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, AppstoreEmulator

pytestmark = pytest.mark.integration

NOW = calendar.timegm((2024, 6, 15, 12, 0, 0))  # June 2024 is current: May's earnings are not final yet


@pytest.fixture(scope="module")
def running(moto_server: str) -> Iterator[AppstoreEmulator]:
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with AppstoreEmulator(s3, clock=lambda: NOW, rate_limit=None) as emulator:
        yield emulator


@pytest.fixture
def emu(running: AppstoreEmulator) -> AppstoreEmulator:
    running.reset()
    return running


def link(emu: AppstoreEmulator, path: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {emu.issue_token()}"}
    return requests.get(f"{emu.report_url}/{path}", headers=headers, timeout=10, allow_redirects=False)


def fetch(emu: AppstoreEmulator, path: str, tmp_path: Path) -> tuple[str, list[Any]]:
    """Follow the link of `path`; the served name and the sections the schema-free curator finds."""
    response = link(emu, path)
    assert response.status_code == 200, response.text
    download = requests.get(response.text, timeout=10)
    assert download.status_code == 200
    source = tmp_path / "report"
    source.write_bytes(download.content)
    facts = curate_sections(source, io.BytesIO())
    return response.text.split("?")[0].rsplit("/", 1)[-1], list(facts.sections)


def test_monthly_earnings_one_table(emu: AppstoreEmulator, tmp_path: Path) -> None:
    name, sections = fetch(emu, BY_NAME["earnings"].link_path(BY_NAME["earnings"].parse_period("2024-04")), tmp_path)
    assert name == "earnings_2024_04.csv.gz"
    (table,) = sections
    assert table.name is None and table.rows == 3
    assert {"Marketplace", "Tax Withheld", "Exchange Rate", "AWS Credit", "Payment Amount", "Payment Status"} <= set(table.header)


def test_yearly_earnings_titled_blocks(emu: AppstoreEmulator, tmp_path: Path) -> None:
    name, sections = fetch(emu, "earnings/2023", tmp_path)
    assert name == "earnings_2023.zip"
    assert [(s.name, s.rows) for s in sections] == [("Notes", 2), ("Summary", 3), ("Detail", 36)]
    name, sections = fetch(emu, "earnings/2024", tmp_path)  # the current year: the five months that ended
    assert sections[-1].rows == 15


def test_subscription_daily_counts(emu: AppstoreEmulator, tmp_path: Path) -> None:
    name, sections = fetch(emu, "subscription/2024/3", tmp_path)
    assert name == "subscription_2024_03.csv.gz"
    assert sections[0].rows == 31 * 2 and sections[0].header[:2] == ("Date", "Subscription Item")
    assert fetch(emu, "subscription/2024/6", tmp_path)[1][0].rows == 15 * 2  # the current month so far


@pytest.mark.parametrize("path", ["earnings/2024/5", "earnings/2017/12", "earnings/2025", "earnings/2017", "subscription/2024/7"])
def test_periods_without_a_report(emu: AppstoreEmulator, path: str) -> None:
    response = link(emu, path)
    assert (response.status_code, response.text) == (400, f"Report not found for {path}")


def test_monthly_earnings_not_found_while_the_yearly_file_is_served(emu: AppstoreEmulator) -> None:
    emu.set_report_answer("earnings", "not_found")
    assert "Report not found" in link(emu, "earnings/2024/4").text
    assert link(emu, "earnings/2023").status_code == 200


def test_a_type_answered_as_unknown(emu: AppstoreEmulator) -> None:
    requests.post(f"{emu.base_url}/_emulator/report-answers", json={"report": "subscription", "answer": "unsupported"}, timeout=5)
    response = link(emu, "subscription/2024/3")
    assert response.status_code == 400
    assert response.text == f"Unable to fetch the request scope for uri = {emu.report_path}/subscription/2024/3"
    assert link(emu, "sales/2024/3").status_code == 200 and link(emu, "earnings/2023").status_code == 200
    client = AppstoreClient(
        Credentials(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), emu.token_url, emu.report_url, "adx_reporting::appstore:marketer"
    )
    with pytest.raises(AppstoreError, match="does not know report type 'subscription'"):
        client.report_link("subscription", Month(2024, 3))


def test_report_answers_are_validated(emu: AppstoreEmulator) -> None:
    with pytest.raises(ValueError, match="unknown report type"):
        emu.set_report_answer("payments", "unsupported")
    reply = requests.post(f"{emu.base_url}/_emulator/report-answers", json={"report": "sales", "answer": "maybe"}, timeout=5)
    assert reply.status_code == 400


def test_sales_paths_are_unchanged(emu: AppstoreEmulator) -> None:
    assert link(emu, "sales/2024/3").status_code == 200
    assert "Unable to fetch the request scope" in link(emu, "sales/2024").text
