"""CLI test fixtures: one moto server for the module, the local stack, its state file, and a healthy archive."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from click.testing import CliRunner, Result

from archiver.core.months import Month
from archiver.core.periods import Period, Year
from cli.main import cli
from infra.local.stack import PREFIX, LocalStack, MotoServer
from tests.cli.healthy import Healthy

MONTHS = [Month(2024, 1), Month(2024, 2), Month(2024, 3)]
# One archived period of each other report type in the healthy archive.
OTHERS: dict[str, Period] = {"earnings": Month(2024, 1), "earnings_yearly": Year(2023), "subscription": Month(2024, 2)}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server for the CLI tests (its Lambda without Docker); stopped by PID."""
    server = MotoServer().start()
    try:
        requests.post(f"{server.url}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10).raise_for_status()
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def reports() -> str | None:
    """The function's REPORTS on the local stack: None keeps the template's (every type); a test module may override."""
    return None


@pytest.fixture
def prefix() -> str:
    """The archive prefix of the local stack; a test may parametrize it (an empty prefix, say)."""
    return PREFIX


@pytest.fixture
def local(
    moto_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reports: str | None, prefix: str
) -> Iterator[tuple[LocalStack, Path]]:
    """The local stack provisioned from template.yaml, and the state file `make demo --keep-running` would write."""
    saved = dict(os.environ)
    requests.post(f"{moto_url}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.delenv("APPSTORE_ARCHIVE_STATE", raising=False)
    try:
        with LocalStack(moto_url, prefix=prefix, reports=reports) as stack:
            state = {
                "version": 1,
                "pid": os.getpid(),
                "endpoint_url": moto_url,
                "region": "us-east-1",
                "emulator_url": stack.emulator.base_url,
                "bucket": stack.env["ARCHIVE_BUCKET"],
                "prefix": stack.env["ARCHIVE_PREFIX"],
                "database": stack.env["GLUE_DATABASE"],
                "table": stack.env["GLUE_TABLE"],
                "workgroup": None,
                "function_env": stack.env,
            }
            path = tmp_path / ".demo" / "stack.json"
            path.parent.mkdir()
            path.write_text(json.dumps(state))
            yield stack, path
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def healthy(local: tuple[LocalStack, Path], tmp_path: Path) -> Healthy:
    """Sales: three archived months (2024-01…03), a not-found marker for 2023-12; one period of each other type (OTHERS)."""
    stack, _ = local
    env = stack.env
    archive = Healthy(
        stack.clients.s3, stack.clients.glue, env["ARCHIVE_BUCKET"], env["ARCHIVE_PREFIX"], env["GLUE_DATABASE"], env["GLUE_TABLE"]
    )
    for month in MONTHS:
        archive.archive(month, tmp_path)
    archive.marker("not_found", Month(2023, 12))
    for report, period in OTHERS.items():
        archive.archive_other(report, period, tmp_path)
    return archive


def invoke(*args: str) -> Result:
    """Run the CLI in-process, stdout and stderr apart."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(result: Result) -> Any:
    """The command's JSON document."""
    return json.loads(result.stdout)


def aws_clients(endpoint: str) -> dict[str, Any]:
    """boto3 clients on the moto server."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    services = ("s3", "glue", "cloudformation", "lambda", "logs", "cloudwatch", "athena", "iam")
    return {name: session.client(name, endpoint_url=endpoint) for name in services}  # type: ignore[call-overload]
