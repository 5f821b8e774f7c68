"""Which archive a command works on: a deployed stack (its outputs) or the local demo stack (its state file)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_athena import AthenaClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
else:
    AthenaClient = CloudFormationClient = CloudWatchClient = GlueClient = LambdaClient = CloudWatchLogsClient = S3Client = Any

LOCAL_CREDENTIALS: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # moto's fixed dummy ones
OUTPUTS = {
    "bucket": "ArchiveBucketName",
    "location": "ArchiveLocation",
    "database": "GlueDatabaseName",
    "table": "GlueTableName",
    "workgroup": "AthenaWorkGroupName",
    "function": "ArchiverFunctionName",
}


class TargetError(RuntimeError):
    """The stack or local stack cannot be found or read."""


@dataclass(frozen=True)
class Target:
    """The archive's names and where its AWS is; `stack` is None for the local stack."""

    label: str
    region: str
    bucket: str
    prefix: str
    database: str
    table: str
    workgroup: str | None = None
    function: str | None = None
    stack: str | None = None
    endpoint_url: str | None = None
    function_env: dict[str, str] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        """True for the local demo stack."""
        return self.stack is None

    def _client(self, service: str) -> Any:
        """A client of the target's Region; the local stack's endpoint and dummy credentials when local."""
        return _client(service, self.region, self.endpoint_url)

    def s3(self) -> S3Client:
        """An S3 client for the target."""
        return self._client("s3")  # type: ignore[no-any-return]

    def glue(self) -> GlueClient:
        """A Glue client for the target."""
        return self._client("glue")  # type: ignore[no-any-return]

    def lambda_(self) -> LambdaClient:
        """A Lambda client for the target."""
        return self._client("lambda")  # type: ignore[no-any-return]

    def logs(self) -> CloudWatchLogsClient:
        """A CloudWatch Logs client for the target."""
        return self._client("logs")  # type: ignore[no-any-return]

    def cloudwatch(self) -> CloudWatchClient:
        """A CloudWatch client for the target."""
        return self._client("cloudwatch")  # type: ignore[no-any-return]

    def athena(self) -> AthenaClient:
        """An Athena client for the target."""
        return self._client("athena")  # type: ignore[no-any-return]

    def environment(self) -> dict[str, str]:
        """The function's environment variables (the local state file's, or the deployed function's)."""
        if self.function_env or not self.function:
            return dict(self.function_env)
        config = self.lambda_().get_function_configuration(FunctionName=self.function)
        return dict(config.get("Environment", {}).get("Variables", {}))


@functools.cache
def _session(region: str, local: bool) -> boto3.session.Session:
    """One session per Region (its loaded service models are shared by its clients)."""
    return boto3.session.Session(region_name=region, **(LOCAL_CREDENTIALS if local else {}))


@functools.cache
def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    """One client per service, Region and endpoint for the process (boto3 clients are thread-safe)."""
    factory: Any = _session(region, endpoint_url is not None).client
    return factory(service, endpoint_url=endpoint_url)


def prefix_of(location: str, bucket: str) -> str:
    """The archive prefix in the `ArchiveLocation` output (`s3://bucket/{prefix}sales/`)."""
    parsed = urlparse(location)
    path = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or parsed.netloc != bucket or not path.endswith("sales/"):
        raise TargetError(f"output ArchiveLocation {location!r} is not s3://{bucket}/<prefix>sales/")
    return path[: -len("sales/")]


def from_stack(name: str, region: str | None) -> Target:
    """Read a deployed stack's outputs with CloudFormation."""
    session = boto3.session.Session(region_name=region)
    if not session.region_name:
        raise TargetError("no AWS Region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    client: CloudFormationClient = session.client("cloudformation")
    try:
        stacks = client.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        message = exc.response.get("Error", {}).get("Message", str(exc))
        raise TargetError(f"stack {name} in {session.region_name}: {message}") from None
    except BotoCoreError as exc:
        raise TargetError(f"stack {name} in {session.region_name}: {exc}") from None
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stacks[0].get("Outputs", [])}
    missing = sorted(key for key in OUTPUTS.values() if not outputs.get(key))
    if missing:
        raise TargetError(f"stack {name} has no output(s) {', '.join(missing)}: is it this application's stack?")
    values = {field_: outputs[key] for field_, key in OUTPUTS.items()}
    return Target(
        label=f"stack {name} ({session.region_name})",
        region=session.region_name,
        bucket=values["bucket"],
        prefix=prefix_of(values["location"], values["bucket"]),
        database=values["database"],
        table=values["table"],
        workgroup=values["workgroup"],
        function=values["function"],
        stack=name,
    )
