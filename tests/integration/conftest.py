"""Integration-test fixtures: a real moto server and the local stack (emulator + provisioned resources)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from infra.local.stack import LocalStack, MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Run `moto_server` on 127.0.0.1 for the session; yield its endpoint URL; stop it by PID."""
    server = MotoServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point boto3 at the moto server with dummy credentials for one test; return the endpoint."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_server


def _fresh_stack(moto_server: str, reports: str | None) -> Iterator[LocalStack]:
    """A freshly reset moto server, provisioned from template.yaml, with a running Appstore API emulator."""
    saved = dict(os.environ)
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    try:
        with LocalStack(moto_server, reports=reports) as local:
            yield local
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def stack(moto_server: str) -> Iterator[LocalStack]:
    """The local stack archiving `sales` only (REPORTS=sales): the sales tests count and assert every result of a run."""
    yield from _fresh_stack(moto_server, "sales")


@pytest.fixture
def every_report_stack(moto_server: str) -> Iterator[LocalStack]:
    """The local stack with the template's REPORTS: every report type."""
    yield from _fresh_stack(moto_server, None)
