"""Lambda entry point: archive Appstore reports of every selected type (scheduled daily, or on demand)."""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from archiver.core.results import MonthResult, payload, raise_if_failed
from archiver.run.metrics import add_month_metrics, add_report_dimension, add_run_metrics, add_zero_metrics, log_month
from archiver.run.service import invoke
from archiver.run.startup import Clients
from archiver.storage.lease import Busy

logger = Logger()
metrics = Metrics()
# At DEBUG these libraries log response bodies and full URLs (the secret value, presigned
# signatures), so they stay at INFO even when the runtime's log level is DEBUG.
for _library in ("botocore", "boto3", "s3transfer", "urllib3"):
    logging.getLogger(_library).setLevel(logging.INFO)


# Standard retry mode, 3 attempts (AWS_MAX_ATTEMPTS overrides): transient 500s, SlowDown and dropped connections are
# retried with backoff. The month transaction copes with a retried write that had in fact committed.
def retries() -> Config:
    """A new client config each time: botocore writes the resolved attempt count into the Config it is given."""
    return Config(retries={"mode": "standard"})


@functools.cache
def clients() -> Clients:
    """AWS clients, created once per execution environment."""
    return Clients(
        boto3.client("s3", config=retries()), boto3.client("glue", config=retries()), boto3.client("secretsmanager", config=retries())
    )


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Archive the planned months; raise naming failed months so the run counts as an error."""
    finished: list[MonthResult] = []

    def on_result(result: MonthResult) -> None:
        """Log, count and flush each month as soon as it ends, so a run killed later (even at its timeout) keeps them."""
        finished.append(result)
        log_month(logger, result)
        add_month_metrics(metrics, result)
        add_report_dimension(metrics, result)  # the same data points also count per report type
        metrics.flush_metrics()  # never empty here: the month's status metric was just added
        sys.stdout.flush()  # the EMF line is a print: out now even where stdout is a buffered pipe, not only in Lambda's runtime

    holder = f"{context.function_name} request {context.aws_request_id}"
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:  # run --local, verify --repair, a test: name the host and process too
        holder += f" on {socket.gethostname()}:{os.getpid()}"

    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000

    try:
        results = invoke(event, clients(), time_left, os.environ, on_result=on_result, holder=holder)
    except Busy as busy:  # another run writes the archive: not a failure, no RunSucceeded either (staleness still counts)
        logger.warning(f"run busy: the archive's lease is held by {busy.holder} until {busy.expires}; nothing was written")
        metrics.add_metric(name="RunBusy", unit=MetricUnit.Count, value=1)
        return {"status": "busy", "holder": busy.holder, "expires": busy.expires, "results": []}
    except Exception:
        logger.exception(f"run failed after {len(finished)} month(s)" if finished else "run failed before archiving any month")
        if finished:  # it reached its months (a type's typed views or history failed at the end, say): their zeros as usual
            add_zero_metrics(metrics)
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=1)
        raise
    add_run_metrics(metrics, results)
    raise_if_failed(results)
    return payload(results)
