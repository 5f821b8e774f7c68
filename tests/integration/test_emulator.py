"""The Appstore Reporting API emulator, exercised over real HTTP against a moto server."""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.local.appstore_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, REPORTING_SCOPE, AppstoreEmulator
from infra.local.salesdata import SEED16, SalesData

pytestmark = pytest.mark.integration

NOW = calendar.timegm((2024, 6, 15, 12, 0, 0))  # the emulator's fixed "now": June 2024 is current
SEED16_HEADER = [name for name, _ in SEED16]
REPO = Path(__file__).resolve().parents[2]


def s3_client(endpoint: str) -> Any:
    """A boto3 S3 client for the moto server."""
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def running(moto_server: str) -> Iterator[AppstoreEmulator]:
    """One emulator for the module, on a fixed clock."""
    with AppstoreEmulator(s3_client(moto_server), clock=lambda: NOW, rate_limit=None) as emulator:
        yield emulator


@pytest.fixture
def emu(running: AppstoreEmulator) -> AppstoreEmulator:
    """The module's emulator, reset, without rate limit."""
    running.reset()
    running.rate_limit = None
    return running


def form(**overrides: str) -> dict[str, str]:
    """A valid token request form, with overrides."""
    return {
        "grant_type": "client_credentials",
        "client_id": DEMO_CLIENT_ID,
        "client_secret": DEMO_CLIENT_SECRET,
        "scope": REPORTING_SCOPE,
        **overrides,
    }


def get_token(emu: AppstoreEmulator) -> str:
    """A token through the token endpoint."""
    response = requests.post(emu.token_url, data=form(), timeout=5)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def report(emu: AppstoreEmulator, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
    """GET the report endpoint for type/year/month."""
    headers = {"Authorization": f"Bearer {token or emu.issue_token()}"}
    return requests.get(f"{emu.report_url}/{path}", headers=headers, timeout=5, **kwargs)


def link(emu: AppstoreEmulator, year: int = 2024, month: int = 3) -> str:
    """The presigned URL for a sales month."""
    response = report(emu, f"sales/{year}/{month}")
    assert response.status_code == 200, response.text
    return response.text


def fetch(emu: AppstoreEmulator, year: int = 2024, month: int = 3) -> bytes:
    """The served file of a sales month."""
    response = requests.get(link(emu, year, month), timeout=10)
    assert response.status_code == 200, response.text
    return response.content


def csv_text(data: bytes) -> str:
    """The CSV text inside a ZIP or (multi-member) gzip file, sniffed by magic bytes."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (name,) = archive.namelist()
            return archive.read(name).decode("utf-8")
    assert data[:2] == b"\x1f\x8b"
    return gzip.decompress(data).decode("utf-8")


def records(text: str) -> list[list[str]]:
    """The CSV records of a text (BOM removed)."""
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def table(data: bytes) -> list[list[str]]:
    """The CSV records inside a served file."""
    return records(csv_text(data))


# ----- token -----
def test_token_success(emu: AppstoreEmulator) -> None:
    response = requests.post(emu.token_url, data=form(), timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"].startswith("Atc|")
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == REPORTING_SCOPE


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "amzn1.application-oa2-client.other"}, 401, "invalid_client"),
        ({"scope": "appstore::apps:readwrite"}, 400, "invalid_scope"),
        ({"scope": ""}, 400, "invalid_request"),
        ({"client_secret": ""}, 400, "invalid_request"),
        ({"grant_type": ""}, 400, "invalid_request"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_token_errors(emu: AppstoreEmulator, overrides: dict[str, str], status: int, error: str) -> None:
    response = requests.post(emu.token_url, data=form(**overrides), timeout=5)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_token_needs_form_encoding(emu: AppstoreEmulator) -> None:
    response = requests.post(emu.token_url, json=form(), timeout=5)
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


# ----- report link -----
def test_report_link_padded_and_unpadded(emu: AppstoreEmulator) -> None:
    token = get_token(emu)
    unpadded, padded = report(emu, "sales/2024/3", token), report(emu, "sales/2024/03", token)
    assert unpadded.status_code == padded.status_code == 200
    assert unpadded.headers["Content-Type"].startswith("text/plain")
    assert unpadded.text.split("?")[0] == padded.text.split("?")[0]
    expected = f"{emu.base_url}/appstore-vendor-reports/85923/sales/sales_2024_03.zip?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
    assert unpadded.text.startswith(expected)
    for part in ("X-Amz-Date=20240615T120000Z", "X-Amz-Expires=299", "X-Amz-SignedHeaders=host", "X-Amz-Signature="):
        assert part in unpadded.text
    assert "%2Fus-east-1%2Fs3%2Faws4_request" in unpadded.text


@pytest.mark.parametrize(
    "path", ["sales/2018/1", "sales/2017/12", "sales/2024/7", "sales/2031/1", "earnings/2024/5", "subscription/2024/7"]
)
def test_report_not_found(emu: AppstoreEmulator, path: str) -> None:
    response = report(emu, path)
    assert response.status_code == 400
    assert "Report not found" in response.text


def test_month_configured_empty_is_not_found(emu: AppstoreEmulator) -> None:
    emu.set_month(2024, 2, empty=True)
    assert "Report not found" in report(emu, "sales/2024/2").text
    assert emu.expected_totals(2024, 2) is None


@pytest.mark.parametrize("path", ["bogus/2024/3", "sales/2024", "sales/2024/march", "sales/2024/3/extra"])
def test_unknown_type_or_path(emu: AppstoreEmulator, path: str) -> None:
    response = report(emu, path)
    assert response.status_code == 400
    assert response.text == f"Unable to fetch the request scope for uri = {emu.report_path}/{path}"


def test_report_auth(emu: AppstoreEmulator) -> None:
    assert requests.get(f"{emu.report_url}/sales/2024/3", timeout=5).status_code == 401
    assert report(emu, "sales/2024/3", token="Atc|not-issued").status_code == 401
    token = get_token(emu)
    assert report(emu, "sales/2024/3", token).status_code == 200
    emu.advance_clock(3600)
    assert report(emu, "sales/2024/3", token).status_code == 403
    fresh = get_token(emu)
    emu.expire_tokens()
    assert report(emu, "sales/2024/3", fresh).status_code == 403


def test_rate_limit(emu: AppstoreEmulator) -> None:
    emu.rate_limit = 3
    token = emu.issue_token()
    statuses = [report(emu, "sales/2024/3", token).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    limited = report(emu, "sales/2024/3", token)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "1")
    time.sleep(1.05)
    assert report(emu, "sales/2024/3", token).status_code == 200
    assert emu.stats()["report"][429] >= 1


# ----- download -----
def test_download_returns_the_stored_bytes(emu: AppstoreEmulator) -> None:
    response = requests.get(link(emu), timeout=10)
    stored = emu.s3.get_object(Bucket=emu.bucket, Key="85923/sales/sales_2024_03.zip")
    assert response.status_code == 200
    assert response.content == stored["Body"].read()
    assert response.headers["Content-Type"] == "binary/octet-stream"
    assert response.headers["Content-Length"] == str(len(response.content))
    assert response.headers["ETag"] == stored["ETag"]
    assert "authorization" not in {name.lower() for headers in emu.download_headers for name in headers}
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.namelist() == ["sales_2024_03.csv"]


def test_file_matches_expected_totals(emu: AppstoreEmulator) -> None:
    header, *rows = table(fetch(emu))
    assert header == SEED16_HEADER
    totals = emu.expected_totals(2024, 3)
    assert totals is not None and len(rows) == totals.rows > 0
    sums: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (row[7], row[13])
        sums[key] = sums.get(key, Decimal(0)) + Decimal(row[14])
    assert sums == {key: group.sales_price for key, group in totals.groups.items()}
    assert any(row[5] == "Refund" and row[14].startswith("-") for row in rows)
    assert any("\n" in row[7] for row in rows) and any("," in row[7] for row in rows)


def test_expired_link(emu: AppstoreEmulator) -> None:
    url = link(emu)
    emu.advance_clock(299)
    assert requests.get(url, timeout=5).status_code == 200
    emu.advance_clock(2)
    response = requests.get(url, timeout=5)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text and "Request has expired" in response.text


def test_bad_signature_and_extra_authorization(emu: AppstoreEmulator) -> None:
    url = link(emu)
    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    response = requests.get(forged, timeout=5)
    assert response.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in response.text
    later = url.replace("X-Amz-Date=20240615T120000Z", "X-Amz-Date=20240615T130000Z")
    assert "SignatureDoesNotMatch" in requests.get(later, timeout=5).text
    with_auth = requests.get(url, headers={"Authorization": "Bearer Atc|leak"}, timeout=5)
    assert with_auth.status_code == 400 and "InvalidArgument" in with_auth.text
    assert emu.download_headers[-1]["Authorization"] == "<redacted>"


def test_zip_and_gzip_hold_the_same_csv(emu: AppstoreEmulator) -> None:
    zipped = fetch(emu)
    emu.set_month(2024, 3, compression="gzip")
    url = link(emu)
    assert "/sales_2024_03.gz?" in url
    gzipped = requests.get(url, timeout=5).content
    assert zipped[:4] == b"PK\x03\x04" and gzipped[:2] == b"\x1f\x8b"
    assert csv_text(zipped) == csv_text(gzipped)


def test_bom_and_lf_endings(emu: AppstoreEmulator) -> None:
    plain = csv_text(fetch(emu))
    emu.set_month(2024, 3, bom=True, line_ending="\n")
    text = csv_text(fetch(emu))
    assert not plain.startswith("\ufeff") and text.startswith("\ufeff")
    assert plain.endswith("\r\n") and text.endswith("\n") and not text.endswith("\r\n")
    assert records(plain) == records(text)


def test_multi_member_gzip(emu: AppstoreEmulator) -> None:
    emu.set_month(2024, 3, compression="gzip")
    single = fetch(emu)
    emu.set_month(2024, 3, compression="gzip", multi_member=True)
    multi = fetch(emu)
    assert gzip.decompress(multi) == gzip.decompress(single)
    first_member = zlib.decompressobj(wbits=31).decompress(multi).decode()
    assert first_member.count("\n") == 1 and first_member.startswith("Marketplace,")


def test_header_only_month(emu: AppstoreEmulator) -> None:
    emu.set_month(2024, 3, header_only=True)
    assert table(fetch(emu)) == [SEED16_HEADER]
    totals = emu.expected_totals(2024, 3)
    assert totals is not None and totals.rows == 0


@pytest.mark.parametrize("variant", ["seed16", "extended", "reordered", "renamed", "drift"])
def test_header_variants(emu: AppstoreEmulator, variant: str) -> None:
    emu.set_month(2024, 3, variant=variant)
    header, *rows = table(fetch(emu))
    totals = emu.expected_totals(2024, 3)
    assert totals is not None and len(rows) == totals.rows
    extras = ["ASIN", "In-App Subscription Status (Trial / Paid)", "App User ID", "Receipt ID", "Digital Order ID", "Adjustment"]
    if variant == "seed16":
        assert header == SEED16_HEADER
    elif variant == "reordered":
        assert sorted(header) == sorted(SEED16_HEADER) and header != SEED16_HEADER
    elif variant == "renamed":
        assert {"Country Code", "SKU", "Currency", "Sales Price", "Estimated Earnings", "Transaction Date"} <= set(header)
    else:
        assert set(SEED16_HEADER + extras) <= set(header)
        assert ("Promotion ID" in header) == (variant == "drift")


def test_restatement_changes_bytes_deterministically(emu: AppstoreEmulator, moto_server: str) -> None:
    before = fetch(emu)
    rows_before = emu.expected_totals(2024, 3)
    assert emu.restate(2024, 3) == 1
    after = fetch(emu)
    rows_after = emu.expected_totals(2024, 3)
    assert after != before
    assert rows_before is not None and rows_after is not None and rows_after.rows == rows_before.rows + 1
    assert any(row[5] == "Refund" for row in table(after)[-1:])
    with AppstoreEmulator(s3_client(moto_server), bucket="emulator-twin", clock=lambda: NOW, rate_limit=None) as twin:
        assert fetch(twin) == before
        twin.restate(2024, 3)
        assert fetch(twin) == after


def test_same_seed_same_bytes_other_seed_differs(emu: AppstoreEmulator, moto_server: str) -> None:
    ours = fetch(emu, 2023, 11)
    with AppstoreEmulator(s3_client(moto_server), bucket="emulator-other-seed", seed=7, clock=lambda: NOW) as other:
        assert fetch(other, 2023, 11) != ours
    assert SalesData().expected_totals(2023, 11) == SalesData().expected_totals(2023, 11)


# ----- faults -----
@pytest.mark.parametrize(("fault", "status"), [("500", 500), ("503", 503), ("429", 429), ("invalid_client", 401), ("invalid_scope", 400)])
def test_token_faults(emu: AppstoreEmulator, fault: str, status: int) -> None:
    emu.inject("token", fault)
    response = requests.post(emu.token_url, data=form(), timeout=5)
    assert response.status_code == status
    if status == 429:
        assert response.headers["Retry-After"] == "1"
    assert requests.post(emu.token_url, data=form(), timeout=5).status_code == 200


def test_token_fault_invalid_token(emu: AppstoreEmulator) -> None:
    emu.inject("token", "invalid_token")
    token = get_token(emu)
    assert report(emu, "sales/2024/3", token).status_code == 401


@pytest.mark.parametrize(
    ("fault", "status", "text"),
    [("500", 500, ""), ("429", 429, ""), ("not_found_404", 404, "Report not found"), ("invalid_token", 401, "")],
)
def test_report_status_faults(emu: AppstoreEmulator, fault: str, status: int, text: str) -> None:
    emu.inject("report", fault, times=2)
    assert [report(emu, "sales/2024/3").status_code for _ in range(3)] == [status, status, 200]
    emu.inject("report", fault)
    assert text in report(emu, "sales/2024/3").text


def test_report_fault_report_not_found(emu: AppstoreEmulator) -> None:
    emu.inject("report", "report_not_found")
    response = report(emu, "sales/2024/3")
    assert response.status_code == 400 and "Report not found" in response.text


def test_report_fault_url_shapes(emu: AppstoreEmulator) -> None:
    emu.inject("report", "redirect")
    redirected = report(emu, "sales/2024/3", allow_redirects=False)
    assert redirected.status_code == 302 and "X-Amz-Signature=" in redirected.headers["Location"]
    assert requests.get(redirected.headers["Location"], timeout=5).content == fetch(emu)
    emu.inject("report", "redirect", location="http://127.0.0.1:9/elsewhere")
    assert report(emu, "sales/2024/3", allow_redirects=False).headers["Location"] == "http://127.0.0.1:9/elsewhere"
    emu.inject("report", "json_url")
    assert requests.get(report(emu, "sales/2024/3").json()["url"], timeout=5).status_code == 200
    emu.inject("report", "bare_url")
    padded = report(emu, "sales/2024/3").text
    assert padded.endswith("\r\n") and requests.get(padded.strip(), timeout=5).status_code == 200
    emu.inject("report", "bare_url", url="https://appstore.s3.amazonaws.com/85923/sales/x.gz?X-Amz-Expires=299")
    assert report(emu, "sales/2024/3").text == "https://appstore.s3.amazonaws.com/85923/sales/x.gz?X-Amz-Expires=299"


def test_report_fault_expired_link(emu: AppstoreEmulator) -> None:
    emu.inject("report", "expired_link")
    response = requests.get(link(emu), timeout=5)
    assert response.status_code == 403 and "Request has expired" in response.text
    assert requests.get(link(emu), timeout=5).status_code == 200


DOWNLOAD_FAULTS = [
    ("500", 500, "InternalError"),
    ("503", 503, "SlowDown"),
    ("429", 429, "SlowDown"),
    ("not_found_404", 404, "NoSuchKey"),
    ("expired_link", 403, "AccessDenied"),
]


@pytest.mark.parametrize(("fault", "status", "code"), DOWNLOAD_FAULTS)
def test_download_status_faults(emu: AppstoreEmulator, fault: str, status: int, code: str) -> None:
    url = link(emu)
    emu.inject("download", fault)
    response = requests.get(url, timeout=5)
    assert response.status_code == status and f"<Code>{code}</Code>" in response.text
    assert requests.get(url, timeout=5).status_code == 200


def test_download_truncate(emu: AppstoreEmulator) -> None:
    url = link(emu)
    emu.inject("download", "truncate")
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(url, timeout=5)
    raw = requests.get(url, stream=True, timeout=5)
    assert int(raw.headers["Content-Length"]) == len(raw.raw.read(decode_content=False))


def test_download_corrupt_keeps_length(emu: AppstoreEmulator) -> None:
    url = link(emu)
    good = requests.get(url, timeout=5).content
    emu.inject("download", "corrupt")
    bad = requests.get(url, timeout=5)
    assert bad.status_code == 200 and len(bad.content) == len(good) and bad.content != good
    with pytest.raises((zipfile.BadZipFile, zlib.error)):
        csv_text(bad.content)


def test_download_content_encoding_gzip(emu: AppstoreEmulator) -> None:
    emu.set_month(2024, 3, compression="gzip")
    url = link(emu)
    stored = requests.get(url, timeout=5).content
    emu.inject("download", "content_encoding_gzip")
    response = requests.get(url, stream=True, timeout=5)
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.raw.read(decode_content=False) == stored


def test_head_download_and_other_endpoint_faults(emu: AppstoreEmulator) -> None:
    url = link(emu)
    head = requests.head(url, timeout=5)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(fetch(emu))
    emu.inject("token", "truncate")
    with pytest.raises(requests.exceptions.RequestException):
        requests.post(emu.token_url, data=form(), timeout=5)
    emu.inject("report", "truncate")
    with pytest.raises(requests.exceptions.RequestException):
        report(emu, "sales/2024/3")
    emu.inject("report", "delay", seconds=0.3)
    started = time.monotonic()
    assert report(emu, "sales/2024/3").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_fault_validation(emu: AppstoreEmulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        emu.inject("download", "redirect")
    with pytest.raises(ValueError, match="unknown endpoint"):
        emu.inject("elsewhere", "500")


# ----- admin endpoints and CLI -----
def test_admin_endpoints(emu: AppstoreEmulator) -> None:
    admin = emu.base_url + emu.admin_path

    def post(action: str, **payload: Any) -> requests.Response:
        """POST one admin action."""
        return requests.post(f"{admin}/{action}", json=payload, timeout=5)

    assert post("faults", endpoint="report", fault="500", times=1).status_code == 200
    assert report(emu, "sales/2024/3").status_code == 500
    assert post("faults", endpoint="report", fault="nope").status_code == 400
    assert post("months", year=2024, month=3, compression="gzip", bom=True).status_code == 200
    assert fetch(emu)[:2] == b"\x1f\x8b"
    before = requests.get(f"{admin}/expected-totals", params={"year": 2024, "month": 3}, timeout=5).json()
    assert post("restate", year=2024, month=3).json() == {"revision": 1}
    after = requests.get(f"{admin}/expected-totals", params={"year": 2024, "month": 3}, timeout=5).json()
    assert after["rows"] == before["rows"] + 1 and after["groups"][0]["sales_price"]
    token = emu.issue_token()
    assert post("expire-tokens").status_code == 200
    assert report(emu, "sales/2024/3", token).status_code == 403
    assert post("clock", advance=10).json()["now"] == NOW + 10
    stats = requests.get(f"{admin}/stats", timeout=5).json()
    assert stats["report"]["500"] == 1 and stats["download"]["200"] >= 1
    assert requests.get(f"{admin}/download-headers", timeout=5).json()
    assert requests.get(f"{admin}/health", timeout=5).json()["token_url"] == emu.token_url
    assert post("reset").status_code == 200
    assert emu.stats() == {"admin": {200: 1}}  # the reset request itself
    assert post("no-such-action").status_code == 404


def test_cli_runs_until_sigterm(moto_server: str) -> None:
    env = {**os.environ, "AWS_ENDPOINT_URL": moto_server, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    command = [sys.executable, "-m", "infra.local.appstore_emulator", "--port", "0", "--bucket", "emulator-cli", "--rows", "5"]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        token = requests.post(urls["token_url"], data=form(), timeout=5).json()["access_token"]
        url = requests.get(f"{urls['report_url']}/sales/2024/3", headers={"Authorization": f"Bearer {token}"}, timeout=5).text
        assert len(table(requests.get(url, timeout=5).content)) == 6
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


@pytest.mark.parametrize("endpoint", [None, "https://s3.amazonaws.com", "http://10.0.0.5:5000"])
def test_cli_refuses_without_a_loopback_s3(endpoint: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    command = [sys.executable, "-m", "infra.local.appstore_emulator", "--port", "0"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stdout == ""
    assert "refusing to start" in done.stderr and "loopback" in done.stderr and "Traceback" not in done.stderr


def test_cli_help_documents_options_and_admin_endpoints() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "infra.local.appstore_emulator", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for text in ("--rate-limit", "--s3-endpoint-url", "/_emulator/faults", "/_emulator/restate", "/_emulator/months", "report_not_found"):
        assert text in done.stdout
    # Every admin action the emulator answers is documented.
    actions = set(re.findall(r'action == "([\w-]+)"', (REPO / "infra/local/emulator/admin.py").read_text()))
    assert {"served", "report-answers", "faults"} <= actions
    assert [a for a in sorted(actions) if f"/_emulator/{a}" not in done.stdout] == []
