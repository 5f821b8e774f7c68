"""Unit-test fixtures: in-process moto AWS, a provisioned archive, and a mocked Appstore API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import responses
from moto import mock_aws

from archiver.amazon import appstore
from archiver.run.startup import Clients
from archiver.storage import lease
from tests.unit.fake_appstore import CLIENT_ID, CLIENT_SECRET, REPORT_URL, TOKEN_URL, FakeAppstore

BUCKET = "team-archive"
SECRET = "appstore/reporting-api"
DATABASE = "appstore"
TABLE = "sales"


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and a region; no real AWS is ever reached."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    appstore._TOKEN_CACHE.clear()


@pytest.fixture
def provisioned() -> Iterator[tuple[Clients, dict[str, str]]]:
    """moto-backed clients with the archive provisioned from template.yaml, and the function's environment."""
    from infra.local.provision import provision

    with mock_aws():
        clients = Clients(boto3.client("s3"), boto3.client("glue"), boto3.client("secretsmanager"))
        env = provision(clients, bucket=BUCKET, database=DATABASE, table=TABLE, secret_name=SECRET, prefix="appstore/")
        clients.secrets.put_secret_value(SecretId=SECRET, SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}))
        yield clients, env


@pytest.fixture
def aws(provisioned: tuple[Clients, dict[str, str]]) -> Clients:
    """The moto-backed clients."""
    return provisioned[0]


@pytest.fixture
def env(provisioned: tuple[Clients, dict[str, str]]) -> dict[str, str]:
    """The function's environment as the template sets it, with the Appstore URLs pointed at the mock, archiving `sales` only."""
    return {**provisioned[1], "APPSTORE_TOKEN_URL": TOKEN_URL, "APPSTORE_REPORT_URL": REPORT_URL, "REPORTS": "sales"}


@pytest.fixture
def amazon() -> Iterator[FakeAppstore]:
    """The mocked Appstore API; unmatched HTTP requests fail the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeAppstore(mock)
        fake.install()
        yield fake


def keys(clients: Clients, prefix: str = "") -> list[str]:
    """Every key in the archive bucket under a prefix."""
    pages = clients.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def versions(clients: Clients) -> list[Any]:
    """Every object version in the archive bucket but the lease's (every run takes and releases it)."""
    return [v for v in clients.s3.list_object_versions(Bucket=BUCKET).get("Versions", []) if not v["Key"].endswith(lease.KEY)]
