"""The function's settings: LOOKBACK_MONTHS and DOWNLOAD_ALLOWED_HOSTS checks."""

from __future__ import annotations

import re

import pytest

from archiver.core.settings import ConfigError, Settings

REQUIRED = {"SECRET_ID": "s", "ARCHIVE_BUCKET": "b", "GLUE_DATABASE": "d", "GLUE_TABLE": "t"}


@pytest.mark.parametrize("value", ["0", "-1", "two", "", "1.5"])
def test_lookback_months_must_be_at_least_one(value: str) -> None:
    with pytest.raises(ConfigError, match=f"LOOKBACK_MONTHS must be a whole number >= 1, got {value!r}"):
        Settings.from_env({**REQUIRED, "LOOKBACK_MONTHS": value})


@pytest.mark.parametrize(("value", "months"), [("1", 1), ("2", 2), (" 24 ", 24)])
def test_lookback_months_of_one_or_more(value: str, months: int) -> None:
    assert Settings.from_env({**REQUIRED, "LOOKBACK_MONTHS": value}).lookback_months == months


@pytest.mark.parametrize("value", ["-1", "soon", "", "1.5"])
def test_lease_wait_must_be_whole_seconds(value: str) -> None:
    with pytest.raises(ConfigError, match=f"LEASE_WAIT_SECONDS must be a whole number of seconds, got {value!r}"):
        Settings.from_env({**REQUIRED, "LEASE_WAIT_SECONDS": value})


@pytest.mark.parametrize("value", ["900", "3600"])
def test_a_lease_wait_that_cannot_fit_a_lambda_run_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=f"LEASE_WAIT_SECONDS must be under 900 .* got {value!r}"):
        Settings.from_env({**REQUIRED, "LEASE_WAIT_SECONDS": value})
    assert Settings.from_env({**REQUIRED, "LEASE_WAIT_SECONDS": "899"}).lease_wait == 899.0


def test_lease_wait_defaults_to_a_minute_and_may_be_zero() -> None:
    assert (Settings.from_env(REQUIRED).lease_wait, Settings.from_env({**REQUIRED, "LEASE_WAIT_SECONDS": "0"}).lease_wait) == (60.0, 0.0)


def test_default_download_hosts_are_s3_endpoints_only() -> None:
    hosts = Settings.from_env(REQUIRED).allowed_hosts
    for host in hosts:
        assert host.endswith(".amazonaws.com") and any(label == "s3" or label.startswith("s3-") for label in host.split("."))
    assert "*.amazonaws.com" not in hosts


def test_a_malformed_host_pattern_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=re.escape("DOWNLOAD_ALLOWED_HOSTS: 'https://x.s3.amazonaws.com' is not a host pattern")):
        Settings.from_env({**REQUIRED, "DOWNLOAD_ALLOWED_HOSTS": "https://x.s3.amazonaws.com"})
