"""The function's configuration, read once from its environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from archiver.links import parse_patterns
from archiver.months import Month

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
        )
