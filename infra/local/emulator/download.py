"""The S3-style download endpoint: GET/HEAD /{bucket}/{key}?X-Amz-... with signature and expiry checks."""

from __future__ import annotations

import calendar
import hmac
import secrets
import time
from collections.abc import Iterator
from datetime import UTC
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from botocore.exceptions import ClientError

from infra.local.emulator.faults import common_fault
from infra.local.emulator.replies import Reply, s3_error

if TYPE_CHECKING:
    from infra.local.emulator.state import EmulatorState

_ONE_AUTH = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter"
    " or the Authorization header should be specified"
)
_BAD_SIGNATURE = "The request signature we calculated does not match the signature you provided. Check your key and signing method."


def download_reply(emu: EmulatorState, method: str, path: str, query: str, headers: dict[str, str]) -> Reply:
    """GET/HEAD /{bucket}/{key}?X-Amz-...: check signature and expiry, stream the object."""
    if method not in ("GET", "HEAD"):
        return s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    fault = emu.take_fault("download")
    reply = common_fault("download", fault)
    if reply is not None:
        return reply
    name = fault.name if fault else ""
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if "authorization" in headers and "X-Amz-Algorithm" in params:
        return s3_error(400, "InvalidArgument", _ONE_AUTH)
    needed = ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Credential", "X-Amz-Signature")
    if any(k not in params for k in needed):
        return s3_error(403, "AccessDenied", "Access Denied")
    expected = emu.signer.signature(path, params["X-Amz-Date"], params["X-Amz-Expires"], params["X-Amz-Credential"])
    if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
        return s3_error(403, "SignatureDoesNotMatch", _BAD_SIGNATURE)
    try:
        issued = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
        expires_at = issued + int(params["X-Amz-Expires"])
    except ValueError:
        return s3_error(400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format")
    now = emu.now()
    if name == "expired_link" or now > expires_at:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(expires_at, now - 1)))
        server_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return s3_error(403, "AccessDenied", "Request has expired", Expires=stamp, ServerTime=server_time)
    key = unquote(path)[len(emu.bucket) + 2 :]
    if name == "not_found_404":
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
    chunks: Iterator[bytes]
    try:
        if method == "HEAD":
            head = emu.s3.head_object(Bucket=emu.bucket, Key=key)
            etag, modified, length, chunks = head["ETag"], head["LastModified"], head["ContentLength"], iter(())
        else:
            obj = emu.s3.get_object(Bucket=emu.bucket, Key=key)
            etag, modified, length, chunks = obj["ETag"], obj["LastModified"], obj["ContentLength"], _stream(obj["Body"])
            chunks = emu.served.watch(key, chunks, length)
    except ClientError:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
    if name == "corrupt":
        chunks = _corrupted(chunks, length // 2)
    out = {
        "Content-Type": "binary/octet-stream",
        "ETag": etag,
        "Last-Modified": format_datetime(modified.astimezone(UTC), usegmt=True),
        "Accept-Ranges": "bytes",
        "x-amz-request-id": secrets.token_hex(8).upper(),
    }
    if name == "content_encoding_gzip":
        out["Content-Encoding"] = "gzip"
    return Reply(200, chunks, out, length=length, truncate=name == "truncate")


def _stream(body: Any) -> Iterator[bytes]:
    """Yield an S3 body in 64 KiB chunks and close it, also when abandoned."""
    try:
        yield from body.iter_chunks(64 * 1024)
    finally:
        body.close()


def _corrupted(chunks: Iterator[bytes], start: int, width: int = 16) -> Iterator[bytes]:
    """Yield the chunks with `width` bytes from offset `start` inverted (length unchanged)."""
    offset = 0
    for chunk in chunks:
        end = offset + len(chunk)
        if end > start and offset < start + width:
            data = bytearray(chunk)
            for index in range(max(start, offset), min(start + width, end)):
                data[index - offset] ^= 0xFF
            chunk = bytes(data)
        offset = end
        yield chunk
