"""AppstoreEmulator: configuration, server lifecycle, URLs and routing of requests to the endpoints."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.exceptions import ClientError

from infra.local.emulator.admin import admin_reply
from infra.local.emulator.download import download_reply
from infra.local.emulator.httpd import EmulatorHandler, EmulatorServer
from infra.local.emulator.months import MonthState
from infra.local.emulator.oauth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, token_reply
from infra.local.emulator.replies import Reply, text_reply
from infra.local.emulator.report import report_reply
from infra.local.emulator.signing import UrlSigner
from infra.local.salesdata import MonthOptions, SalesData

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class AppstoreEmulator(MonthState):
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
        self.signer = UrlSigner()
        self._lock, self._generate_lock = threading.Lock(), threading.Lock()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

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
        self._server = EmulatorServer(("127.0.0.1", self._port), EmulatorHandler)
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

    def authenticates(self, client_id: str, client_secret: str) -> bool:
        """Whether the client credentials are the configured ones (constant-time comparison)."""
        good_id = hmac.compare_digest(client_id.encode(), self._client_id.encode())
        good_secret = hmac.compare_digest(client_secret.encode(), self._client_secret.encode())
        return good_id and good_secret

    def presign(self, key: str, *, expired: bool = False) -> str:
        """An S3-style presigned URL to the emulator itself, valid for link_ttl seconds."""
        issued = self.now() - (self.link_ttl + 60 if expired else 0)
        return self.signer.presign(self.base_url, f"/{self.bucket}/{quote(key)}", issued, self.link_ttl)

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[str, Reply]:
        """Route one request; return the endpoint name (for stats) and the reply."""
        path, _, query = target.partition("?")
        lower = {k.lower(): v for k, v in headers.items()}
        if path == self.token_path:
            return "token", token_reply(self, method, lower, body)
        if path == self.report_path or path.startswith(self.report_path + "/"):
            return "report", report_reply(self, method, path, lower)
        if path.startswith(self.admin_path + "/"):
            return "admin", admin_reply(self, method, path[len(self.admin_path) + 1 :], query, body)
        if path.startswith(f"/{self.bucket}/"):
            self.record_download(headers)
            return "download", download_reply(self, method, path, query, lower)
        return "other", text_reply(404, "Not Found")
