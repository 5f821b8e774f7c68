"""Compose one invocation: settings, event, secret, plan, pipeline, results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from archiver.appstore import AppstoreClient, Credentials
from archiver.catalog import Catalog
from archiver.deadline import Deadline
from archiver.months import Month
from archiver.pipeline import Pipeline
from archiver.plan import parse_event, plan_months
from archiver.report import MonthResult
from archiver.settings import ConfigError, Settings
from archiver.store import ArchiveStore

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
else:
    GlueClient = S3Client = SecretsManagerClient = Any

SAFETY_MARGIN_SECONDS = 120.0  # no new month is started with less Lambda time left than this
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


def invoke(
    event: object,
    clients: Clients,
    time_left: Callable[[], float],
    env: Mapping[str, str],
    now: datetime | None = None,
    session: requests.Session | None = None,
    on_result: Callable[[MonthResult], None] = lambda result: None,
) -> list[MonthResult]:
    """Run one invocation, passing each month's result to `on_result` as it ends; bad input raises before any write."""
    settings = Settings.from_env(env)
    now = now or datetime.now(UTC)
    current = Month.of(now)
    if settings.start_month > current:
        raise ConfigError(f"START_MONTH {settings.start_month} is after the current UTC month {current}")
    request = parse_event(event, current)
    credentials = read_credentials(clients.secrets, settings.secret_id)
    catalog = Catalog(clients.glue, settings.glue_database, settings.glue_table)
    catalog.descriptor()
    partitions = catalog.partitions()
    store = ArchiveStore(clients.s3, settings.bucket, settings.prefix, owner=settings.bucket_owner)
    if (versioning := store.versioning()) != "Enabled":  # a failed month is restored by deleting our own versions
        status = versioning or "never enabled"
        raise ConfigError(f"archive bucket {settings.bucket} does not have versioning enabled ({status}): enable it on the bucket")
    state = store.state()
    planned = plan_months(request, state, current, settings.start_month, settings.lookback_months, now)
    deadline = Deadline(time_left, SAFETY_MARGIN_SECONDS)  # refreshed each time the pipeline reads the time left
    appstore = AppstoreClient(credentials, settings.token_url, settings.report_url, settings.scope, session=session, deadline=deadline)
    appstore.token()  # refused credentials or a failing token endpoint stop the run here, before any month
    downloads = requests.Session()
    downloads.trust_env = False  # never pick up credentials or proxies for the download host
    pipeline = Pipeline(
        appstore, downloads, settings.allowed_hosts, store, catalog, state, partitions, settings.max_decompressed_bytes, deadline=deadline
    )
    return pipeline.run(planned, deadline.time_left, SAFETY_MARGIN_SECONDS, on_result)
