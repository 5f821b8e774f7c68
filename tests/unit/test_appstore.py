"""The Appstore API client: tokens, report links, errors and rate limiting."""

from __future__ import annotations

import pytest
import responses

from archiver.amazon.appstore import (
    MAX_RETRY_AFTER,
    AppstoreClient,
    AppstoreError,
    Credentials,
    CredentialsError,
    RateLimiter,
    retrying_session,
)
from archiver.core.months import Month
from tests.unit.fake_appstore import CLIENT_ID, CLIENT_SECRET, DOWNLOAD_HOST, REPORT_URL, SIGNATURE, TOKEN_URL, FakeAppstore

SCOPE = "adx_reporting::appstore:marketer"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(secret: str = CLIENT_SECRET, scope: str = SCOPE, clock: Clock | None = None) -> AppstoreClient:
    clock = clock or Clock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    return AppstoreClient(Credentials(CLIENT_ID, secret), TOKEN_URL, REPORT_URL, scope, limiter=limiter, clock=clock)


def test_credentials_repr_hides_the_secret() -> None:
    assert CLIENT_SECRET not in repr(Credentials(CLIENT_ID, CLIENT_SECRET))


def test_session_verifies_tls_and_ignores_the_environment() -> None:
    session = retrying_session()
    assert session.verify is True
    assert session.trust_env is False


def test_a_long_retry_after_is_capped() -> None:
    session = retrying_session()
    for scheme in ("https://", "http://"):
        retry = session.get_adapter(f"{scheme}api.amazon.example/").max_retries
        assert retry.respect_retry_after_header is True
        assert retry.parse_retry_after("86400") == MAX_RETRY_AFTER == 60  # a day-long Retry-After would outlast the Lambda timeout


def test_bare_url_link_and_token_reuse(amazon: FakeAppstore) -> None:
    amazon.files = {"2024-03": ("sales_2024_03.zip", b"PK"), "2024-04": ("sales_2024_04.zip", b"PK")}
    api = client()
    link = api.report_link("sales", Month(2024, 3))
    assert link == f"https://{DOWNLOAD_HOST}/85923/sales/sales_2024_03.zip?X-Amz-Expires=299&X-Amz-Signature={SIGNATURE}"
    assert api.report_link("sales", Month(2024, 4)) is not None
    assert amazon.calls["token"] == 1


def test_token_is_refreshed_before_it_expires(amazon: FakeAppstore) -> None:
    amazon.files = {"2024-03": ("sales_2024_03.zip", b"PK")}
    clock = Clock()
    api = client(clock=clock)
    api.report_link("sales", Month(2024, 3))
    clock.now += 3600 - 200
    api.report_link("sales", Month(2024, 3))
    assert amazon.calls["token"] == 2


def test_not_found_is_none_not_an_error(amazon: FakeAppstore) -> None:
    assert client().report_link("sales", Month(2019, 2)) is None


@pytest.mark.parametrize(
    ("status", "body"), [(400, "Report not found"), (404, "Report not found for sales/2024/3"), (404, "REPORT NOT FOUND")]
)
def test_report_not_found_on_400_or_404_is_none(status: int, body: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "Atc|x", "expires_in": 3600})
        mock.get(f"{REPORT_URL}/sales/2024/3", status=status, body=body)
        assert client().report_link("sales", Month(2024, 3)) is None


@pytest.mark.parametrize("body", ["", "Not Found", "<html><h1>404</h1></html>", '{"message": "no route"}'])
def test_any_other_404_is_an_error_not_a_missing_report(body: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "Atc|x", "expires_in": 3600})
        mock.get(f"{REPORT_URL}/sales/2024/3", status=404, body=body)
        with pytest.raises(AppstoreError, match="HTTP 404 without 'Report not found' for sales 2024-03"):
            client().report_link("sales", Month(2024, 3))


def test_one_token_refresh_on_401(amazon: FakeAppstore) -> None:
    amazon.files = {"2024-03": ("sales_2024_03.zip", b"PK")}
    amazon.report_faults = [401]
    assert client().report_link("sales", Month(2024, 3)) is not None
    assert amazon.calls["token"] == 2


def test_a_refused_fresh_token_fails(amazon: FakeAppstore) -> None:
    amazon.report_faults = [403, 403]
    with pytest.raises(AppstoreError, match="refused a fresh token"):
        client().report_link("sales", Month(2024, 3))
    assert amazon.calls["report"] == 2


def test_invalid_client_says_the_credentials_are_wrong(amazon: FakeAppstore) -> None:
    with pytest.raises(CredentialsError, match="client_id and client_secret") as caught:
        client(secret="wrong").token()
    assert "wrong" not in str(caught.value)
    assert amazon.calls["token"] == 1


def test_refused_credentials_are_not_asked_again_in_the_same_run(amazon: FakeAppstore) -> None:
    api = client(secret="wrong")
    for _ in range(3):
        with pytest.raises(CredentialsError, match="invalid_client"):
            api.report_link("sales", Month(2024, 3))
    assert amazon.calls["token"] == 1
    assert amazon.calls["report"] == 0


def test_invalid_scope_says_to_attach_the_profile(amazon: FakeAppstore) -> None:
    with pytest.raises(CredentialsError, match="attach the security profile to the Reporting API"):
        client(scope="appstore::apps:readwrite").token()


def test_unknown_report_type(amazon: FakeAppstore) -> None:
    with pytest.raises(AppstoreError, match="does not know report type 'bogus'"):
        client().report_link("bogus", Month(2024, 3))


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected"),
    [
        (200, '  "https://x.s3.amazonaws.com/a.zip?sig=1"\n', {}, "https://x.s3.amazonaws.com/a.zip?sig=1"),
        (200, '{"url": "https://x.s3.amazonaws.com/b.zip"}', {}, "https://x.s3.amazonaws.com/b.zip"),
        (302, "", {"Location": "https://x.s3.amazonaws.com/c.zip"}, "https://x.s3.amazonaws.com/c.zip"),
    ],
)
def test_link_body_forms(status: int, body: str, headers: dict[str, str], expected: str) -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "Atc|x", "expires_in": 3600})
        mock.get(f"{REPORT_URL}/sales/2024/3", status=status, body=body, headers=headers)
        assert client().report_link("sales", Month(2024, 3)) == expected


def test_a_200_without_a_link_is_an_error() -> None:
    with responses.RequestsMock() as mock:
        mock.post(TOKEN_URL, json={"access_token": "Atc|x", "expires_in": 3600})
        mock.get(f"{REPORT_URL}/sales/2024/3", body="<html>maintenance</html>")
        with pytest.raises(AppstoreError, match="without a download link"):
            client().report_link("sales", Month(2024, 3))


def test_rate_limiter_spaces_calls() -> None:
    clock = Clock()
    limiter = RateLimiter(3.0, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(7):
        limiter.wait()
    assert clock.now - start == pytest.approx(2.0)
