"""The month transaction's multipart upload against moto server: parts in parallel, streamed from the file, aborted on failure."""

from __future__ import annotations

import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from archiver.storage import objects
from archiver.storage.store import ArchiveStore
from infra.local.stack import BUCKET, LocalStack

pytestmark = pytest.mark.integration
PART = objects.PART_SIZE
KEY = "appstore/raw/sales/year=2024/month=01/big.zip"


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    """A file of three parts of the function's size (the last one short)."""
    path = tmp_path / "big.zip"
    path.write_bytes(bytes(range(256)) * (PART * 5 // 2 // 256))
    return path


def test_parts_go_out_together_streamed_from_the_file_and_the_completed_version_is_returned(stack: LocalStack, big_file: Path) -> None:
    store = ArchiveStore(stack.clients.s3, BUCKET, "appstore/")
    together, lock, in_flight = threading.Event(), threading.Lock(), [0]

    def part_starts(**_: Any) -> None:
        """The first part waits until a second one is under way (a safety timeout only ends a sequential upload)."""
        with lock:
            in_flight[0] += 1
            if in_flight[0] >= 2:
                together.set()
        together.wait(timeout=20)

    def part_ends(**_: Any) -> None:
        with lock:
            in_flight[0] -= 1

    stack.clients.s3.meta.events.register("before-call.s3.UploadPart", part_starts)
    stack.clients.s3.meta.events.register("after-call.s3.UploadPart", part_ends)
    tracemalloc.start()
    try:
        version = objects.put_file(store, KEY, big_file, {"txn": "t1"}, "application/zip")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        stack.clients.s3.meta.events.unregister("before-call.s3.UploadPart", part_starts)
        stack.clients.s3.meta.events.unregister("after-call.s3.UploadPart", part_ends)
    assert together.is_set(), "the parts were sent one after another"
    assert peak < PART, f"{peak} bytes allocated at the peak: a whole part was read into memory"
    got = stack.clients.s3.get_object(Bucket=BUCKET, Key=KEY)
    assert (got["VersionId"], got["Metadata"], got["Body"].read()) == (version, {"txn": "t1"}, big_file.read_bytes())
    assert got["ETag"].strip('"').endswith("-3")  # a multipart object of three parts


def test_a_failed_part_aborts_the_upload_and_leaves_the_key_as_it_was(stack: LocalStack, big_file: Path) -> None:
    store = ArchiveStore(stack.clients.s3, BUCKET, "appstore/")

    def refuse_the_second_part(params: dict[str, Any], **_: Any) -> None:
        if params.get("PartNumber") == 2:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected"}}, "UploadPart")

    stack.clients.s3.meta.events.register("provide-client-params.s3.UploadPart", refuse_the_second_part)
    try:
        with pytest.raises(ClientError, match="injected"):
            objects.put_file(store, KEY, big_file, {"txn": "t2"}, "application/zip")
    finally:
        stack.clients.s3.meta.events.unregister("provide-client-params.s3.UploadPart", refuse_the_second_part)
    assert stack.clients.s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert stack.clients.s3.list_object_versions(Bucket=BUCKET, Prefix=KEY).get("Versions", []) == []
