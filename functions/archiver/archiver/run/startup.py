"""What a run needs before it touches the archive: its AWS clients, the API credentials, a versioned bucket, its report types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from archiver.amazon.appstore import Credentials
from archiver.core.report_types import ReportType
from archiver.core.settings import ConfigError, Settings
from archiver.run.plan import InvalidEvent, Request

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
else:
    GlueClient = S3Client = SecretsManagerClient = Any

SECRET_MAX_AGE = 300


@dataclass(frozen=True)
class Clients:
    """The AWS clients a run uses (boto3's standard endpoint resolution applies)."""

    s3: S3Client
    glue: GlueClient
    secrets: SecretsManagerClient


def read_credentials(secrets: SecretsManagerClient, secret_id: str) -> Credentials:
    """Read the client credentials; errors name the secret or key, never a value."""
    provider = SecretsProvider(boto3_client=secrets)
    try:
        value = provider.get(secret_id, transform="json", max_age=SECRET_MAX_AGE)
    except TransformParameterError:
        raise ConfigError(f"secret {secret_id} is not a JSON object") from None
    except GetParameterError as exc:
        raise ConfigError(f"secret {secret_id} could not be read: {exc}") from None
    if not isinstance(value, dict):
        raise ConfigError(f"secret {secret_id} is not a JSON object")
    for key in ("client_id", "client_secret"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise ConfigError(f"secret {secret_id} has no {key!r} (a non-empty string)")
    return Credentials(value["client_id"].strip(), value["client_secret"].strip())


def require_versioning(s3: S3Client, settings: Settings) -> None:
    """Refuse a bucket without versioning (one call a run): a failed month is restored by deleting the run's own versions."""
    owner = {"ExpectedBucketOwner": settings.bucket_owner} if settings.bucket_owner else {}
    if (status := s3.get_bucket_versioning(Bucket=settings.bucket, **owner).get("Status")) != "Enabled":
        raise ConfigError(f"archive bucket {settings.bucket} does not have versioning enabled ({status or 'never enabled'}): enable it")


def selected(reports: tuple[ReportType, ...], request: Request) -> tuple[ReportType, ...]:
    """The report types the run archives: REPORTS, or those of them the event names (a type not in REPORTS is refused)."""
    if request.reports is None:
        return reports
    if missing := [name for name in request.reports if name not in {r.name for r in reports}]:
        raise InvalidEvent(f"reports: {missing} not among the function's REPORTS {[r.name for r in reports]}")
    return tuple(r for r in reports if r.name in request.reports)
