"""Issue 5's fault matrix: each row an integration test against moto server and the Appstore API emulator.

Every test asserts the outcome and that nothing was lost: a month that "recovers" holds the
served bytes exactly; a month that "fails cleanly" leaves the previous raw object, curated
object and Glue partition exactly as they were (same bytes, same version id).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import app
from archiver.amazon import appstore
from archiver.core.months import Month
from archiver.core.results import RunFailedError
from archiver.core.settings import ConfigError
from archiver.formats.sales_csv import CuratedDialect
from archiver.formats.schema import CANONICAL_COLUMNS
from archiver.run import pipeline
from archiver.run.plan import InvalidEvent
from archiver.storage.catalog import CatalogError
from archiver.storage.lease import KEY as LEASE
from infra.local.appstore_emulator import DEMO_CLIENT_ID
from infra.local.faultproxy import AfterCommit, Call, Decision, ErrorReply, FaultProxy, LoopbackServer, glue_error, s3_error
from infra.local.salesdata import rows_for_size
from infra.local.stack import BUCKET, DATABASE, FUNCTION_DIR, SECRET, TABLE, FakeContext, LocalStack

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
THIS = Month.of(datetime.now(UTC))
LAST, EARLIER = THIS.shift(-1), THIS.shift(-2)
PREFIX = "appstore/"
_NEWLINES = re.compile(r"\r\n|\r|\n")


# ----- fixtures and helpers -----
@pytest.fixture(autouse=True)
def cold_start() -> None:
    """Each test starts like a new execution environment: no cached Appstore token."""
    appstore._TOKEN_CACHE.clear()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every JSON log line the handler writes, formatted as in Lambda."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(app.logger.registered_formatter)
    app.logger.addHandler(handler)
    yield buffer
    app.logger.removeHandler(handler)


def event(*months: Month, force: bool = False) -> dict[str, Any]:
    """A manual event for some months."""
    body: dict[str, Any] = {"months": [str(m) for m in months]}
    return {**body, "force": True} if force else body


def statuses(result: dict[str, Any]) -> dict[str, str]:
    """Month -> status of a run's return value."""
    return {r["month"]: r["status"] for r in result["results"]}


def emitted(out: str) -> dict[str, float]:
    """The EMF metrics printed on stdout, summed by name."""
    totals: Counter[str] = Counter()
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if not isinstance(doc, dict) or "_aws" not in doc:
            continue
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "AppstoreArchive"
            for metric in directive["Metrics"]:
                value = doc[metric["Name"]]
                totals[metric["Name"]] += sum(value) if isinstance(value, list) else value
    return dict(totals)


def month_logs(buffer: io.StringIO) -> dict[str, dict[str, Any]]:
    """The per-month log records of the handler, by month."""
    records = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    return {r["month"]: r for r in records if "month" in r and "status" in r}


def requests_seen(stack: LocalStack) -> Counter[tuple[str, int]]:
    """The emulator's request counts by (endpoint, status)."""
    return Counter({(endpoint, status): n for endpoint, counts in stack.emulator.stats().items() for status, n in counts.items()})


def count(seen: Counter[tuple[str, int]], endpoint: str, status: int | None = None) -> int:
    """Requests to an endpoint, optionally with one status."""
    return sum(n for (e, s), n in seen.items() if e == endpoint and (status is None or s == status))


def s3_body(stack: LocalStack, bucket: str, key: str) -> bytes:
    """An object's current bytes."""
    return bytes(stack.clients.s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def vendor_key(stack: LocalStack, month: Month) -> str:
    """The key of the month's report in the emulator's vendor bucket (generated on first use)."""
    return stack.emulator.object_key(month.year, month.month)


def served(stack: LocalStack, month: Month) -> bytes:
    """The bytes the emulator serves for a month."""
    return s3_body(stack, stack.emulator.bucket, vendor_key(stack, month))


def replace_served(stack: LocalStack, month: Month, data: bytes) -> None:
    """Make the emulator serve these bytes for the month (written into its vendor bucket)."""
    stack.clients.s3.put_object(Bucket=stack.emulator.bucket, Key=vendor_key(stack, month), Body=data)


def raw_prefix(month: Month) -> str:
    return f"{PREFIX}raw/sales/year={month.year:04d}/month={month.mm}/"


def curated_key(month: Month) -> str:
    return f"{PREFIX}sales/year={month.year:04d}/month={month.mm}/sales_{month.year:04d}_{month.mm}.csv.gz"


def location(month: Month) -> str:
    return f"s3://{BUCKET}/{PREFIX}sales/year={month.year:04d}/month={month.mm}/"


@dataclass(frozen=True)
class Snapshot:
    """Everything the archive holds: every object version, the current bytes, the partitions."""

    versions: frozenset[tuple[str, str, bool, str]]
    current: dict[str, bytes] = field(repr=False)
    partitions: dict[tuple[str, ...], dict[str, Any]]


def bucket_versions(stack: LocalStack) -> frozenset[tuple[str, str, bool, str]]:
    """(key, version id, is latest, ETag) of every object version and delete marker but the lease's and the periods table's.

    Every run takes the lease; the periods table records what a run did, failures included (tests/unit/test_periods.py):
    the archive a fault must not damage is everything else.
    """
    listing = stack.clients.s3.list_object_versions(Bucket=BUCKET)
    versions = {(v["Key"], v["VersionId"], v["IsLatest"], v["ETag"]) for v in listing.get("Versions", [])}
    markers = {(d["Key"], d["VersionId"], d["IsLatest"], "") for d in listing.get("DeleteMarkers", [])}
    return frozenset(v for v in versions | markers if v[0] != f"{PREFIX}{LEASE}" and not v[0].startswith(f"{PREFIX}periods/"))


def current_keys(stack: LocalStack) -> set[str]:
    """The keys of the bucket's current objects, but the periods table's."""
    pages = stack.clients.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {item["Key"] for page in pages for item in page.get("Contents", []) if not item["Key"].startswith(f"{PREFIX}periods/")}


def partitions(stack: LocalStack) -> dict[tuple[str, ...], dict[str, Any]]:
    """The sales table's partitions: values -> storage descriptor."""
    found = stack.clients.glue.get_partitions(DatabaseName=DATABASE, TableName=TABLE)["Partitions"]
    return {tuple(p["Values"]): p["StorageDescriptor"] for p in found}


def snapshot(stack: LocalStack, with_partitions: bool = True) -> Snapshot:
    """The archive's full state now."""
    versions = bucket_versions(stack)
    current = {key: s3_body(stack, BUCKET, key) for key, _, latest, etag in versions if latest and etag}
    return Snapshot(versions, current, partitions(stack) if with_partitions else {})


def archive(stack: LocalStack, *months: Month) -> dict[str, Any]:
    """Archive months once, successfully (the state a fault must not damage)."""
    result = stack.invoke(event(*months))
    assert set(statuses(result).values()) == {"archived"}, result
    return result


def csv_of(data: bytes) -> str:
    """The CSV text inside a ZIP or (multi-member) gzip report, BOM removed."""
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            (member,) = packed.namelist()
            return packed.read(member).decode("utf-8").removeprefix("\ufeff")
    return gzip.decompress(data).decode("utf-8").removeprefix("\ufeff")


def records(text: str) -> list[list[str]]:
    """CSV records of a text."""
    return list(csv.reader(io.StringIO(text, newline="")))


def expected_curated(stack: LocalStack, month: Month, data: bytes) -> list[list[str]]:
    """The curated rows for a served file, derived from the emulator's own column truth.

    Each source field goes to the canonical column the generator wrote it from; values keep
    every character except that each CR, LF or CRLF becomes one space (the contract).
    """
    header, *rows = records(csv_of(data))
    columns = stack.emulator.data.columns(stack.emulator.month_options(month.year, month.month).variant, month.year, month.month)
    assert header == [name for name, _ in columns]
    fields = [key for _, key in columns]
    expected = []
    for row in rows:
        by_field = dict(zip(fields, row, strict=True))
        expected.append([_NEWLINES.sub(" ", by_field.get(column, "")) for column in CANONICAL_COLUMNS])
    return expected


def assert_holds_served(stack: LocalStack, month: Month) -> list[list[str]]:
    """The month holds the served bytes exactly, its curated rows, and its partition; returns the rows."""
    data = served(stack, month)
    listing = stack.clients.s3.list_objects_v2(Bucket=BUCKET, Prefix=raw_prefix(month))
    (raw_key,) = [item["Key"] for item in listing.get("Contents", [])]
    assert s3_body(stack, BUCKET, raw_key) == data
    curated = gzip.decompress(s3_body(stack, BUCKET, curated_key(month))).decode("utf-8")
    header, *rows = list(csv.reader(io.StringIO(curated, newline=""), dialect=CuratedDialect))
    assert header == list(CANONICAL_COLUMNS)
    assert rows == expected_curated(stack, month, data)
    assert partitions(stack)[(f"{month.year:04d}", month.mm)]["Location"] == location(month)
    return rows


def assert_archived_as_served(stack: LocalStack, month: Month, result: dict[str, Any]) -> list[list[str]]:
    """The run archived the month, which now holds the served bytes exactly; returns the curated rows."""
    (entry,) = [r for r in result["results"] if r["month"] == str(month)]
    assert entry["status"] == "archived", entry
    rows = assert_holds_served(stack, month)
    assert entry["rows"] == len(rows)
    assert entry["raw_key"].startswith(raw_prefix(month))
    return rows


def fails_cleanly(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, run_event: dict[str, Any], failed: list[Month]
) -> str:
    """Run, expecting the months to fail with nothing changed; return the error message."""
    before = snapshot(stack)
    capsys.readouterr()
    with pytest.raises(RunFailedError) as caught:
        stack.invoke(run_event)
    message = str(caught.value)
    assert message.startswith(f"{len(failed)} month(s) failed")
    for month in failed:
        assert f"{month}: " in message
        assert month_logs(logs)[str(month)]["status"] == "failed"
    metrics = emitted(capsys.readouterr().out)
    assert metrics["RunFailed"] == 1
    assert metrics["MonthsFailed"] == len(failed)
    assert "RunSucceeded" not in metrics
    after = snapshot(stack)
    assert outside_quarantine(after) == outside_quarantine(before)  # bytes refused are kept under quarantine/
    left = {k for k in after.current if "/state/sales/pending/" in k} - set(before.current)  # an upload that may still land
    assert {k.rsplit("/", 1)[1] for k in left} <= {f"{month}.json" for month in failed}  # the next run settles it
    return message


def outside_quarantine(state: Snapshot) -> Snapshot:
    """The snapshot without the quarantine/ keys (where a month that fails keeps the bytes Amazon served) or pending markers."""
    kept = ("/quarantine/", "/state/sales/pending/")  # a failed upload whose outcome S3 did not tell leaves its pending marker
    versions = frozenset(v for v in state.versions if not any(k in v[0] for k in kept))
    return Snapshot(versions, {k: v for k, v in state.current.items() if not any(f in k for f in kept)}, state.partitions)


def fails_before_any_month(
    stack: LocalStack,
    capsys: pytest.CaptureFixture[str],
    run_event: Any,
    error: type[Exception],
    requests: Counter[tuple[str, int]] | None = None,
) -> str:
    """Run, expecting a clear error before any month: the RunFailed metric, nothing written, no Appstore request but `requests`."""
    before, seen = snapshot(stack), requests_seen(stack)
    capsys.readouterr()
    with pytest.raises(error) as caught:
        stack.invoke(run_event)
    metrics = emitted(capsys.readouterr().out)
    assert metrics == {"RunFailed": 1}
    assert snapshot(stack) == before
    assert requests_seen(stack) - seen == (requests or Counter())
    return str(caught.value)


class Recorder(LoopbackServer):
    """A loopback HTTP server that records each request and answers with one fixed reply."""

    def __init__(self, host: str = "127.0.0.1", status: int = 200, headers: dict[str, str] | None = None, drop: bool = False) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.requests.append(("GET", self.path, dict(self.headers.items())))
                if drop:  # close the connection without answering
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(host, Handler)


# ----- 1-3: token endpoint -----
def test_01_token_500_twice_then_ok_recovers(stack: LocalStack) -> None:
    stack.emulator.inject("token", 500, times=2)
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    assert stack.emulator.stats()["token"] == {500: 2, 200: 1}


def test_02_token_invalid_client_fails_the_run_before_any_month(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    months = [EARLIER, LAST, THIS]
    archive(stack, *months)
    appstore._TOKEN_CACHE.clear()  # a new execution environment: the run must log in
    wrong = {"client_id": DEMO_CLIENT_ID, "client_secret": "wrong-secret"}
    stack.clients.secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps(wrong))
    # One token request for the whole run, no retries, no report request: nothing is changed.
    message = fails_before_any_month(stack, capsys, event(*months, force=True), appstore.CredentialsError, Counter({("token", 401): 1}))
    assert "invalid_client" in message
    assert "check client_id and client_secret" in message
    assert "wrong-secret" not in message + logs.getvalue()
    assert "run failed before archiving any month" in logs.getvalue()


def test_03_token_invalid_scope_says_the_profile_is_not_attached(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, LAST, THIS)
    appstore._TOKEN_CACHE.clear()
    stack.emulator.inject("token", "invalid_scope", times=10)
    message = fails_before_any_month(stack, capsys, event(LAST, THIS, force=True), appstore.CredentialsError, Counter({("token", 400): 1}))
    assert "invalid_scope" in message
    assert "security profile" in message
    assert "Reporting API" in message
    assert "run failed before archiving any month" in logs.getvalue()


# ----- 4-5: report endpoint -----
@pytest.mark.parametrize(
    ("fault", "month"),
    [("report_not_found", THIS), ("not_found_404", THIS), (None, Month(2019, 12))],
    ids=["400-report-not-found", "404", "month-without-report"],
)
def test_04_report_not_found_is_not_an_error(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], fault: str | None, month: Month
) -> None:
    if fault:
        stack.emulator.inject("report", fault)
    capsys.readouterr()
    result = stack.invoke(event(month))
    assert result["results"] == [
        {
            "report": "sales",
            "month": str(month),
            "status": "not_found",
            "raw_key": None,
            "curated_key": None,
            "bytes": None,
            "rows": None,
            "sha256": None,
            "error": None,
            "unknown_columns": [],
            "guesses": None,
            "guess_notes": [],
        }
    ]
    metrics = emitted(capsys.readouterr().out)
    assert (metrics["MonthsNotFound"], metrics["RunSucceeded"], metrics["MonthsFailed"]) == (1, 1, 0)
    assert current_keys(stack) == {f"{PREFIX}state/sales/not_found/{month}.json"}  # the marker only: no raw, no curated object
    assert partitions(stack) == {}


def test_05_report_429_with_retry_after_recovers(stack: LocalStack) -> None:
    stack.emulator.inject("report", 429, times=2, retry_after=1)
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    assert stack.emulator.stats()["report"][429] >= 2


# ----- 6-8: expired token, expired link, broken downloads -----
@pytest.mark.parametrize("status", [401, 403])
def test_06_token_expiring_mid_run_recovers_with_one_refresh(stack: LocalStack, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    stack.emulator.expired_token_status = status
    real_download = pipeline.download
    downloads = []

    def download_then_expire(*args: Any, **kwargs: Any) -> Any:
        """After the first month's download, Login with Amazon considers the token expired."""
        result = real_download(*args, **kwargs)
        downloads.append(result)
        if len(downloads) == 1:
            stack.emulator.expire_tokens()
        return result

    monkeypatch.setattr(pipeline, "download", download_then_expire)
    result = stack.invoke(event(EARLIER, LAST, THIS))
    for month in (EARLIER, LAST, THIS):
        assert_archived_as_served(stack, month, result)
    seen = requests_seen(stack)
    assert count(seen, "token") == count(seen, "token", 200) == 2  # the first login and exactly one refresh
    assert count(seen, "report", status) == 1


def test_07_expired_link_recovers_with_a_fresh_link(stack: LocalStack) -> None:
    stack.emulator.inject("download", "expired_link")
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    seen = requests_seen(stack)
    assert count(seen, "download", 403) == 1
    assert count(seen, "report", 200) == 2  # a new link was asked for, the expired one not retried
    assert count(seen, "download") == 2


def test_08_download_truncated_once_recovers(stack: LocalStack) -> None:
    stack.emulator.inject("download", "truncate", times=1)
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    assert count(requests_seen(stack), "report", 200) == 2


def test_08_download_truncated_every_time_fails_cleanly(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)  # new bytes: the run would otherwise replace the month
    stack.emulator.inject("download", "truncate", times=5)
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "DownloadError" in message
    assert "X-Amz-" not in message
    assert count(requests_seen(stack), "download") == 1 + pipeline.DOWNLOAD_ATTEMPTS


def test_08_connection_dropped_recovers(stack: LocalStack) -> None:
    with Recorder(drop=True) as dropper:
        stack.emulator.inject("report", "bare_url", url=f"{dropper.url}/vendor/sales.zip?X-Amz-Signature=x")
        result = stack.invoke(event(THIS))
    assert len(dropper.requests) == 1
    assert_archived_as_served(stack, THIS, result)


# ----- 9: files that are not a single compressed CSV -----
def _flip_middle(data: bytes, width: int = 16) -> bytes:
    """The bytes with `width` bytes in the middle inverted."""
    start = len(data) // 2
    return data[:start] + bytes(b ^ 0xFF for b in data[start : start + width]) + data[start + width :]


def _zip(members: dict[str, str]) -> bytes:
    """A ZIP archive holding these members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, text in members.items():
            packed.writestr(name, text)
    return buffer.getvalue()


CRAFTED: dict[str, Callable[[str], bytes]] = {
    "corrupt-gzip": lambda text: _flip_middle(gzip.compress(text.encode())),
    "truncated-gzip": lambda text: gzip.compress(text.encode())[: len(gzip.compress(text.encode())) // 2],
    "corrupt-zip": lambda text: _flip_middle(_zip({"sales.csv": text})),
    "truncated-zip": lambda text: _zip({"sales.csv": text})[: len(_zip({"sales.csv": text})) // 2],
    "zip-without-csv": lambda text: _zip({"README.txt": "no report here"}),
    "zip-with-two-csvs": lambda text: _zip({"sales.csv": text, "sales-2.csv": text}),
    "not-compressed": lambda text: text.encode(),
}


@pytest.mark.parametrize("kind", sorted(CRAFTED))
def test_09_unreadable_file_fails_cleanly(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, kind: str) -> None:
    archive(stack, THIS)
    text = csv_of(served(stack, THIS)) + "\r\n".join(["extra,row"] * 2000)  # long enough to corrupt mid-stream
    replace_served(stack, THIS, CRAFTED[kind](text))
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "ReportFormatError" in message
    (kept,) = [key for key in current_keys(stack) if "/quarantine/" in key]  # the served bytes, kept byte-exact
    assert kept in message and s3_body(stack, BUCKET, kept) == served(stack, THIS)


def test_09_corrupted_in_transit_fails_cleanly(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    stack.emulator.inject("download", "corrupt", times=5)
    assert "ReportFormatError" in fails_cleanly(stack, capsys, logs, event(THIS), [THIS])


# ----- 10: links to hosts the function must not contact -----
@pytest.fixture
def dns_lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every host name this process resolves during the test."""
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def spy(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    return looked_up


@pytest.mark.parametrize(
    ("shape", "target", "reason"),
    [
        ("bare_url", "http://reports.example.invalid/vendor/sales.zip?X-Amz-Signature=s", "must use https"),
        ("json_url", "https://reports.example.invalid/vendor/sales.zip?X-Amz-Signature=s", "not in DOWNLOAD_ALLOWED_HOSTS"),
        ("redirect", "http://reports.example.invalid/vendor/sales.zip?X-Amz-Signature=s", "must use https"),
    ],
    ids=["http-non-loopback", "https-unlisted-host", "report-redirects-to-http-non-loopback"],
)
def test_10_link_to_an_outside_name_is_refused_unresolved(
    stack: LocalStack,
    capsys: pytest.CaptureFixture[str],
    logs: io.StringIO,
    dns_lookups: list[str],
    shape: str,
    target: str,
    reason: str,
) -> None:
    archive(stack, THIS)
    stack.emulator.inject("report", shape, times=3, url=target, location=target)
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "LinkRefused" in message
    assert reason in message
    assert "X-Amz-Signature" not in message
    assert dns_lookups  # the spy sees the run's lookups (of the emulator's address)
    assert not [host for host in dns_lookups if "example.invalid" in host]  # not even a DNS lookup


@pytest.mark.parametrize("shape", ["bare_url", "redirect", "download-redirect"])
def test_10_link_to_an_unlisted_loopback_host_is_never_contacted(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, shape: str
) -> None:
    archive(stack, THIS)
    with Recorder(host="127.0.0.2") as outside:  # loopback, but not in DOWNLOAD_ALLOWED_HOSTS=127.0.0.1
        target = f"{outside.url}/vendor/sales.zip?X-Amz-Signature=s"
        if shape == "download-redirect":  # an allowed download host that redirects outside
            with Recorder(status=302, headers={"Location": target}) as redirector:
                stack.emulator.inject("report", "bare_url", times=3, url=f"{redirector.url}/vendor/sales.zip")
                message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
            assert len(redirector.requests) == 1
        else:
            stack.emulator.inject("report", shape, times=3, url=target, location=target)
            message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
        assert outside.requests == []
    assert "LinkRefused" in message
    assert "'127.0.0.2' is not in DOWNLOAD_ALLOWED_HOSTS" in message


# ----- 11: CSV details -----
MONTH_SHAPES: dict[str, dict[str, Any]] = {
    "zip-crlf": {"rows": 300},
    "header-only": {"header_only": True},
    "bom": {"bom": True, "rows": 120},
    "gzip-lf": {"compression": "gzip", "line_ending": "\n", "rows": 120},
    "gzip-multi-member": {"compression": "gzip", "multi_member": True, "rows": 120},
    "extended-columns": {"variant": "extended", "rows": 120},
}


@pytest.mark.parametrize("shape", sorted(MONTH_SHAPES))
def test_11_csv_details_are_archived_field_for_field(stack: LocalStack, shape: str) -> None:
    stack.emulator.set_month(THIS.year, THIS.month, **MONTH_SHAPES[shape])
    data = served(stack, THIS)
    result = stack.invoke(event(THIS))
    rows = assert_archived_as_served(stack, THIS, result)
    truth = stack.emulator.expected_totals(THIS.year, THIS.month)
    assert truth is not None and len(rows) == truth.rows
    if shape == "bom":
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            assert packed.read(packed.namelist()[0]).startswith("\ufeff".encode())
    if shape == "zip-crlf":  # the month really holds the hard cases
        values = [v for row in records(csv_of(data))[1:] for v in row]
        assert any("," in v for v in values) and any('"' in v for v in values)
        assert any("\n" in v for v in values) and any("\r\n" in v for v in values)
        assert any(not v.isascii() for v in values)
        assert any("Line One Line Two Racer" in v for row in rows for v in row)
        assert any("Carriage Return Radio" in v for row in rows for v in row)


# ----- 12: the secret -----
SECRET_VALUE = "s3cr3t-value-that-must-never-appear"
BAD_SECRETS: dict[str, tuple[str | None, str]] = {
    "missing": (None, SECRET),
    "not-json": (f"client_id=amzn1.application-oa2-client.x&client_secret={SECRET_VALUE}", "not a JSON object"),
    "json-array": (json.dumps([SECRET_VALUE]), "not a JSON object"),
    "no-client-secret": (json.dumps({"client_id": "amzn1.application-oa2-client.x"}), "'client_secret'"),
    "empty-client-secret": (json.dumps({"client_id": "amzn1.application-oa2-client.x", "client_secret": " "}), "'client_secret'"),
    "no-client-id": (json.dumps({"client_secret": SECRET_VALUE}), "'client_id'"),
}


@pytest.mark.parametrize("case", sorted(BAD_SECRETS))
def test_12_bad_secret_fails_before_any_appstore_call(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, case: str
) -> None:
    archive(stack, THIS)
    value, named = BAD_SECRETS[case]
    if value is None:
        stack.clients.secrets.delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)
    else:
        stack.clients.secrets.put_secret_value(SecretId=SECRET, SecretString=value)
    message = fails_before_any_month(stack, capsys, event(THIS, force=True), ConfigError)
    assert named in message
    assert SECRET in message
    assert SECRET_VALUE not in message
    assert SECRET_VALUE not in logs.getvalue()
    assert "run failed before archiving any month" in logs.getvalue()


# ----- 13: S3 errors on upload -----
Matcher = Callable[[str, str, Any], bool]


def archive_put(fragment: str = "") -> Matcher:
    """PUT requests (uploads, parts) to the archive bucket whose path contains `fragment` (not the runs' lease)."""
    return lambda method, path, headers: method == "PUT" and path.startswith(f"/{BUCKET}/") and fragment in path and LEASE not in path


def glue_call(operation: str) -> Matcher:
    """Calls of one Glue operation."""
    return lambda method, path, headers: headers.get("X-Amz-Target") == f"AWSGlue.{operation}"


class AwsFaultProxy(FaultProxy):
    """The shared fault proxy, answering the first `times` requests that `matches` with `reply`."""

    def __init__(self, upstream: str, matches: Matcher, reply: ErrorReply, times: int, commit: bool = False) -> None:
        """With `commit`, a matching request is forwarded first and only its answer replaced (the write happened, the answer was lost)."""
        lock, left = threading.Lock(), [times]

        def decide(call: Call) -> Decision:
            with lock:
                if left[0] > 0 and matches(call.method, call.path, call.headers):
                    left[0] -= 1
                    return AfterCommit(reply) if commit else reply
            return None

        super().__init__(upstream, decide)


@contextmanager
def through(stack: LocalStack, proxy: AwsFaultProxy, max_attempts: int | None = None) -> Iterator[None]:
    """Point the function's AWS clients at the proxy (and optionally cap the SDK's attempts) for some invocations."""
    extra = {"AWS_ENDPOINT_URL": proxy.url, **({"AWS_MAX_ATTEMPTS": str(max_attempts)} if max_attempts else {})}
    before = {name: os.environ.get(name) for name in extra}  # put back as found: later tests (in-process moto) must not inherit it
    stack.env.update(extra)
    try:
        yield
    finally:
        for name, value in before.items():
            del stack.env[name]
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def latest(stack: LocalStack, prefix: str) -> dict[str, str]:
    """Key -> current version id of the objects under a prefix."""
    return {key: version for key, version, is_latest, etag in bucket_versions(stack) if is_latest and etag and key.startswith(prefix)}


def test_13_s3_slowdown_on_upload_recovers(stack: LocalStack) -> None:
    with AwsFaultProxy(stack.endpoint, archive_put(), s3_error(503, "SlowDown"), times=2) as proxy, through(stack, proxy):
        result = stack.invoke(event(THIS))
    assert len(proxy.injected) == 2
    assert any(method == "PUT" for method, _ in proxy.forwarded)
    assert_archived_as_served(stack, THIS, result)


def test_13_s3_500_on_every_upload_fails_cleanly(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    proxy = AwsFaultProxy(stack.endpoint, archive_put(), s3_error(500, "InternalError"), times=1000)
    with proxy, through(stack, proxy, max_attempts=3):  # fewer SDK attempts than the default, only to keep the test short
        message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    table = [request for request in proxy.injected if "/periods/" in request[1]]
    assert len(proxy.injected) - len(table) == 3
    assert len(table) == 3  # the periods table's write failed too: logged, never the run's error
    assert "InternalError" in message and "PutObject" in message


def test_13_s3_failing_between_the_two_uploads_fails_cleanly(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    proxy = AwsFaultProxy(stack.endpoint, archive_put("/raw/"), s3_error(500, "InternalError"), times=1000)
    with proxy, through(stack, proxy, max_attempts=2):
        message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])  # the new curated version is rolled back
    assert proxy.injected
    assert "InternalError" in message and "PutObject" in message
    assert_archived_as_served(stack, THIS, stack.invoke(event(THIS)))  # and the next run archives the restated month


def test_13_glue_failing_after_the_uploads_heals_on_the_next_run(stack: LocalStack) -> None:
    proxy = AwsFaultProxy(stack.endpoint, glue_call("CreatePartition"), glue_error("InternalServiceException"), times=1000)
    with (
        proxy,
        through(stack, proxy, max_attempts=2),
        pytest.raises(
            RunFailedError, match=f"archived but incomplete .*{THIS}: partition could not be registered: InternalServiceException"
        ),
    ):
        stack.invoke(event(THIS))
    assert proxy.injected
    assert partitions(stack) == {}
    result = stack.invoke(event(THIS))
    assert statuses(result) == {str(THIS): "unchanged"}  # the objects were complete; only the partition was missing
    assert_holds_served(stack, THIS)


# ----- 14-15: the Glue catalog -----
def test_14_glue_table_missing_fails_with_database_and_table(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    archive(stack, THIS)
    stack.clients.glue.delete_table(DatabaseName=DATABASE, Name=TABLE)
    before, seen = snapshot(stack, with_partitions=False), requests_seen(stack)
    capsys.readouterr()
    with pytest.raises(CatalogError, match=rf"Glue table {DATABASE}\.{TABLE} does not exist"):
        stack.invoke(event(THIS, force=True))
    assert emitted(capsys.readouterr().out) == {"RunFailed": 1}
    assert snapshot(stack, with_partitions=False) == before
    assert requests_seen(stack) == seen


def test_15_partition_at_the_wrong_location_is_corrected(stack: LocalStack) -> None:
    archive(stack, THIS)
    values = [f"{THIS.year:04d}", THIS.mm]
    wrong = {**partitions(stack)[tuple(values)], "Location": f"s3://{BUCKET}/elsewhere/"}
    stack.clients.glue.update_partition(
        DatabaseName=DATABASE, TableName=TABLE, PartitionValueList=values, PartitionInput={"Values": values, "StorageDescriptor": wrong}
    )
    objects = bucket_versions(stack)
    result = stack.invoke(event(THIS))
    assert statuses(result) == {str(THIS): "unchanged"}
    assert partitions(stack)[tuple(values)]["Location"] == location(THIS)
    assert bucket_versions(stack) == objects


def test_15_wrong_partition_before_the_first_archive_is_corrected(stack: LocalStack) -> None:
    values = [f"{THIS.year:04d}", THIS.mm]
    table = stack.clients.glue.get_table(DatabaseName=DATABASE, Name=TABLE)["Table"]
    descriptor = {**table["StorageDescriptor"], "Location": f"s3://{BUCKET}/somewhere/else/"}
    stack.clients.glue.create_partition(
        DatabaseName=DATABASE, TableName=TABLE, PartitionInput={"Values": values, "StorageDescriptor": descriptor}
    )
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)


# ----- 16: running out of Lambda time -----
@dataclass
class CountdownContext(FakeContext):
    """A Lambda context with plenty of time for the first `months` checks, then 60 s."""

    months: int = 0
    checks: int = 0

    def get_remaining_time_in_millis(self) -> int:
        self.checks += 1
        return 900_000 if self.checks <= self.months else 60_000


def invoke_with(stack: LocalStack, run_event: dict[str, Any], context: FakeContext) -> dict[str, Any]:
    """Invoke the handler like LocalStack.invoke, with a given context."""
    os.environ.update(stack.env)
    app.clients.cache_clear()
    result: dict[str, Any] = app.lambda_handler(run_event, context)
    return result


def test_16_out_of_time_defers_and_the_next_run_finishes_them_first(stack: LocalStack, capsys: pytest.CaptureFixture[str]) -> None:
    stack.env["START_MONTH"] = str(THIS.shift(-4))  # plan: this, last, earlier (lookback), then the backfill
    capsys.readouterr()
    first = stack.invoke({}, timeout=60)  # less than the 120 s safety margin: no month is started
    assert set(statuses(first).values()) == {"deferred"}
    metrics = emitted(capsys.readouterr().out)
    assert (metrics["MonthsDeferred"], metrics["RunSucceeded"]) == (5, 1)
    assert current_keys(stack) == {f"{PREFIX}state/sales/deferred/{m}.json" for m in THIS.shift(-4).through(THIS)}
    second = stack.invoke({})
    assert [r["month"] for r in second["results"]] == [str(m) for m in THIS.shift(-4).through(THIS)]  # deferred first, oldest first
    for month in THIS.shift(-4).through(THIS):
        assert_archived_as_served(stack, month, second)
    assert not [key for key in current_keys(stack) if "/state/" in key]


def test_16_forced_run_deferred_midway_keeps_force(stack: LocalStack) -> None:
    stack.env.update(START_MONTH=str(LAST), LOOKBACK_MONTHS="1")
    archive(stack, EARLIER, LAST, THIS)
    # Plenty of time for the lease's take, its renewal and the first month's check; then 60 s.
    forced = invoke_with(stack, event(EARLIER, LAST, force=True), CountdownContext(deadline=0.0, months=3))
    assert statuses(forced) == {str(EARLIER): "archived", str(LAST): "deferred"}
    assert json.loads(s3_body(stack, BUCKET, f"{PREFIX}state/sales/deferred/{LAST}.json"))["force"] is True
    following = stack.invoke({"source": "aws.scheduler"})
    assert statuses(following) == {str(LAST): "archived", str(THIS): "unchanged"}  # LAST rewritten: it was forced
    assert [r["month"] for r in following["results"]] == [str(LAST), str(THIS)]


# ----- 17: two runs at once -----
RUNNER = textwrap.dedent(
    """
    import json, sys, threading, time
    import psutil
    import app
    from infra.local.stack import FakeContext

    def sample(peak, stop):
        process = psutil.Process()
        while not stop.wait(0.005):
            peak[0] = max(peak[0], process.memory_info().rss)

    app.clients()
    print("READY", flush=True)
    sys.stdin.readline()  # wait for the go, so that a concurrent run starts at the same moment
    for run_event in json.loads(sys.argv[1]):
        before = psutil.Process().memory_info().rss
        peak, stop = [before], threading.Event()
        sampler = threading.Thread(target=sample, args=(peak, stop))
        sampler.start()
        started = time.time()
        try:
            result = app.lambda_handler(run_event, FakeContext(time.monotonic() + 900))
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        ended = time.time()
        stop.set()
        sampler.join()
        report = {"result": result, "rss_before": before, "rss_peak": peak[0], "started": started, "ended": ended}
        print("RUNNER " + json.dumps(report), flush=True)
    """
)


def start_runner(stack: LocalStack, events: list[dict[str, Any]]) -> subprocess.Popen[str]:
    """A separate process with the stack's environment, imported and ready to run the handler once per event."""
    env = {**os.environ, **stack.env, "PYTHONPATH": os.pathsep.join([str(FUNCTION_DIR), str(REPO)])}
    process = subprocess.Popen(
        [sys.executable, "-c", RUNNER, json.dumps(events)],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "READY"
    return process


def go(process: subprocess.Popen[str]) -> None:
    """Let a ready runner start its runs."""
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()


def runner_results(process: subprocess.Popen[str], timeout: float = 300) -> list[dict[str, Any]]:
    """The per-event reports of a runner process."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-3000:]
    return [json.loads(line[len("RUNNER ") :]) for line in out.splitlines() if line.startswith("RUNNER ")]


def test_17_two_runs_at_once_end_as_one_run(stack: LocalStack) -> None:
    months = list(THIS.shift(-3).through(THIS))
    stack.env["START_MONTH"] = str(months[0])
    other = start_runner(stack, [{}])
    go(other)
    started = time.time()
    mine = stack.invoke({})
    ended = time.time()
    (theirs,) = runner_results(other)
    assert theirs["started"] < ended and started < theirs["ended"]  # the two runs overlapped
    for result in (mine, theirs["result"]):  # the second to take the lease reads the state the first left: the lookback only
        assert set(statuses(result)) <= {str(m) for m in months}
        assert set(statuses(result).values()) <= {"archived", "unchanged"}, result
    assert {str(m) for m in months} in (set(statuses(mine)), set(statuses(theirs["result"])))
    for month in months:
        assert_holds_served(stack, month)
    listing = stack.clients.s3.list_object_versions(Bucket=BUCKET)
    keys = {v["Key"] for v in listing["Versions"]} - {f"{PREFIX}{LEASE}"}  # the lease: each run took it in turn
    keys -= {f"{PREFIX}periods/sales.json.gz"}  # the periods table: each run's last writer
    history = {k for k in keys if k.startswith(f"{PREFIX}history/")}  # a copy per raw version, written once (If-None-Match)
    assert {tuple(k.split("/")[3:5]) for k in history} == {(f"year={m.year:04d}", f"month={m.mm}") for m in months}
    assert keys - history == {k for m in months for k in (curated_key(m), f"{raw_prefix(m)}sales_{m.year:04d}_{m.mm}.zip")}
    for key in keys:  # every version either run wrote is whole and the same
        assert len({v["ETag"] for v in listing["Versions"] if v["Key"] == key}) == 1
    assert {d["Key"] for d in listing.get("DeleteMarkers", [])} <= {f"{PREFIX}{LEASE}"}  # only its releases
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert set(partitions(stack)) == {(f"{m.year:04d}", m.mm) for m in months}
    assert set(statuses(stack.invoke({})).values()) == {"unchanged"}


# ----- 18: invalid events -----
INVALID_EVENTS: dict[str, tuple[Any, str]] = {
    "bad-month": ({"months": ["2024-13"]}, "'2024-13'"),
    "bad-format": ({"months": ["2024-3"]}, "'2024-3'"),
    "words": ({"from": "March 2024"}, "'March 2024'"),
    "future": ({"months": [str(THIS.shift(1))]}, "in the future"),
    "before-2018": ({"from": "2017-12", "to": "2018-02"}, "before 2018-01"),
    "from-after-to": ({"from": str(THIS), "to": str(LAST)}, "is after"),
    "unknown-key": ({"month": str(THIS)}, "unknown event key(s) ['month']"),
    "force-not-bool": ({"months": [str(THIS)], "force": "yes"}, "force must be true or false"),
    "empty-months": ({"months": []}, "non-empty list"),
    "months-and-range": ({"months": [str(THIS)], "from": str(LAST)}, "not both"),
    "to-without-from": ({"to": str(THIS)}, "'to' needs 'from'"),
    "not-an-object": ([str(THIS)], "must be a JSON object"),
}


@pytest.mark.parametrize("case", sorted(INVALID_EVENTS))
def test_18_invalid_event_is_rejected_before_any_side_effect(stack: LocalStack, capsys: pytest.CaptureFixture[str], case: str) -> None:
    archive(stack, THIS)
    bad, named = INVALID_EVENTS[case]
    assert named in fails_before_any_month(stack, capsys, bad, InvalidEvent)


# ----- 19: schema drift -----
@pytest.mark.parametrize("variant", ["renamed", "reordered", "extended", "drift"])
def test_19_schema_drift_is_mapped_to_the_canonical_columns(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, variant: str
) -> None:
    stack.emulator.set_month(THIS.year, THIS.month, variant=variant, rows=120)
    capsys.readouterr()
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    unknown = ["Promotion ID"] if variant == "drift" else []
    assert result["results"][0]["unknown_columns"] == unknown
    assert emitted(capsys.readouterr().out)["SchemaDrift"] == len(unknown)
    record = month_logs(logs)[str(THIS)]
    assert record["level"] == ("WARNING" if unknown else "INFO")


# ----- 20: a large report -----
def test_20_large_report_is_archived_with_bounded_memory(stack: LocalStack) -> None:
    rows = rows_for_size(50 * 1024 * 1024)
    stack.emulator.set_month(THIS.year, THIS.month, compression="gzip", rows=rows)
    data_size = stack.clients.s3.head_object(Bucket=stack.emulator.bucket, Key=vendor_key(stack, THIS))["ContentLength"]
    assert data_size >= 50 * 1024 * 1024
    runner = start_runner(stack, [event(LAST), event(THIS)])
    go(runner)
    warm, big = runner_results(runner)
    assert statuses(warm["result"]) == {str(LAST): "archived"}
    (entry,) = big["result"]["results"]
    assert (entry["status"], entry["bytes"]) == ("archived", data_size)
    growth_mb = (big["rss_peak"] - big["rss_before"]) / 2**20  # sampled every 5 ms while the run lasts
    # Bounded: well under the report's own size (holding the file in memory would exceed it), and under 100 MB.
    assert growth_mb < min(100, 0.9 * data_size / 2**20), f"peak RSS grew by {growth_mb:.0f} MB for a {data_size / 2**20:.0f} MB report"
    head = stack.clients.s3.head_object(Bucket=BUCKET, Key=entry["raw_key"])
    assert head["ContentLength"] == data_size
    assert head["Metadata"]["sha256"] == entry["sha256"]
    assert entry["rows"] == rows
    print(f"report {data_size / 2**20:.0f} MB, peak RSS growth {growth_mb:.0f} MB, RSS before {big['rss_before'] / 2**20:.0f} MB")
