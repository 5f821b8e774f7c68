"""AppstoreEmulator: the shared state served over HTTP; starts and stops the server and routes requests to the endpoints."""

from __future__ import annotations

import threading

from botocore.exceptions import ClientError

from infra.local.emulator.admin import admin_reply
from infra.local.emulator.download import download_reply
from infra.local.emulator.httpd import EmulatorHandler, EmulatorServer
from infra.local.emulator.oauth import token_reply
from infra.local.emulator.replies import Reply, text_reply
from infra.local.emulator.report import report_reply
from infra.local.emulator.state import EmulatorState


class AppstoreEmulator(EmulatorState):
    """The Reporting API on 127.0.0.1, storing report files in an S3 (moto) bucket."""

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
