"""The local stack's fixed names and region, and pointing boto3 at it (no boto3 import here: cheap for small tools)."""

from __future__ import annotations

import os

BUCKET = "appstore-archive-local"
SECRET = "appstore-archiver/reporting-api"  # noqa: S105 - the secret's name, not a value
DATABASE = "appstore_local"
TABLE = "sales"
REGION = "us-east-1"
PREFIX = "appstore/"


def use_endpoint(endpoint: str) -> None:
    """Point every boto3 client of this process at the local AWS (standard resolution only), with moto's dummy credentials."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
