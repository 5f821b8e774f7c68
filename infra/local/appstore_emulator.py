"""Local emulator of the Amazon Appstore Reporting API: token, report link and S3-style download."""

from __future__ import annotations

import argparse
import calendar
import hashlib
import hmac
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlencode
from xml.sax.saxutils import escape

from botocore.exceptions import ClientError

from infra.local.salesdata import FIRST_MONTH, MonthOptions, MonthTotals, SalesData, file_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEMO_CLIENT_ID = "amzn1.application-oa2-client.demo0000000000000000000000000000"
DEMO_CLIENT_SECRET = "demo-client-secret-for-the-local-emulator-only"  # noqa: S105 - a public demo value
REPORTING_SCOPE = "adx_reporting::appstore:marketer"
REPORT_TYPES = ("sales", "earnings", "subscription")
ACCESS_KEY_ID = "AKIAEMULATOR00000000"
_ONE_AUTH = (
    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter"
    " or the Authorization header should be specified"
)
_BAD_SIGNATURE = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
_COMMON = {"500", "503", "429", "truncate", "delay"}
FAULTS: dict[str, frozenset[str]] = {
    "token": frozenset(_COMMON | {"invalid_token", "invalid_client", "invalid_scope"}),
    "report": frozenset(
        _COMMON | {"invalid_token", "not_found_404", "report_not_found", "expired_link", "redirect", "bare_url", "json_url"}
    ),
    "download": frozenset(_COMMON | {"corrupt", "expired_link", "not_found_404", "content_encoding_gzip"}),
}


@dataclass
class Reply:
    """An HTTP response: status, headers, and a body given as bytes or as chunks with a length."""

    status: int
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int = 0
    truncate: bool = False


@dataclass
class _Fault:
    """An injected fault with the number of requests it still applies to."""

    name: str
    remaining: int
    options: dict[str, Any]


def _text(status: int, text: str, **headers: str) -> Reply:
    """A text/plain reply."""
    return Reply(status, text.encode(), {"Content-Type": "text/plain;charset=UTF-8", **headers})


def _json(status: int, payload: Any, **headers: str) -> Reply:
    """A JSON reply."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Reply(status, body, {"Content-Type": "application/json;charset=UTF-8", **headers})


def _oauth_error(status: int, error: str, description: str) -> Reply:
    """An RFC 6749 error reply."""
    return _json(status, {"error": error, "error_description": description}, **{"Cache-Control": "no-store"})


def _s3_error(status: int, code: str, message: str, **extra: str) -> Reply:
    """An S3-style XML error reply."""
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in {"Code": code, "Message": message, **extra}.items())
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{fields}<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>'
    return Reply(status, xml.encode(), {"Content-Type": "application/xml"})


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


class AppstoreEmulator:
    """The Reporting API on 127.0.0.1, storing report files in an S3 (moto) bucket."""

    token_path = "/auth/o2/token"  # noqa: S105 - a path, not a password
    report_path = "/api/appstore/download/report"
    admin_path = "/_emulator"

    def __init__(
        self,
        s3_client: S3Client,
        *,
        bucket: str = "appstore-vendor-reports",
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        seed: int = 85923,
        vendor_id: str = "85923",
        compression: str = "zip",
        variant: str = "seed16",
        bom: bool = False,
        line_ending: str = "\r\n",
        rows_per_month: int | None = None,
        clock: Callable[[], float] = time.time,
        rate_limit: int | None = 3,
        token_ttl: int = 3600,
        link_ttl: int = 299,
        expired_token_status: int = 403,
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        """Configure the emulator; nothing listens until start()."""
        self.s3, self.bucket, self.vendor_id = s3_client, bucket, vendor_id
        self._client_id, self._client_secret = client_id, client_secret
        self.data = SalesData(seed=seed, rows_per_month=rows_per_month)
        self.defaults = MonthOptions(variant=variant, compression=compression, bom=bom, line_ending=line_ending)
        self._clock, self.rate_limit, self.token_ttl, self.link_ttl = clock, rate_limit, token_ttl, link_ttl
        self.expired_token_status, self.verbose, self._port = expired_token_status, verbose, port
        self._signing_key = secrets.token_bytes(32)
        self._lock, self._generate_lock = threading.Lock(), threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # ----- lifecycle -----
    def start(self) -> AppstoreEmulator:
        """Create the bucket if missing and serve on a background thread."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            region = self.s3.meta.region_name
            if region and region != "us-east-1":
                self.s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": region})  # type: ignore[typeddict-item]
            else:
                self.s3.create_bucket(Bucket=self.bucket)
        self._server = _Server(("127.0.0.1", self._port), _Handler)
        self._server.emulator = self
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> AppstoreEmulator:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving a with block."""
        self.stop()

    @property
    def base_url(self) -> str:
        """http://127.0.0.1:PORT of the running server."""
        if self._server is None:
            raise RuntimeError("emulator is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return self.base_url + self.token_path

    @property
    def report_url(self) -> str:
        """The report-link base; append /{type}/{year}/{month}."""
        return self.base_url + self.report_path

    # ----- control -----
    def reset(self) -> None:
        """Forget tokens, faults, month settings, restatements, stats, headers and clock offset."""
        with self._lock:
            self._tokens: dict[str, float] = {}
            self._faults: dict[str, deque[_Fault]] = {name: deque() for name in FAULTS}
            self._months: dict[tuple[int, int], MonthOptions] = {}
            self._empty: dict[tuple[int, int], bool] = {}
            self._revisions: dict[tuple[int, int], int] = {}
            self._stats: dict[str, dict[int, int]] = {}
            self._download_headers: list[dict[str, str]] = []
            self._recent: deque[float] = deque()
            self._cache: dict[tuple[int, int], tuple[MonthOptions, str]] = {}
            self._offset = 0.0

    def now(self) -> float:
        """The emulator's time: the clock plus any advance_clock offset."""
        return self._clock() + self._offset

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's time forward (expires tokens and links)."""
        with self._lock:
            self._offset += seconds

    def inject(self, endpoint: str, fault: str | int, times: int = 1, **options: Any) -> None:
        """Make the next `times` requests to `endpoint` (token/report/download) fail with `fault`."""
        name = str(fault)
        if endpoint not in FAULTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; expected one of {sorted(FAULTS)}")
        if name not in FAULTS[endpoint]:
            raise ValueError(f"unknown fault {name!r} for {endpoint}; expected one of {sorted(FAULTS[endpoint])}")
        with self._lock:
            self._faults[endpoint].append(_Fault(name, int(times), options))

    def set_month(
        self,
        year: int,
        month: int,
        *,
        variant: str | None = None,
        compression: str | None = None,
        bom: bool | None = None,
        rows: int | None = None,
        line_ending: str | None = None,
        empty: bool = False,
        header_only: bool = False,
        multi_member: bool = False,
    ) -> None:
        """Replace one month's settings (None: the emulator default); the month exists unless empty."""
        d = self.defaults
        options = MonthOptions(
            variant=variant or d.variant,
            compression=compression or d.compression,
            bom=d.bom if bom is None else bom,
            line_ending=line_ending or d.line_ending,
            rows=rows,
            header_only=header_only,
            multi_member=multi_member,
        )
        with self._lock:
            self._months[(year, month)] = options
            self._empty[(year, month)] = empty

    def restate(self, year: int, month: int) -> int:
        """Bump a month's revision (changes an amount, adds a refund); return the new revision."""
        with self._lock:
            self._revisions[(year, month)] = self._revisions.get((year, month), 0) + 1
            return self._revisions[(year, month)]

    def expire_tokens(self) -> None:
        """Make every issued token expired."""
        with self._lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def issue_token(self) -> str:
        """A valid access token without an HTTP round trip."""
        token = "Atc|" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[token] = self.now() + self.token_ttl
        return token

    def stats(self) -> dict[str, dict[int, int]]:
        """Request counts per endpoint (token/report/download/admin/other) and HTTP status."""
        with self._lock:
            return {endpoint: dict(counts) for endpoint, counts in self._stats.items()}

    @property
    def download_headers(self) -> list[dict[str, str]]:
        """Headers of every download request (Authorization values redacted)."""
        with self._lock:
            return [dict(h) for h in self._download_headers]

    def month_options(self, year: int, month: int) -> MonthOptions:
        """The options a month's file is written with now (including its revision)."""
        with self._lock:
            options = self._months.get((year, month), self.defaults)
            return replace(options, revision=self._revisions.get((year, month), 0))

    def has_report(self, year: int, month: int) -> bool:
        """Whether the sales report for a month exists (range, missing and empty months)."""
        current = time.gmtime(self.now())
        if not FIRST_MONTH <= (year, month) <= (current.tm_year, current.tm_mon) or not 1 <= month <= 12:
            return False
        with self._lock:
            if (year, month) in self._empty:
                return not self._empty[(year, month)]
        return (year, month) not in self.data.missing_months

    def expected_totals(self, year: int, month: int) -> MonthTotals | None:
        """The generator's truth for the file served now, or None when there is no report."""
        if not self.has_report(year, month):
            return None
        return self.data.expected_totals(year, month, self.month_options(year, month))

    def object_key(self, year: int, month: int) -> str:
        """Generate (or reuse) the month's file in the bucket and return its key."""
        options = self.month_options(year, month)
        with self._generate_lock:
            cached = self._cache.get((year, month))
            if cached is not None and cached[0] == options:
                return cached[1]
            key = f"{self.vendor_id}/sales/{file_name(year, month, options.compression)}"
            with tempfile.TemporaryFile() as spool:
                self.data.write_report(spool, year, month, options)
                spool.seek(0)
                self.s3.upload_fileobj(spool, self.bucket, key)
            self._cache[(year, month)] = (options, key)
            return key

    def presign(self, key: str, *, expired: bool = False) -> str:
        """An S3-style presigned URL to the emulator itself, valid for link_ttl seconds."""
        issued = self.now() - (self.link_ttl + 60 if expired else 0)
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(issued))
        credential = f"{ACCESS_KEY_ID}/{amz_date[:8]}/us-east-1/s3/aws4_request"
        path = f"/{self.bucket}/{quote(key)}"
        query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Expires", str(self.link_ttl)),
            ("X-Amz-Credential", credential),
            ("X-Amz-Signature", self._signature(path, amz_date, str(self.link_ttl), credential)),
        ]
        return f"{self.base_url}{path}?{urlencode(query)}"

    def _signature(self, path: str, amz_date: str, expires: str, credential: str) -> str:
        """HMAC-SHA256 over the decoded path, date, expiry and credential with a per-run key."""
        message = "\n".join((unquote(path), amz_date, expires, credential)).encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    # ----- request handling -----
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[str, Reply]:
        """Route one request; return the endpoint name (for stats) and the reply."""
        path, _, query = target.partition("?")
        lower = {k.lower(): v for k, v in headers.items()}
        if path == self.token_path:
            return "token", self._token(method, lower, body)
        if path == self.report_path or path.startswith(self.report_path + "/"):
            return "report", self._report(method, path, lower)
        if path.startswith(self.admin_path + "/"):
            return "admin", self._admin(method, path[len(self.admin_path) + 1 :], query, body)
        if path.startswith(f"/{self.bucket}/"):
            self._record_download(headers)
            return "download", self._download(method, path, query, lower)
        return "other", _text(404, "Not Found")

    def count(self, endpoint: str, status: int) -> None:
        """Count one request in the stats."""
        with self._lock:
            counts = self._stats.setdefault(endpoint, {})
            counts[status] = counts.get(status, 0) + 1

    def _record_download(self, headers: dict[str, str]) -> None:
        """Keep a download request's headers, with any Authorization value redacted."""
        kept = {k: ("<redacted>" if k.lower() == "authorization" else v) for k, v in headers.items()}
        with self._lock:
            self._download_headers.append(kept)

    def _take_fault(self, endpoint: str) -> _Fault | None:
        """Consume one application of the oldest pending fault for an endpoint."""
        with self._lock:
            queue = self._faults[endpoint]
            if not queue:
                return None
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
            return _Fault(fault.name, 1, dict(fault.options))

    @staticmethod
    def _common_fault(endpoint: str, fault: _Fault | None) -> Reply | None:
        """Replies for 500/503/429; sleeps for delay; None when the request goes on."""
        if fault is None:
            return None
        name, options = fault.name, fault.options
        if name == "delay":
            time.sleep(float(options.get("seconds", 1.0)))
            return None
        if name not in ("500", "503", "429"):
            return None
        status = int(name)
        retry = {"Retry-After": str(options.get("retry_after", 1))} if status in (429, 503) else {}
        if endpoint == "token":
            error = "server_error" if status == 500 else "temporarily_unavailable"
            return _json(status, {"error": error, "error_description": "Injected failure"}, **retry)
        if endpoint == "download":
            code = {500: "InternalError", 503: "SlowDown", 429: "SlowDown"}[status]
            reply = _s3_error(status, code, "Please reduce your request rate." if status != 500 else "We encountered an internal error.")
            reply.headers.update(retry)
            return reply
        text = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Rate exceeded"}[status]
        return _text(status, text, **retry)

    def _token(self, method: str, headers: dict[str, str], body: bytes) -> Reply:
        """POST /auth/o2/token: client-credentials grant for the reporting scope."""
        if method != "POST":
            return _oauth_error(405, "invalid_request", "The token endpoint accepts POST only")
        fault = self._take_fault("token")
        reply = self._common_fault("token", fault)
        if reply is not None:
            return reply
        name = fault.name if fault else ""
        if headers.get("content-type", "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
            return _oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
        try:
            form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            return _oauth_error(400, "invalid_request", "The request body is not valid form data")
        grant = form.get("grant_type", "")
        if not grant:
            return _oauth_error(400, "invalid_request", "The request is missing grant_type")
        if grant != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "The grant type is not supported")
        if not form.get("client_id") or not form.get("client_secret") or not form.get("scope"):
            return _oauth_error(400, "invalid_request", "The request is missing client_id, client_secret or scope")
        good_id = hmac.compare_digest(form["client_id"].encode(), self._client_id.encode())
        good_secret = hmac.compare_digest(form["client_secret"].encode(), self._client_secret.encode())
        if name == "invalid_client" or not (good_id and good_secret):
            return _oauth_error(401, "invalid_client", "Client authentication failed")
        if name == "invalid_scope" or form["scope"] != REPORTING_SCOPE:
            return _oauth_error(400, "invalid_scope", "An unknown scope was requested")
        token = "Atc|" + secrets.token_urlsafe(96) if name == "invalid_token" else self.issue_token()
        payload = {"access_token": token, "scope": form["scope"], "token_type": "bearer", "expires_in": self.token_ttl}
        reply = _json(200, payload, **{"Cache-Control": "no-store"})
        reply.truncate = name == "truncate"
        return reply

    def _rate_limited(self) -> bool:
        """True when the report endpoint already served rate_limit requests in the last second."""
        if not self.rate_limit:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                return True
            self._recent.append(now)
            return False

    def _authorize(self, headers: dict[str, str]) -> Reply | None:
        """401 for a missing or unknown bearer token, expired_token_status for an expired one."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self._lock:
            expiry = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if expiry is None:
            return _json(401, {"message": "Unauthorized"}, **{"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if self.now() >= expiry:
            return _json(self.expired_token_status, {"message": "The access token has expired"})
        return None

    def _report(self, method: str, path: str, headers: dict[str, str]) -> Reply:
        """GET /api/appstore/download/report/{type}/{year}/{month}: the bare presigned URL."""
        if method != "GET":
            return _text(405, "Method Not Allowed")
        if self._rate_limited():
            return _text(429, "Rate exceeded", **{"Retry-After": "1"})
        fault = self._take_fault("report")
        reply = self._common_fault("report", fault)
        if reply is not None:
            return reply
        name, options = (fault.name, fault.options) if fault else ("", {})
        reply = _json(401, {"message": "Unauthorized"}) if name == "invalid_token" else self._authorize(headers)
        if reply is not None:
            return reply
        parts = path[len(self.report_path) :].strip("/").split("/")
        if len(parts) != 3 or parts[0] not in REPORT_TYPES or not (parts[1].isdigit() and parts[2].isdigit()):
            return _text(400, f"Unable to fetch the request scope for uri = {path}")
        kind, year, month = parts[0], int(parts[1]), int(parts[2])
        if name == "not_found_404":
            return _text(404, "Report not found")
        if name == "report_not_found" or kind != "sales" or not self.has_report(year, month):
            return _text(400, f"Report not found for {kind}/{year}/{month}")
        url = self.presign(self.object_key(year, month), expired=name == "expired_link")
        if name == "redirect":
            return Reply(302, b"", {"Location": str(options.get("location", url))})
        if name == "json_url":
            return _json(200, {"url": str(options.get("url", url))})
        reply = _text(200, str(options.get("url", url + "\r\n")) if name == "bare_url" else url)
        reply.truncate = name == "truncate"
        return reply

    def _download(self, method: str, path: str, query: str, headers: dict[str, str]) -> Reply:
        """GET/HEAD /{bucket}/{key}?X-Amz-...: check signature and expiry, stream the object."""
        if method not in ("GET", "HEAD"):
            return _s3_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
        fault = self._take_fault("download")
        reply = self._common_fault("download", fault)
        if reply is not None:
            return reply
        name = fault.name if fault else ""
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if "authorization" in headers and "X-Amz-Algorithm" in params:
            return _s3_error(400, "InvalidArgument", _ONE_AUTH)
        needed = ("X-Amz-Date", "X-Amz-Expires", "X-Amz-Credential", "X-Amz-Signature")
        if any(k not in params for k in needed):
            return _s3_error(403, "AccessDenied", "Access Denied")
        expected = self._signature(path, params["X-Amz-Date"], params["X-Amz-Expires"], params["X-Amz-Credential"])
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            return _s3_error(403, "SignatureDoesNotMatch", _BAD_SIGNATURE)
        try:
            issued = calendar.timegm(time.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
            expires_at = issued + int(params["X-Amz-Expires"])
        except ValueError:
            return _s3_error(400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 Long Format")
        now = self.now()
        if name == "expired_link" or now > expires_at:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(min(expires_at, now - 1)))
            server_time = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
            return _s3_error(403, "AccessDenied", "Request has expired", Expires=stamp, ServerTime=server_time)
        key = unquote(path)[len(self.bucket) + 2 :]
        if name == "not_found_404":
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
        chunks: Iterator[bytes]
        try:
            if method == "HEAD":
                head = self.s3.head_object(Bucket=self.bucket, Key=key)
                etag, modified, length, chunks = head["ETag"], head["LastModified"], head["ContentLength"], iter(())
            else:
                obj = self.s3.get_object(Bucket=self.bucket, Key=key)
                etag, modified, length, chunks = obj["ETag"], obj["LastModified"], obj["ContentLength"], _stream(obj["Body"])
        except ClientError:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.", Key=key)
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

    def _admin(self, method: str, action: str, query: str, body: bytes) -> Reply:
        """JSON control endpoints under /_emulator/ for a separate-process demo."""
        try:
            if method == "POST":
                payload = json.loads(body or b"{}")
                if not isinstance(payload, dict):
                    raise ValueError("the body must be a JSON object")
            else:
                payload = {k: v[0] for k, v in parse_qs(query).items()}
            result = self._admin_action(method, action, payload)
        except LookupError as exc:
            return _json(400 if isinstance(exc, KeyError) else 404, {"error": str(exc)})
        except (TypeError, ValueError) as exc:
            return _json(400, {"error": str(exc)})
        return _json(200, result)

    def _admin_action(self, method: str, action: str, p: dict[str, Any]) -> Any:
        """Perform one admin action and return its JSON result."""
        if method == "GET" and action == "health":
            return {"token_url": self.token_url, "report_url": self.report_url, "bucket": self.bucket}
        if method == "GET" and action == "stats":
            return self.stats()
        if method == "GET" and action == "download-headers":
            return self.download_headers
        if method == "GET" and action == "expected-totals":
            totals = self.expected_totals(int(p["year"]), int(p["month"]))
            return None if totals is None else totals.to_json()
        if method == "POST" and action == "faults":
            self.inject(p.pop("endpoint"), p.pop("fault"), int(p.pop("times", 1)), **p)
        elif method == "POST" and action == "months":
            self.set_month(int(p.pop("year")), int(p.pop("month")), **p)
        elif method == "POST" and action == "restate":
            return {"revision": self.restate(int(p["year"]), int(p["month"]))}
        elif method == "POST" and action == "expire-tokens":
            self.expire_tokens()
        elif method == "POST" and action == "reset":
            self.reset()
        elif method == "POST" and action == "clock":
            self.advance_clock(float(p.get("advance", 0)))
            return {"now": self.now()}
        else:
            raise LookupError(f"no admin action {method} {action}")
        return {"ok": True}


class _Server(ThreadingHTTPServer):
    """A threaded HTTP server that knows its emulator."""

    daemon_threads = True
    emulator: AppstoreEmulator


class _Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into AppstoreEmulator.handle calls; logs no query strings or tokens."""

    protocol_version = "HTTP/1.1"
    server_version = "appstore-emulator"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        """Handle GET."""
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        """Handle HEAD."""
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        """Handle POST."""
        self._dispatch("POST")

    def do_PUT(self) -> None:
        """Handle PUT."""
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        """Handle DELETE."""
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        """Read the body, route, count and send the reply."""
        emulator = self.server.emulator
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            endpoint, reply = emulator.handle(method, self.path, dict(self.headers.items()), body)
        except Exception as exc:  # the emulator must answer, like a real server would
            endpoint, reply = "error", _text(500, "Internal Server Error")
            self.log_message("emulator error: %s", type(exc).__name__)
        emulator.count(endpoint, reply.status)
        self._send(reply, head=method == "HEAD")

    def _send(self, reply: Reply, *, head: bool) -> None:
        """Write the reply; a truncated one announces the full length and stops at half."""
        chunks = iter([reply.body]) if isinstance(reply.body, bytes) else reply.body
        length = len(reply.body) if isinstance(reply.body, bytes) else reply.length
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if head:
            chunks = iter(())
        limit = length // 2 if reply.truncate else length
        sent = 0
        try:
            for chunk in chunks:
                part = chunk[: limit - sent]
                self.wfile.write(part)
                sent += len(part)
                if sent >= limit:
                    break
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if reply.truncate:
            self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log method, path without query string, and status when verbose."""
        if self.server.emulator.verbose:
            path = self.path.partition("?")[0]
            sys.stderr.write(f"{self.command} {path} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:
        """Log errors only when verbose (the stdlib would print request lines with queries)."""
        if self.server.emulator.verbose:
            sys.stderr.write("appstore-emulator: " + (format % args) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT, printing its URLs as one JSON line."""
    import boto3

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="appstore-vendor-reports")
    parser.add_argument("--seed", type=int, default=85923)
    parser.add_argument("--rows", type=int, default=None, help="rows per month (default: seeded 20-80)")
    parser.add_argument("--compression", choices=("zip", "gzip"), default="zip")
    parser.add_argument("--variant", default="seed16")
    parser.add_argument("--bom", action="store_true")
    parser.add_argument("--rate-limit", type=int, default=3, help="report requests per second; 0 disables")
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    secret = os.environ.get("APPSTORE_EMULATOR_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    s3 = boto3.client("s3", endpoint_url=args.s3_endpoint_url, region_name=region)
    emulator = AppstoreEmulator(
        s3, bucket=args.bucket, client_id=args.client_id, client_secret=secret, seed=args.seed,
        compression=args.compression, variant=args.variant, bom=args.bom, rows_per_month=args.rows,
        rate_limit=args.rate_limit or None, token_ttl=args.token_ttl, port=args.port, verbose=args.verbose,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with emulator:
        urls = {
            "base_url": emulator.base_url, "token_url": emulator.token_url, "report_url": emulator.report_url,
            "admin_url": emulator.base_url + emulator.admin_path, "bucket": emulator.bucket,
            "client_id": args.client_id, "scope": REPORTING_SCOPE,
        }  # fmt: skip
        print(json.dumps(urls), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
