"""Name a raw AWS HTTP request by its operation (S3 path style, JSON protocols by X-Amz-Target); AWS error replies."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

ErrorReply = tuple[int, str, bytes]  # status, content type, body
_TARGETS = {"AWSGlue": "glue", "secretsmanager": "secretsmanager"}
_BUCKET_OPERATIONS = {
    "list-type": "ListObjectsV2",
    "versions": "ListObjectVersions",
    "uploads": "ListMultipartUploads",
    "delete": "DeleteObjects",
}


@dataclass(frozen=True)
class Call:
    """One request the proxy received, named by its AWS operation."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    operation: str  # e.g. "s3.PutObject", "glue.CreatePartition"

    @property
    def bucket(self) -> str:
        """The S3 bucket of a path-style request ('' for other services)."""
        return self.path.lstrip("/").partition("/")[0] if self.operation.startswith("s3.") else ""

    @property
    def key(self) -> str:
        """The S3 object key of a path-style request ('' for bucket-level calls)."""
        return self.path.lstrip("/").partition("/")[2]


def s3_operation(method: str, has_key: bool, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> str:
    """The S3 operation of a path-style request."""
    if not has_key:
        bucket_ops = {
            "list-type": "ListObjectsV2",
            "versions": "ListObjectVersions",
            "uploads": "ListMultipartUploads",
            "delete": "DeleteObjects",
        }
        found = next((op for name, op in bucket_ops.items() if name in query), None)
        return found or {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}.get(method, "ListObjects")
    if method == "PUT":
        if "partNumber" in query:
            return "UploadPart"
        return "CopyObject" if "x-amz-copy-source" in {k.lower() for k in headers} else "PutObject"
    if method == "POST":
        return "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
    if method == "DELETE":
        if "uploadId" in query:
            return "AbortMultipartUpload"
        return "DeleteObjectVersion" if "versionId" in query else "DeleteObject"
    if "uploadId" in query:
        return "ListParts"
    return "HeadObject" if method == "HEAD" else "GetObject"


def name_call(method: str, target: str, headers: Mapping[str, str]) -> Call:
    """Name a request by its AWS operation (JSON protocols by `X-Amz-Target`, S3 by method, path and query)."""
    path, _, raw_query = target.partition("?")
    query = parse_qs(raw_query, keep_blank_values=True)
    amz_target = next((v for k, v in headers.items() if k.lower() == "x-amz-target"), "")
    if amz_target:
        prefix, _, op = amz_target.partition(".")
        return Call(method, path, query, headers, f"{_TARGETS.get(prefix, prefix.lower())}.{op}")
    has_key = bool(path.lstrip("/").partition("/")[2])
    return Call(method, path, query, headers, "s3." + s3_operation(method, has_key, query, headers))


def s3_error(status: int, code: str) -> ErrorReply:
    """An S3 (XML) error reply."""
    return status, "application/xml", f"<Error><Code>{code}</Code><Message>injected</Message><RequestId>P</RequestId></Error>".encode()


def glue_error(code: str, status: int = 500) -> ErrorReply:
    """A Glue (JSON protocol) error reply."""
    return status, "application/x-amz-json-1.1", json.dumps({"__type": code, "Message": "injected"}).encode()
