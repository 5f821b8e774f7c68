"""The local stack's fixed names and region, and pointing boto3 at it (no boto3 import here: cheap for small tools)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

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


@dataclass
class FakeContext:
    """The parts of the Lambda context object the handler uses."""

    deadline: float  # time.monotonic() at the simulated Lambda timeout
    function_name: str = "appstore-archiver-local"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:appstore-archiver-local"
    aws_request_id: str = "local-invocation"

    @classmethod
    def budget(cls, seconds: float, name: str) -> FakeContext:
        """A context for function `appstore-archiver-<name>` that times out `seconds` from now."""
        function = f"appstore-archiver-{name}"
        arn = f"arn:aws:lambda:{REGION}:123456789012:function:{function}"
        return cls(time.monotonic() + seconds, function, invoked_function_arn=arn, aws_request_id=f"{name}-invocation")

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the simulated Lambda timeout."""
        return max(0, int((self.deadline - time.monotonic()) * 1000))
