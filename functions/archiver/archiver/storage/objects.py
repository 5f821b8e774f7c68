"""S3 writes of a month transaction: versioned uploads, unknown outcomes, our own versions, stray uploads."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from archiver.core.periods import Period
from archiver.storage.store import ArchiveStore, Stored, version_of

# Files up to this size are sent in one PutObject; larger ones in parts of PART_SIZE (module constants, so a test
# or a soak can lower them to exercise the multipart path with small files).
MULTIPART_THRESHOLD = 16 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
PART_WORKERS = 4  # parts sent at once; each streams from the file, so memory stays the same for any file size
TXN = "txn"  # metadata key naming the transaction that wrote a version
AMBIGUOUS_CODES = frozenset({"RequestTimeout", "NoSuchUpload"})  # 4xx answers after which a write may still land


class UnknownOutcome(RuntimeError):
    """An upload raised and whether S3 committed it could not be read back."""


def refused(error: BaseException) -> bool:
    """True only when S3 answered a write's one attempt with a client error (4xx, not a timeout): that write can never land.

    The SDK retries only what may have landed (timeouts, dropped connections, 5xx, throttles): a 4xx after any retry
    (`RetryAttempts` of its answer) leaves an earlier attempt's outcome unknown.
    """
    if not isinstance(error, ClientError):  # timeouts, dropped connections, UnknownOutcome: it may still land
        return False
    metadata = error.response.get("ResponseMetadata", {})
    status, retries = int(metadata.get("HTTPStatusCode", 0)), int(metadata.get("RetryAttempts", 0))
    code = error.response.get("Error", {}).get("Code")
    return 400 <= status < 500 and status != 408 and code not in AMBIGUOUS_CODES and retries == 0


def put_file(store: ArchiveStore, key: str, path: Path, metadata: dict[str, str], content_type: str) -> str | None:
    """Upload a finished file whole (visible only when complete); return the new version id.

    If the upload raises, the key's current version is read: when it carries our `txn`, S3 committed the write
    although the answer was lost (a retried CompleteMultipartUpload answering NoSuchUpload, say), and its version
    id is returned; otherwise the error is raised.
    """
    try:
        if path.stat().st_size <= MULTIPART_THRESHOLD:
            with open(path, "rb") as body:
                return version_of(store.s3.put_object(**store.args(Key=key, Body=body, Metadata=metadata, ContentType=content_type)))
        return _multipart(store, key, path, metadata, content_type)
    except Exception as exc:
        committed = resolve(store, key, metadata[TXN], exc)
        if committed is None:
            raise
        return committed.version


def resolve(store: ArchiveStore, key: str, txn: str, error: Exception) -> Stored | None:
    """The key's current version if it carries `txn` (the write committed), else None; UnknownOutcome if unreadable."""
    try:
        current = store.current(key)
    except Exception as exc:
        raise UnknownOutcome(f"{type(error).__name__}: {error}; and {key} could not be read back: {type(exc).__name__}: {exc}") from exc
    return current if current is not None and current.metadata.get(TXN) == txn else None


def _multipart(store: ArchiveStore, key: str, path: Path, metadata: dict[str, str], content_type: str) -> str | None:
    """Our own multipart upload (boto3's upload_file hides the version id), PART_WORKERS parts at a time; aborted if any step fails.

    Each part streams from the file through s3transfer's ReadFileChunk (the window upload_file itself sends, seekable for
    botocore's retries), so memory does not grow with the file or the part size.
    """
    from s3transfer.utils import ReadFileChunk  # loaded with any S3 client (boto3 adds upload_file)

    def send(number: int) -> dict[str, Any]:
        with ReadFileChunk.from_filename(str(path), (number - 1) * PART_SIZE, PART_SIZE) as body:
            reply = store.s3.upload_part(**store.args(Key=key, UploadId=upload, PartNumber=number, Body=body))
        return {"PartNumber": number, "ETag": reply["ETag"]}

    upload = store.s3.create_multipart_upload(**store.args(Key=key, Metadata=metadata, ContentType=content_type))["UploadId"]
    try:
        count = max(1, -(-path.stat().st_size // PART_SIZE))
        pool = ThreadPoolExecutor(PART_WORKERS, thread_name_prefix="upload-part")
        try:
            parts = list(pool.map(send, range(1, count + 1)))
        finally:  # after a failed part none starts any more, and the abort below waits for those in flight
            pool.shutdown(wait=True, cancel_futures=True)
        done = store.s3.complete_multipart_upload(**store.args(Key=key, UploadId=upload, MultipartUpload={"Parts": parts}))
        return version_of(done)
    except Exception:
        with contextlib.suppress(Exception):  # after a committed CompleteMultipartUpload this answers NoSuchUpload
            store.s3.abort_multipart_upload(**store.args(Key=key, UploadId=upload))
        raise


def versions_of(store: ArchiveStore, key: str, txn: str, since: str | None = None) -> list[str]:
    """The version ids of `key` written by transaction `txn` (a retried PutObject may have committed twice).

    Only versions no older than `since` (the version current when the transaction began) are read: a rollback costs
    the transaction's own versions, not the key's whole history. Without `since`, or if it is gone, every version is.
    """
    pages = store.s3.get_paginator("list_object_versions").paginate(**store.args(Prefix=key))
    versions = [v for page in pages for v in page.get("Versions", []) if v["Key"] == key]
    start = next((v["LastModified"] for v in versions if since is not None and v["VersionId"] == since), None)
    candidates = [v["VersionId"] for v in versions if start is None or (v["LastModified"] >= start and v["VersionId"] != since)]
    return [version for version in candidates if _txn_of(store, key, version) == txn]


def _txn_of(store: ArchiveStore, key: str, version: str) -> str | None:
    """The transaction that wrote one version; None if it is gone since the listing (an overlapping run deleted it)."""
    try:
        return store.head(key, version).metadata.get(TXN)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NoSuchVersion"):
            return None
        raise


def remove_versions(store: ArchiveStore, key: str, txn: str, since: str | None = None) -> int:
    """Delete every version of `key` that transaction `txn` wrote, never another writer's; the previous one is current again."""
    mine = versions_of(store, key, txn, since)
    for version in mine:
        store.s3.delete_object(**store.args(Key=key, VersionId=version))
    return len(mine)


def clear_intent(store: ArchiveStore, month: Period, txn: str, version: str | None) -> None:
    """Remove the month's pending marker of transaction `txn`: every version carrying it (a retried PUT writes two), and `version`."""
    key = store.marker_key("pending", month)
    mine = versions_of(store, key, txn)
    for found in mine + ([version] if version and version not in mine else []):  # an older marker carries its token only in the body
        store.clear_intent(month, found)


def abort_uploads(store: ArchiveStore, prefix: str) -> int:
    """Abort the incomplete multipart uploads under a prefix (left by a killed run)."""
    aborted = 0
    pages = store.s3.get_paginator("list_multipart_uploads").paginate(**store.args(Prefix=prefix))
    for page in pages:
        for upload in page.get("Uploads", []):
            try:
                store.s3.abort_multipart_upload(**store.args(Key=upload["Key"], UploadId=upload["UploadId"]))
            except ClientError as exc:  # a retry after an abort whose answer was lost: the upload is gone, as asked
                if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                    raise
            aborted += 1
    return aborted


def quarantine(store: ArchiveStore, key: str, path: Path, sha256: str, reason: str) -> None:
    """Keep served bytes that cannot be archived, byte-exact, under quarantine/ (idempotent: the key holds the SHA-256)."""
    printable = "".join(c if " " <= c <= "~" else "?" for c in reason[:1000])  # metadata travels in HTTP headers
    metadata = {"sha256": sha256, "reason": printable, TXN: sha256}
    put_file(store, key, path, metadata, "application/octet-stream")
