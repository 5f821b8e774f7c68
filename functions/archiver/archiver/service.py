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
from archiver.plan import ArchiveState, PlannedMonth, Request, parse_event, plan_months
from archiver.report import MonthResult, RunFailedError
from archiver.reports import ReportType
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


@dataclass(frozen=True)
class Part:
    """One report type's share of a run: its store, Glue table, state and plan."""

    report: ReportType
    store: ArchiveStore
    catalog: Catalog[tuple[str, ...]]
    partitions: dict[tuple[str, ...], str]
    state: ArchiveState
    planned: list[PlannedMonth]


def prepare_part(report: ReportType, settings: Settings, clients: Clients, request: Request, current: Month, now: datetime) -> Part:
    """Check the type's Glue table and read its state and plan (no write); raises what stops this type."""
    catalog = Catalog(clients.glue, settings.glue_database, report.table_name(settings.glue_table), report.partition_keys)
    catalog.descriptor()
    partitions = catalog.partitions()
    store = ArchiveStore(clients.s3, settings.bucket, settings.prefix, report, owner=settings.bucket_owner)
    state = store.state()
    planned = plan_months(request, state, current, settings.start_month, settings.lookback_months, now, report)
    return Part(report, store, catalog, partitions, state, planned)


def invoke(
    event: object,
    clients: Clients,
    time_left: Callable[[], float],
    env: Mapping[str, str],
    now: datetime | None = None,
    session: requests.Session | None = None,
    on_result: Callable[[MonthResult], None] = lambda result: None,
) -> list[MonthResult]:
    """Run one invocation, one report type after another (sales first), passing each result to `on_result` as it ends.

    Bad input raises before any write. A type whose set-up fails (its Glue table missing, say) is left out and the
    run raises at the end, after the other types ran; when no type can run, its error is raised at once.
    """
    settings = Settings.from_env(env)
    now = now or datetime.now(UTC)
    current = Month.of(now)
    if settings.start_month > current:
        raise ConfigError(f"START_MONTH {settings.start_month} is after the current UTC month {current}")
    request = parse_event(event, current)
    credentials = read_credentials(clients.secrets, settings.secret_id)
    parts: list[Part] = []
    broken: list[tuple[ReportType, Exception]] = []
    for report in settings.reports:
        try:
            parts.append(prepare_part(report, settings, clients, request, current, now))
        except Exception as exc:
            broken.append((report, exc))
    if not parts:
        raise broken[0][1]
    deadline = Deadline(time_left, SAFETY_MARGIN_SECONDS)  # refreshed each time the pipeline reads the time left
    appstore = AppstoreClient(credentials, settings.token_url, settings.report_url, settings.scope, session=session, deadline=deadline)
    appstore.token()  # refused credentials or a failing token endpoint stop the run here, before any month
    downloads = requests.Session()
    downloads.trust_env = False  # never pick up credentials or proxies for the download host
    results: list[MonthResult] = []
    for part in parts:
        pipeline = Pipeline(
            appstore,
            downloads,
            settings.allowed_hosts,
            part.store,
            part.catalog,
            part.state,
            part.partitions,
            max_bytes=settings.max_decompressed_bytes,
            deadline=deadline,
            now=now,
        )
        results += pipeline.run(part.planned, deadline.time_left, SAFETY_MARGIN_SECONDS, on_result)
    if broken:
        detail = "; ".join(f"{report.name}: {type(exc).__name__}: {exc}" for report, exc in broken)
        raise RunFailedError(f"{len(broken)} report type(s) could not run: {detail}") from broken[0][1]
    return results
