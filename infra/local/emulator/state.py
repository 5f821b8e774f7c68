"""EmulatorState: the emulator's shared state (configuration, control and month state, URLs), what every endpoint is given."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import quote

from infra.local.emulator.months import MonthState
from infra.local.emulator.signing import UrlSigner
from infra.local.salesdata import MonthOptions, SalesData

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DEMO_CLIENT_ID = "amzn1.application-oa2-client.demo0000000000000000000000000000"
DEMO_CLIENT_SECRET = "demo-client-secret-for-the-local-emulator-only"  # noqa: S105 - a public demo value


class EmulatorState(MonthState):
    """The configured emulator's state; AppstoreEmulator adds the HTTP server and the routing to the endpoints."""

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
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.reset()

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
