"""The function's configuration, read once from its environment variables."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from archiver.core.host_patterns import parse_patterns
from archiver.core.months import Month
from archiver.core.report_types import DEFAULT_REPORTS, REPORT_TYPES, ReportsError, ReportType, parse_reports

_ACCOUNT = re.compile(r"\d{12}")
LAMBDA_MAX_SECONDS = 900  # a Lambda function's longest timeout: a lease wait must fit in a run (the run also bounds it by its time left)

DEFAULTS: dict[str, str] = {
    "ARCHIVE_PREFIX": "appstore/",
    "START_MONTH": "2018-01",
    "LOOKBACK_MONTHS": "2",
    "APPSTORE_TOKEN_URL": "https://api.amazon.com/auth/o2/token",
    "APPSTORE_REPORT_URL": "https://developer.amazon.com/api/appstore/download/report",
    "APPSTORE_SCOPE": "adx_reporting::appstore:marketer",
    # S3 endpoints only (virtual-hosted and path style, global, regional, legacy s3-<region>, dualstack);
    # `*` stands for part or all of one DNS label, never a dot.
    "DOWNLOAD_ALLOWED_HOSTS": (
        "s3.amazonaws.com,*.s3.amazonaws.com,s3.*.amazonaws.com,*.s3.*.amazonaws.com,"
        "s3.dualstack.*.amazonaws.com,*.s3.dualstack.*.amazonaws.com,s3-*.amazonaws.com,*.s3-*.amazonaws.com"
    ),
    "REPORTS": DEFAULT_REPORTS,
    # Optional: the account that must own the archive bucket (sent as ExpectedBucketOwner on every S3 call).
    "ARCHIVE_BUCKET_OWNER": "",
    # Optional: the most bytes a report may decompress to; empty means the size of the spool filesystem (/tmp).
    "MAX_DECOMPRESSED_BYTES": "",
    # Optional: how long a run waits for another run's lease on the archive before it ends `busy` (under 900; a run waits
    # at most its time left minus its safety margin).
    "LEASE_WAIT_SECONDS": "60",
}
REQUIRED: tuple[str, ...] = ("SECRET_ID", "ARCHIVE_BUCKET", "GLUE_DATABASE", "GLUE_TABLE")
# Every variable of the function's environment contract (template tests compare against it).
CONTRACT: tuple[str, ...] = (*REQUIRED, *DEFAULTS)


class ConfigError(ValueError):
    """The function's environment is missing or has an invalid setting."""


@dataclass(frozen=True)
class Settings:
    """Validated settings of one deployment."""

    secret_id: str
    bucket: str
    prefix: str
    glue_database: str
    glue_table: str
    start_month: Month
    lookback_months: int
    token_url: str
    report_url: str
    scope: str
    allowed_hosts: tuple[str, ...]
    reports: tuple[ReportType, ...] = REPORT_TYPES
    bucket_owner: str | None = None
    max_decompressed_bytes: int | None = None
    lease_wait: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Read and validate the settings; the error names the variable at fault."""
        missing = [name for name in REQUIRED if not env.get(name, "").strip()]
        if missing:
            raise ConfigError(f"missing required environment variable(s): {', '.join(missing)}")

        def get(name: str) -> str:
            return env.get(name, DEFAULTS[name]).strip()

        prefix = get("ARCHIVE_PREFIX").lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        try:
            start = Month.parse(get("START_MONTH"))
        except ValueError as exc:
            raise ConfigError(f"START_MONTH: {exc}") from None
        lookback = get("LOOKBACK_MONTHS")
        if not lookback.isdigit() or int(lookback) < 1:  # 0 would never re-fetch last month's restatements
            raise ConfigError(f"LOOKBACK_MONTHS must be a whole number >= 1, got {lookback!r}")
        try:
            hosts = parse_patterns(get("DOWNLOAD_ALLOWED_HOSTS"))
        except ValueError as exc:
            raise ConfigError(f"DOWNLOAD_ALLOWED_HOSTS: {exc}") from None
        if not hosts:
            raise ConfigError("DOWNLOAD_ALLOWED_HOSTS must name at least one host pattern")
        try:
            reports = parse_reports(get("REPORTS"))
        except ReportsError as exc:
            raise ConfigError(str(exc)) from None
        owner = get("ARCHIVE_BUCKET_OWNER")
        if owner and not _ACCOUNT.fullmatch(owner):
            raise ConfigError(f"ARCHIVE_BUCKET_OWNER must be a 12-digit AWS account id, got {owner!r}")
        cap = get("MAX_DECOMPRESSED_BYTES")
        if cap and not cap.isdigit():
            raise ConfigError(f"MAX_DECOMPRESSED_BYTES must be a whole number of bytes, got {cap!r}")
        wait = get("LEASE_WAIT_SECONDS")
        if not wait.isdigit():
            raise ConfigError(f"LEASE_WAIT_SECONDS must be a whole number of seconds, got {wait!r}")
        if int(wait) >= LAMBDA_MAX_SECONDS:
            raise ConfigError(f"LEASE_WAIT_SECONDS must be under {LAMBDA_MAX_SECONDS} (a Lambda run's longest), got {wait!r}")
        return cls(
            secret_id=env["SECRET_ID"].strip(),
            bucket=env["ARCHIVE_BUCKET"].strip(),
            prefix=prefix,
            glue_database=env["GLUE_DATABASE"].strip(),
            glue_table=env["GLUE_TABLE"].strip(),
            start_month=start,
            lookback_months=int(lookback),
            token_url=get("APPSTORE_TOKEN_URL"),
            report_url=get("APPSTORE_REPORT_URL").rstrip("/"),
            scope=get("APPSTORE_SCOPE"),
            allowed_hosts=hosts,
            reports=reports,
            bucket_owner=owner or None,
            max_decompressed_bytes=int(cap) if cap else spool_size(),
            lease_wait=float(wait),
        )


def spool_size() -> int:
    """The size of the filesystem reports are spooled to (Lambda: the function's ephemeral storage)."""
    return shutil.disk_usage(tempfile.gettempdir()).total
