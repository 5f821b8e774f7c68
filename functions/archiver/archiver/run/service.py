"""Compose one invocation: settings, event, secret, plan, pipeline, results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
from aws_lambda_powertools import Logger

from archiver.amazon.appstore import AppstoreClient
from archiver.answers.history_upkeep import run_history
from archiver.answers.periods_upkeep import Recorder
from archiver.answers.typed_upkeep import TypedViewsError, keep_typed_views
from archiver.core.deadline import Deadline
from archiver.core.months import Month
from archiver.core.report_types import ReportType
from archiver.core.results import MonthResult, RunFailedError, failures
from archiver.core.settings import ConfigError, Settings
from archiver.run.parts import Part, mend, prepare_part, settle
from archiver.run.pipeline import Pipeline
from archiver.run.plan import Request, parse_event
from archiver.run.startup import Clients, read_credentials, require_versioning, selected
from archiver.storage.lease import MARGIN_SECONDS, Lease
from archiver.storage.lease_record import SYSTEM, Clock
from archiver.storage.transaction import Superseded

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
else:
    GlueClient = S3Client = SecretsManagerClient = Any

logger = Logger(child=True)
SAFETY_MARGIN_SECONDS = 120.0  # no new month is started with less Lambda time left than this


def invoke(
    event: object,
    clients: Clients,
    time_left: Callable[[], float],
    env: Mapping[str, str],
    now: datetime | None = None,
    session: requests.Session | None = None,
    on_result: Callable[[MonthResult], None] = lambda result: None,
    holder: str = "a run",
    clock: Clock = SYSTEM,
) -> list[MonthResult]:
    """Run one invocation, one report type after another (sales first), passing each result to `on_result` as it ends.

    Bad input raises before any write. The run then takes the archive's lease (lease.Busy when another run keeps it past
    LEASE_WAIT_SECONDS, or past the run's time left minus SAFETY_MARGIN_SECONDS if that is sooner), reads the state and
    writes only under it, renewing it before each month, and releases it at the end.
    Every type's pending transactions are settled before a Glue table, the secret or the token can stop the run; a repair
    event's pairs that hold a trusted raw object are then put right from it. A type whose set-up fails (its Glue table
    missing, say) is then left out and the run raises at the end, after the other types ran; when no type can run, its
    error is raised once they are settled.
    """
    settings = Settings.from_env(env)
    now = now or datetime.now(UTC)
    current = Month.of(now)
    if settings.start_month > current:
        raise ConfigError(f"START_MONTH {settings.start_month} is after the current UTC month {current}")
    request = parse_event(event, current)
    chosen = selected(settings.reports, request)
    require_versioning(clients.s3, settings)
    lease = Lease(clients.s3, settings.bucket, settings.prefix, holder, settings.bucket_owner, clock)
    left = time_left()
    wait = min(settings.lease_wait, max(0.0, left - SAFETY_MARGIN_SECONDS))  # a wait never runs into the Lambda timeout: busy instead
    lease.acquire(left + MARGIN_SECONDS, wait)  # longer than the run can live: a killed run's expires

    def renew() -> None:  # before each month: fencing, a lost lease stops the run before it writes again
        lease.renew(time_left() + MARGIN_SECONDS)

    try:
        return _run(settings, chosen, clients, request, current, now, time_left, session, on_result, renew)
    finally:
        try:
            lease.release()
        except Exception as exc:  # the run's outcome stands; the lease expires on its own
            logger.warning(f"the archive's lease could not be released (it expires on its own): {type(exc).__name__}: {exc}")


def _run(
    settings: Settings,
    chosen: tuple[ReportType, ...],
    clients: Clients,
    request: Request,
    current: Month,
    now: datetime,
    time_left: Callable[[], float],
    session: requests.Session | None,
    on_result: Callable[[MonthResult], None],
    guard: Callable[[], object],
) -> list[MonthResult]:
    """The run under the lease: state and plan, settling, then each type's months; `guard` renews the lease before each."""
    periods = Recorder(settings.start_month, current, time_left)  # each type's periods table, written as its share ends
    on_result = periods.watch(on_result)
    parts: list[Part] = []
    broken: list[tuple[ReportType, Exception]] = []
    for report in chosen:
        try:
            part = prepare_part(report, settings, clients.s3, clients.glue, request, current, now)
        except Exception as exc:
            broken.append((report, exc))
            continue
        parts.append(part)
        if part.broken is not None:
            broken.append((report, part.broken))
    # Transactions a killed or failed run left are settled first: nothing after this (a Glue table, the secret, the
    # token) may stop a run before a month past its commit point is made consistent again.
    results: list[MonthResult] = []
    ready: list[tuple[Part, Superseded]] = []
    for part in parts:
        part, settled, superseded = settle(part, settings.max_decompressed_bytes, on_result, guard)
        results += settled
        if part.broken is None:
            part, repaired = mend(part, superseded, settings.max_decompressed_bytes, time_left, SAFETY_MARGIN_SECONDS, on_result, guard)
            results += repaired  # a repair event's periods that hold a raw object: no request to Amazon
            ready.append((part, superseded))
    if not ready:
        raise broken[0][1]
    if request.repair is not None and not any(part.planned for part, _ in ready):  # nothing left to fetch: no secret, no token
        for part, _ in ready:
            periods.record(part.store)
        return ended(results, broken, [part for part, _ in ready], clients.glue, settings)
    credentials = read_credentials(clients.secrets, settings.secret_id)
    deadline = Deadline(time_left, SAFETY_MARGIN_SECONDS)  # refreshed each time the pipeline reads the time left
    appstore = AppstoreClient(credentials, settings.token_url, settings.report_url, settings.scope, session=session, deadline=deadline)
    appstore.token()  # refused credentials or a failing token endpoint stop the run here, before any month is fetched
    downloads = requests.Session()
    downloads.trust_env = False  # never pick up credentials or proxies for the download host
    for part, superseded in ready:
        pipeline = Pipeline(
            appstore,
            downloads,
            settings.allowed_hosts,
            part.store,
            part.partitions,
            part.state,
            max_bytes=settings.max_decompressed_bytes,
            superseded=superseded,
            deadline=deadline,
            now=now,
            guard=guard,
        )
        try:
            results += pipeline.run(part.planned, deadline.time_left, SAFETY_MARGIN_SECONDS, on_result)
        finally:
            periods.record(part.store)
    # Each raw version without its history copy (this run's fetches, then older ones) gets one, bounded per run.
    history = run_history(
        [p.store for p, _ in ready],
        clients.glue,
        settings.glue_database,
        settings.glue_table,
        deadline.time_left,
        SAFETY_MARGIN_SECONDS,
        settings.max_decompressed_bytes,
    )
    if history is not None and (failure := history.failure()) is not None:  # the months stand; the run raises at its end
        broken.append((next(p.store.report for p, _ in ready if p.store.report.curated == "csv"), failure))
    return ended(results, broken, [part for part, _ in ready], clients.glue, settings)


def ended(
    results: list[MonthResult], broken: list[tuple[ReportType, Exception]], ran: list[Part], glue: GlueClient, settings: Settings
) -> list[MonthResult]:
    """Bring the typed views of the types that ran up to date; the run's results, or RunFailedError naming each type that could not run."""
    for part in ran:
        try:  # a schema-free type's typed views take in the keys and values of what the run archived
            keep_typed_views(part.store, glue, settings.glue_database, settings.glue_table)
        except TypedViewsError as exc:
            broken.append((part.store.report, exc))
    if broken:  # the months' own failures first, as raise_if_failed would name them
        detail = "; ".join(f"{report.name}: {type(exc).__name__}: {exc}" for report, exc in broken)
        parts = [*failures(results), f"{len(broken)} report type(s) could not run: {detail}"]
        raise RunFailedError("; ".join(parts)) from broken[0][1]
    return results
