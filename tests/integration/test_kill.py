"""A run killed (SIGKILL) in the middle of a month: the next run rolls the month back before the commit point, forward after it."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from infra.local.faultproxy import s3_error
from infra.local.stack import BUCKET, FUNCTION_DIR, LocalStack
from tests.integration.test_faults import (
    LAST,
    PREFIX,
    REPO,
    THIS,
    Snapshot,
    archive,
    assert_holds_served,
    cold_start,
    current_keys,
    event,
    served,
    snapshot,
    statuses,
)
from tests.integration.test_transaction import PENDING, consistent, faults

__all__ = ["cold_start"]
pytestmark = pytest.mark.integration

# Runs the handler once and SIGKILLs itself as a call of one AWS operation (on a key containing a fragment) is about to be sent.
KILLER = textwrap.dedent(
    """
    import json, os, signal, sys, time
    import app
    from infra.local.stack import FakeContext
    from archiver.storage import objects
    objects.MULTIPART_THRESHOLD = int(sys.argv[5])
    run_event, service, operation, fragment = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

    def kill(params, model, **kwargs):
        if model.name == operation and fragment in str(params.get("Key", "")) + str(params.get("PartitionInput", "")):
            os.kill(os.getpid(), signal.SIGKILL)

    getattr(app.clients(), service).meta.events.register("provide-client-params", kill)
    app.lambda_handler(run_event, FakeContext(time.monotonic() + 900))
    print("NOT KILLED", flush=True)
    """
)


def killed_run(
    stack: LocalStack, run_event: dict[str, Any], service: str, operation: str, fragment: str, threshold: int = 16 << 20
) -> None:
    """Run the handler in a separate process that is SIGKILLed as it sends `operation`."""
    env = {**os.environ, **stack.env, "PYTHONPATH": os.pathsep.join([str(FUNCTION_DIR), str(REPO)])}
    args = [sys.executable, "-c", KILLER, json.dumps(run_event), service, operation, fragment, str(threshold)]
    done = subprocess.run(args, env=env, cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == -signal.SIGKILL, done.stdout[-2000:] + done.stderr[-3000:]
    stack.expire_lease()  # the killed run's lease is left behind: the next run takes it over once it has expired


def current_versions(stack: LocalStack, prefix: str) -> dict[str, str]:
    """Key -> current version id under a prefix, now."""
    return current_versions_of(snapshot(stack, with_partitions=False), prefix)


def current_versions_of(state: Snapshot, prefix: str) -> dict[str, str]:
    """Key -> current version id under a prefix, in a snapshot."""
    return {k: v for k, v, latest, etag in state.versions if latest and etag and k.startswith(prefix)}


def test_killed_between_the_curated_and_the_raw_upload_is_rolled_back_by_the_next_run(stack: LocalStack) -> None:
    archive(stack, LAST, THIS)
    stack.emulator.restate(LAST.year, LAST.month)
    before = snapshot(stack)
    killed_run(stack, event(LAST), "s3", "PutObject", "/raw/")
    assert f"{PENDING}{LAST}.json" in current_keys(stack)  # half-done: the curated object was replaced
    assert (
        current_versions(stack, f"{PREFIX}sales/")
        != current_versions(stack, f"{PREFIX}sales/")
        | {k: v for k, v, latest, etag in before.versions if latest and etag and k.startswith(f"{PREFIX}sales/")}
        or snapshot(stack) != before
    )
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}  # a run that does not fetch LAST
    assert snapshot(stack) == before  # exactly as before the killed run: same versions, same partitions, no marker
    assert_holds_served(stack, THIS)


def test_killed_in_the_middle_of_a_multipart_raw_upload_is_rolled_back_by_the_next_run(stack: LocalStack) -> None:
    archive(stack, LAST, THIS)
    stack.emulator.restate(LAST.year, LAST.month)
    before = snapshot(stack)
    killed_run(stack, event(LAST), "s3", "UploadPart", "/raw/", threshold=1024)
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")  # an upload left open
    assert snapshot(stack) != before
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}
    assert snapshot(stack) == before
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_an_abort_of_the_open_upload_whose_answer_is_lost_still_settles_the_month(stack: LocalStack) -> None:
    archive(stack, LAST, THIS)
    stack.emulator.restate(LAST.year, LAST.month)
    before = snapshot(stack)
    killed_run(stack, event(LAST), "s3", "UploadPart", "/raw/", threshold=1024)
    abort = (lambda method, path, headers: method == "DELETE" and "/raw/" in path, s3_error(500, "InternalError"), 1, True)  # the abort
    with faults(stack, abort, max_attempts=3):  # the abort lands, its answer is lost; the SDK's retry answers NoSuchUpload
        assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}
    assert snapshot(stack) == before
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_killed_after_the_raw_upload_is_rolled_forward_by_the_next_run(stack: LocalStack) -> None:
    archive(stack, THIS)
    killed_run(stack, event(LAST), "glue", "CreatePartition", "")  # the raw upload committed; the partition is not there yet
    assert f"{PENDING}{LAST}.json" in current_keys(stack)
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}
    assert_holds_served(stack, LAST)  # partition registered by the roll-forward
    consistent(stack, LAST)
    assert statuses(stack.invoke(event(LAST))) == {str(LAST): "unchanged"}


def committed_raw_beside_the_previous_curated(stack: LocalStack, month: Any, data: bytes) -> None:
    """A raw upload that committed but could not be read back, then the curated rollback: the pending marker stays."""
    (raw_key,) = [k for k in current_keys(stack) if k.startswith(f"{PREFIX}raw/sales/year={month.year:04d}/month={month.mm}/")]
    txn, curated = "7" * 32, f"{PREFIX}sales/year={month.year:04d}/month={month.mm}/sales_{month.year:04d}_{month.mm}.csv.gz"
    metadata = {"sha256": hashlib.sha256(data).hexdigest(), "txn": txn}
    stack.clients.s3.put_object(Bucket=BUCKET, Key=raw_key, Body=data, Metadata=metadata)
    intent = {"month": str(month), "txn": txn, "raw_key": raw_key, "curated_key": curated, "previous_curated_version": None}
    stack.clients.s3.put_object(Bucket=BUCKET, Key=f"{PENDING}{month}.json", Body=json.dumps(intent).encode())


def test_committed_raw_beside_an_older_curated_object_is_rolled_forward_when_the_month_is_no_longer_served(stack: LocalStack) -> None:
    archive(stack, THIS)
    stack.emulator.restate(THIS.year, THIS.month)
    committed_raw_beside_the_previous_curated(stack, THIS, served(stack, THIS))
    stack.emulator.set_month(THIS.year, THIS.month, empty=True)  # Amazon no longer serves the month: the next fetch is "not found"
    stack.invoke(event(THIS))
    consistent(stack, THIS)  # the curated object is made from the committed raw object, the marker is gone


def test_committed_raw_beside_a_curated_object_of_the_same_bytes_is_settled(stack: LocalStack) -> None:
    archive(stack, THIS)
    committed_raw_beside_the_previous_curated(stack, THIS, served(stack, THIS))  # a forced rewrite of the same bytes
    assert statuses(stack.invoke(event(THIS))) == {str(THIS): "unchanged"}
    consistent(stack, THIS)
    assert f"{PENDING}{THIS}.json" not in current_keys(stack)
