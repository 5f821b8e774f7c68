"""Issue 9 rows 3, 4 and 13: each month is a transaction whose commit point is the raw upload.

Before it, any failure (a write whose answer was lost included) leaves the month exactly as it was;
after it, the month is archived and every later run finishes it. Faults come from the AWS fault proxy
of test_faults.py (moto server behind it, the Appstore API emulator in front of the function).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import unquote

import pytest

from archiver.core.results import RunFailedError
from archiver.storage import objects
from infra.local.stack import BUCKET, LocalStack
from tests.integration.test_faults import (
    LAST,
    PREFIX,
    THIS,
    AwsFaultProxy,
    Matcher,
    archive,
    assert_archived_as_served,
    assert_holds_served,
    cold_start,
    curated_key,
    current_keys,
    emitted,
    event,
    fails_cleanly,
    glue_call,
    glue_error,
    logs,
    month_logs,
    partitions,
    raw_prefix,
    replace_served,
    s3_body,
    s3_error,
    served,
    statuses,
    through,
)

__all__ = ["cold_start", "logs"]  # fixtures of test_faults.py, used here too
pytestmark = pytest.mark.integration
PENDING = f"{PREFIX}state/sales/pending/"


def key_path(key: str) -> str:
    """The proxy's view of an object's path (path-style addressing)."""
    return f"/{BUCKET}/{key}"


def on(method: str, fragment: str) -> Matcher:
    """Requests of one HTTP method to archive keys containing `fragment`."""
    return lambda m, path, headers: m == method and unquote(path).startswith(f"/{BUCKET}/") and fragment in unquote(path)


def nth(matcher: Matcher, n: int) -> Matcher:
    """Only the n-th request `matcher` accepts (1-based)."""
    seen = [0]

    def match(method: str, path: str, headers: Any) -> bool:
        if not matcher(method, path, headers):
            return False
        seen[0] += 1
        return seen[0] == n

    return match


@contextmanager
def faults(
    stack: LocalStack, *proxies: tuple[Matcher, tuple[int, str, bytes], int, bool], max_attempts: int = 2
) -> Iterator[list[AwsFaultProxy]]:
    """Chain fault proxies (the first is the function's endpoint) in front of moto server for some invocations."""
    with ExitStack() as chain:
        upstream, started = stack.endpoint, []
        for matcher, reply, times, commit in reversed(proxies):
            proxy = chain.enter_context(AwsFaultProxy(upstream, matcher, reply, times, commit=commit))
            started.insert(0, proxy)
            upstream = proxy.url
        chain.enter_context(through(stack, started[0], max_attempts=max_attempts))
        yield started


def txn_versions(stack: LocalStack, key: str) -> dict[str, str]:
    """Version id -> txn of every version of a key."""
    listing = stack.clients.s3.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])
    heads = {
        v["VersionId"]: stack.clients.s3.head_object(Bucket=BUCKET, Key=key, VersionId=v["VersionId"]) for v in listing if v["Key"] == key
    }
    return {version: head["Metadata"].get("txn", "") for version, head in heads.items()}


def consistent(stack: LocalStack, month: Any) -> None:
    """One raw object, the curated object made from it, no transaction pending, no upload left open."""
    keys = current_keys(stack)
    (raw,) = [k for k in keys if k.startswith(raw_prefix(month))]
    raw_head = stack.clients.s3.head_object(Bucket=BUCKET, Key=raw)["Metadata"]
    curated = stack.clients.s3.head_object(Bucket=BUCKET, Key=curated_key(month))["Metadata"]
    assert raw_head["sha256"] == hashlib.sha256(s3_body(stack, BUCKET, raw)).hexdigest() == curated["source-sha256"]
    assert not [k for k in keys if k.startswith(PENDING)]
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


INTERNAL = s3_error(500, "InternalError")


# ----- row 4: each fault point of the two uploads -----
def test_version_lookup_failing_after_the_curated_upload_does_not_fail_the_month(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    put_seen = [False]

    def head_after_put(method: str, path: str, headers: Any) -> bool:
        """HEAD of the curated object once it was uploaded: the version id must come from the upload's answer."""
        if method == "PUT" and unquote(path) == key_path(curated_key(THIS)):
            put_seen[0] = True
        return put_seen[0] and method == "HEAD" and unquote(path) == key_path(curated_key(THIS))

    with faults(stack, (head_after_put, INTERNAL, 1000, False)):
        result = stack.invoke(event(THIS))
    assert put_seen[0]
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)


def test_curated_upload_committed_but_unacknowledged_is_recognised(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    with faults(stack, (on("PUT", f"/{PREFIX}sales/"), INTERNAL, 1000, True)) as (proxy,):  # every attempt commits, every answer is lost
        result = stack.invoke(event(THIS))
    assert len(proxy.injected) >= 2  # AWS_MAX_ATTEMPTS
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)
    current = stack.clients.s3.head_object(Bucket=BUCKET, Key=curated_key(THIS))["Metadata"]["txn"]
    assert list(txn_versions(stack, curated_key(THIS)).values()).count(current) == len(proxy.injected)  # every attempt committed


def test_raw_upload_failing_after_a_curated_write_committed_twice_restores_the_month(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    curated_lost_once = (on("PUT", f"/{PREFIX}sales/"), INTERNAL, 1, True)  # the SDK's retry writes a second version
    raw_fails = (on("PUT", "/raw/"), INTERNAL, 1000, False)
    with faults(stack, raw_fails, curated_lost_once) as (raw_proxy, curated_proxy):
        message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])  # both curated versions of the transaction are deleted
    assert len(curated_proxy.injected) == 1 and raw_proxy.injected
    assert "InternalError" in message
    assert_archived_as_served(stack, THIS, stack.invoke(event(THIS)))


def test_raw_upload_committed_but_unacknowledged_is_archived(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    with faults(stack, (on("PUT", "/raw/"), INTERNAL, 1000, True)) as (proxy,):
        result = stack.invoke(event(THIS))
    assert proxy.injected
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)


def test_retried_complete_multipart_upload_answering_no_such_upload_is_archived(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    monkeypatch.setattr(objects, "MULTIPART_THRESHOLD", 1024)  # the month's files are larger: both uploads are multipart
    complete = nth(on("POST", "/raw/"), 2)  # CreateMultipartUpload, then CompleteMultipartUpload
    with faults(stack, (complete, INTERNAL, 1, True)) as (proxy,):  # it completes, the answer is lost, the retry gets NoSuchUpload
        result = stack.invoke(event(THIS))
    assert len(proxy.injected) == 1
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)


# ----- row 3: a raw object restated under an older curated object -----
def test_restated_raw_beside_an_older_curated_object_is_repaired(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    data = served(stack, THIS)
    (raw_key,) = [k for k in current_keys(stack) if k.startswith(raw_prefix(THIS))]
    # What a raw upload committed-but-unacknowledged followed by a curated rollback used to leave behind.
    stack.clients.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=data, Metadata={"sha256": hashlib.sha256(data).hexdigest()})
    result = stack.invoke(event(THIS))
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}


def test_a_month_with_two_raw_objects_is_never_unchanged(stack: LocalStack) -> None:
    archive(stack, THIS)
    (raw_key,) = [k for k in current_keys(stack) if k.startswith(raw_prefix(THIS))]
    stale = f"{raw_prefix(THIS)}sales_{THIS.year:04d}_{THIS.mm}.gz"
    stack.clients.s3.copy_object(Bucket=BUCKET, Key=stale, CopySource={"Bucket": BUCKET, "Key": raw_key})
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "archived"}
    assert [k for k in current_keys(stack) if k.startswith(raw_prefix(THIS))] == [raw_key]
    consistent(stack, THIS)
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}


# ----- row 13: after the commit point the month is archived; later runs finish it -----
def incomplete_run(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO, run_event: dict[str, Any]) -> str:
    """Run, expecting THIS archived with an error, counted in MonthsIncomplete, and the run raising."""
    capsys.readouterr()
    with pytest.raises(RunFailedError, match="archived but incomplete") as caught:
        stack.invoke(run_event)
    record = month_logs(logs)[str(THIS)]
    assert (record["status"], record["level"]) == ("archived", "ERROR") and record["error"]
    metrics = emitted(capsys.readouterr().out)
    assert (metrics["MonthsIncomplete"], metrics["MonthsArchived"], metrics["RunFailed"], metrics["MonthsFailed"]) == (1, 1, 1, 0)
    return str(caught.value)


def test_old_raw_removal_failing_leaves_the_month_archived_and_the_next_run_finishes_it(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    stack.emulator.set_month(THIS.year, THIS.month, compression="gzip")  # served under another name
    with faults(stack, (on("DELETE", "/raw/"), INTERNAL, 1000, False)):
        message = incomplete_run(stack, capsys, logs, event(THIS))
    assert "previous raw file could not be removed" in message
    assert len([k for k in current_keys(stack) if k.startswith(raw_prefix(THIS))]) == 2
    assert statuses(stack.invoke(event(LAST))) == {str(LAST): "archived"}  # another month's run finishes it
    assert_holds_served(stack, THIS)
    consistent(stack, THIS)
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}


def test_partition_failing_after_the_commit_leaves_the_month_archived(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    with faults(stack, (glue_call("CreatePartition"), glue_error("InternalServiceException"), 1000, False)):
        message = incomplete_run(stack, capsys, logs, event(THIS))
    assert "partition could not be registered" in message
    assert partitions(stack) == {}
    assert statuses(stack.invoke(event(LAST))) == {str(LAST): "archived"}
    assert_holds_served(stack, THIS)
    consistent(stack, THIS)


def test_marker_not_cleared_after_the_commit_leaves_the_month_archived(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    deferred = f"{PREFIX}state/sales/deferred/{THIS}.json"
    body = json.dumps({"month": str(THIS), "status": "deferred", "force": False}).encode()
    stack.clients.s3.put_object(Bucket=BUCKET, Key=deferred, Body=body)
    with faults(stack, (on("DELETE", "/state/sales/deferred/"), INTERNAL, 1000, False)):
        message = incomplete_run(stack, capsys, logs, event(THIS))
    assert "deferred marker could not be cleared" in message
    assert deferred in current_keys(stack)
    assert statuses(stack.invoke(event(LAST))) == {str(LAST): "archived"}
    assert deferred not in current_keys(stack)
    assert_holds_served(stack, THIS)
    consistent(stack, THIS)


# ----- row 7 (storage), 8, 12: bytes that cannot be archived are quarantined -----
def quarantined(stack: LocalStack, message: str) -> bytes:
    """The one quarantined object (named in the message); its bytes."""
    (kept,) = [k for k in current_keys(stack) if k.startswith(f"{PREFIX}quarantine/sales/year={THIS.year:04d}/month={THIS.mm}/")]
    assert kept in message
    assert kept.rsplit("/", 1)[1] == f"{hashlib.sha256(served(stack, THIS)).hexdigest()}-sales_{THIS.year:04d}_{THIS.mm}.zip"
    return s3_body(stack, BUCKET, kept)


def test_an_uncuratable_report_is_quarantined(stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO) -> None:
    archive(stack, THIS)
    replace_served(stack, THIS, b"PK\x03\x04 broken")
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "ReportFormatError" in message
    assert quarantined(stack, message) == b"PK\x03\x04 broken"


def test_a_header_only_report_does_not_replace_a_month_with_rows(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    stack.emulator.set_month(THIS.year, THIS.month, header_only=True)
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "EmptyReportRefused" in message and "no data rows" in message and "force" in message
    assert quarantined(stack, message) == served(stack, THIS)
    (entry,) = stack.invoke(event(THIS, force=True))["results"]
    assert (entry["status"], entry["rows"]) == ("archived", 0)


def test_a_header_only_report_does_not_replace_an_older_curated_object_with_rows(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    key = curated_key(THIS)
    legacy = {k: v for k, v in stack.clients.s3.head_object(Bucket=BUCKET, Key=key)["Metadata"].items() if k in ("sha256", "columns")}
    stack.clients.s3.copy_object(
        Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": key}, Metadata=legacy, MetadataDirective="REPLACE"
    )
    stack.emulator.set_month(THIS.year, THIS.month, header_only=True)
    assert "EmptyReportRefused" in fails_cleanly(stack, capsys, logs, event(THIS), [THIS])


def test_a_report_over_the_decompression_cap_is_quarantined(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    stack.env["MAX_DECOMPRESSED_BYTES"] = "2000"
    message = fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert "ReportTooLarge" in message and "MAX_DECOMPRESSED_BYTES" in message
    assert quarantined(stack, message) == served(stack, THIS)


def test_a_rollback_reads_the_transactions_own_versions_not_the_whole_history(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], logs: io.StringIO
) -> None:
    archive(stack, THIS)
    for n in range(4):  # the curated object's history: five versions
        if n == 3:
            time.sleep(1.1)  # versions as old as the previous one (to the second S3 lists) are read too: none here
        assert statuses(stack.invoke(event(THIS, force=True))) == {str(THIS): "archived"}
    stack.emulator.restate(THIS.year, THIS.month)
    heads: list[str] = []

    def version_heads(method: str, path: str, headers: Any) -> bool:
        """Count the HEADs of the curated object (the month's view, then the rollback's reads of versions), inject nothing."""
        if method == "HEAD" and unquote(path) == key_path(curated_key(THIS)):
            heads.append(path)
        return False

    with faults(stack, (version_heads, INTERNAL, 1, False), (on("PUT", "/raw/"), INTERNAL, 1000, False)):
        fails_cleanly(stack, capsys, logs, event(THIS), [THIS])
    assert len(heads) == 2  # the month's view and the transaction's own version; the five older versions are not read


def test_a_pending_marker_written_twice_by_a_retry_is_cleared(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    marker_lost_once = (on("PUT", "/state/sales/pending/"), INTERNAL, 1, True)  # the SDK's retry writes a second version
    with faults(stack, marker_lost_once) as (proxy,):
        result = stack.invoke(event(THIS))
    assert len(proxy.injected) == 1
    assert_archived_as_served(stack, THIS, result)
    consistent(stack, THIS)  # no pending marker: deleting one version did not uncover the other
