"""The local stack: moto server, the Appstore API emulator, resources from template.yaml, and the handler."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import requests

from infra.local.appstore_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, AppstoreEmulator
from infra.local.config import BUCKET, DATABASE, PREFIX, REGION, SECRET, TABLE, FakeContext, use_endpoint
from infra.local.provision import provision
from infra.template.load import load_template, resource

__all__ = [
    "BUCKET",
    "DATABASE",
    "PREFIX",
    "REGION",
    "SECRET",
    "TABLE",
    "FakeContext",
    "LocalStack",
    "MotoServer",
    "schedule_event",
    "use_endpoint",
]

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "archiver"
MOTO_SERVER = Path(__file__).with_name("motoserver.py")  # moto_server with S3 keys held weakly (bounded memory)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MotoServer:
    """`moto_server` on a free loopback port, health-checked, stopped by PID."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MotoServer:
        """Start the server and wait until it answers."""
        self.process = subprocess.Popen(  # noqa: S603 - fixed command on loopback
            [sys.executable, str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.url}/moto-api/data.json", timeout=1)
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto server did not start on {self.url}") from None
                time.sleep(0.1)

    def reset(self) -> None:
        """Forget every resource."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        """Terminate the server process by PID."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None


def _import_function_code() -> None:
    """Make the function's modules importable, as they are at the root of the Lambda package."""
    if str(FUNCTION_DIR) not in sys.path:
        sys.path.insert(0, str(FUNCTION_DIR))


def schedule_event(function: str = "ArchiverFunction") -> Any:
    """The event the template's daily schedule sends the function: its `Input`, parsed."""
    events = resource(load_template(), function)["Properties"]["Events"]
    (schedule,) = [e["Properties"] for e in events.values() if e["Type"] in ("ScheduleV2", "Schedule")]
    return json.loads(schedule["Input"])


class LocalStack:
    """Provisioned local AWS plus a running emulator; `invoke()` runs the real handler."""

    def __init__(self, endpoint: str, prefix: str = PREFIX, reports: str | None = None, **emulator_options: Any) -> None:
        """Provision and start; `reports` overrides the template's REPORTS (all types) in the function's environment."""
        _import_function_code()
        from archiver.run.startup import Clients

        use_endpoint(endpoint)
        self.endpoint = endpoint
        self.clients = Clients(boto3.client("s3"), boto3.client("glue"), boto3.client("secretsmanager"))
        template_env = provision(self.clients, bucket=BUCKET, database=DATABASE, table=TABLE, secret_name=SECRET, prefix=prefix)
        credentials = {"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
        self.clients.secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps(credentials))
        self.emulator = AppstoreEmulator(boto3.client("s3"), **emulator_options).start()
        # The template's environment, with only the Amazon endpoints pointed at the emulator.
        self.env = {
            **template_env,
            "APPSTORE_TOKEN_URL": self.emulator.token_url,
            "APPSTORE_REPORT_URL": self.emulator.report_url,
            "DOWNLOAD_ALLOWED_HOSTS": "127.0.0.1",
        }
        if reports is not None:
            self.env["REPORTS"] = reports
        self.prefix = prefix

    def expire_lease(self) -> None:
        """Let the lease a killed run left (if any) expire, as the time past its expiry (the run's budget plus a margin) would."""
        from archiver.storage.lease import KEY

        s3, key = self.clients.s3, self.prefix + KEY
        if not s3.list_objects_v2(Bucket=BUCKET, Prefix=key).get("Contents"):
            return
        found = s3.get_object(Bucket=BUCKET, Key=key)
        body = {**json.loads(found["Body"].read()), "expires": "2000-01-01T00:00:00+00:00", "seconds": 0}  # expired by S3's clock
        s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(body).encode(), IfMatch=found["ETag"])

    def invoke(self, event: Any = None, timeout: float = 900.0) -> dict[str, Any]:
        """Invoke the handler as the daily schedule does (the template's schedule `Input`), or with a manual event."""
        _import_function_code()
        os.environ.update(self.env)
        import app

        app.clients.cache_clear()
        result: dict[str, Any] = app.lambda_handler(schedule_event() if event is None else event, FakeContext(time.monotonic() + timeout))
        return result

    def close(self) -> None:
        """Stop the emulator."""
        self.emulator.stop()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None) -> None:
        self.close()
