"""Talk to the Appstore Reporting API: Login with Amazon token, then the report link."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from archiver.amazon.retry import MAX_RETRY_AFTER, RateLimiter, retrying_session
from archiver.core.deadline import NO_DEADLINE, Deadline
from archiver.core.months import Month
from archiver.core.periods import Period
from archiver.core.report_types import ReportType

__all__ = [
    "MAX_RETRY_AFTER",
    "AppstoreClient",
    "AppstoreError",
    "Credentials",
    "CredentialsError",
    "RateLimiter",
    "ReportUnsupported",
    "retrying_session",
]
TIMEOUT = (10.0, 60.0)  # connect, read (seconds)
TOKEN_MARGIN = 300.0  # refresh a cached token this long before it expires
# Report-link requests per second: under Amazon's ~3/s, so that latency jitter never lands a 4th request
# within one second of the 3rd-last one (each such 429 costs a Retry-After second).
REPORT_RATE = 2.8


class AppstoreError(RuntimeError):
    """The Appstore API refused or failed a request."""


class ReportUnsupported(AppstoreError):
    """The API refuses the report type as unknown (400 `Unable to fetch the request scope`, or 'not supported')."""


class CredentialsError(AppstoreError):
    """Login with Amazon refused the credentials or the scope; retrying cannot help."""


@dataclass(frozen=True)
class Credentials:
    """The security profile's client credentials; the secret never appears in repr."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass
class _Token:
    value: str = field(repr=False)
    expires_at: float


# Tokens are cached across warm invocations, keyed by endpoint, client and scope.
_TOKEN_CACHE: dict[tuple[str, str, str], _Token] = {}


class AppstoreClient:
    """Gets tokens and report links; the caller downloads the link."""

    def __init__(
        self,
        credentials: Credentials,
        token_url: str,
        report_url: str,
        scope: str,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.time,
        deadline: Deadline = NO_DEADLINE,
    ) -> None:
        self._credentials = credentials
        self._token_url, self._report_url, self._scope = token_url, report_url.rstrip("/"), scope
        self._deadline = deadline  # every request's timeout and retry wait ends within it
        self._session = session or retrying_session(deadline)
        self._limiter = limiter or RateLimiter(REPORT_RATE)
        self._clock = clock
        self._key = (token_url, credentials.client_id, scope)
        self._refused: str | None = None  # set once Login with Amazon refuses the credentials

    def token(self, refresh: bool = False) -> str:
        """A valid access token, from the warm cache unless stale or `refresh`."""
        if self._refused is not None:  # asking again with the same credentials cannot help
            raise CredentialsError(self._refused)
        cached = _TOKEN_CACHE.get(self._key)
        if cached and not refresh and cached.expires_at - TOKEN_MARGIN > self._clock():
            return cached.value
        form = {
            "grant_type": "client_credentials",
            "client_id": self._credentials.client_id,
            "client_secret": self._credentials.client_secret,
            "scope": self._scope,
        }
        timeout = self._deadline.timeout(*TIMEOUT, what="the token request")
        response = self._session.post(self._token_url, data=form, timeout=timeout, allow_redirects=False)
        if response.status_code != 200:
            error = _token_error(response)
            if isinstance(error, CredentialsError):
                self._refused = str(error)
            raise error
        try:
            body = response.json()
            token = _Token(str(body["access_token"]), self._clock() + float(body.get("expires_in", 3600)))
        except (ValueError, KeyError, TypeError):
            raise AppstoreError("token endpoint answered 200 without an access_token") from None
        _TOKEN_CACHE[self._key] = token
        return token.value

    def report_link(self, report: ReportType | str, month: Period) -> str | None:
        """The presigned download URL of a period's report, or None when there is no report."""
        if isinstance(report, ReportType):
            path, report = report.link_path(month), report.name
        else:
            path = f"{report}/{month.year}/{month.month}" if isinstance(month, Month) else f"{report}/{month.year}"
        url = f"{self._report_url}/{path}"
        for attempt in range(2):
            self._limiter.wait()
            headers = {"Authorization": f"Bearer {self.token(refresh=attempt > 0)}"}
            timeout = self._deadline.timeout(*TIMEOUT, what=f"the {report} {month} link request")
            response = self._session.get(url, headers=headers, timeout=timeout, allow_redirects=False)
            if response.status_code not in (401, 403):
                break
        else:
            raise AppstoreError(f"report endpoint refused a fresh token for {report} {month} (HTTP {response.status_code})")
        return _link_from(response, report, month)


def _token_error(response: requests.Response) -> AppstoreError:
    """Turn a token endpoint failure into an actionable error (never echoing the body)."""
    try:
        code = str(response.json().get("error", ""))
    except (ValueError, AttributeError):
        code = ""
    if code == "invalid_client" or response.status_code == 401:
        return CredentialsError(
            "Login with Amazon refused the client credentials (invalid_client): check client_id and client_secret in the secret"
        )
    if code == "invalid_scope":
        return CredentialsError(
            "Login with Amazon refused the scope (invalid_scope): attach the security profile to the Reporting API "
            "in the developer console, and check APPSTORE_SCOPE"
        )
    return AppstoreError(f"token endpoint failed with HTTP {response.status_code} {code}".rstrip())


def _link_from(response: requests.Response, report: str, month: Period) -> str | None:
    """Read the link from a 200 bare-URL or JSON body or a 3xx Location; None means no report."""
    status, text = response.status_code, response.text
    if status in (400, 404) and "report not found" in text.lower():
        return None
    unknown_scope = status == 400 and "unable to fetch the request scope" in text.lower()
    if 400 <= status < 500 and (unknown_scope or _says_unsupported(text)):
        raise ReportUnsupported(f"report endpoint does not know report type {report!r} (HTTP {status})")
    if status == 404:  # a 404 without "Report not found" is a wrong URL or an outage, never "no sales"
        raise AppstoreError(f"report endpoint answered HTTP 404 without 'Report not found' for {report} {month}: check APPSTORE_REPORT_URL")
    if 300 <= status < 400 and response.headers.get("Location"):
        return response.headers["Location"]
    if status != 200:
        raise AppstoreError(f"report endpoint failed for {report} {month} with HTTP {status}")
    body = text.strip().strip("\"'").strip()
    if body.startswith("{"):
        try:
            data = json.loads(body)
        except ValueError:
            raise AppstoreError("report endpoint answered malformed JSON") from None
        body = next((str(data[k]) for k in ("url", "downloadUrl", "link") if isinstance(data, dict) and k in data), "")
    if not body.startswith(("https://", "http://")):
        raise AppstoreError(f"report endpoint answered 200 without a download link for {report} {month}")
    return body


def _says_unsupported(text: str) -> bool:
    """Whether an error body says the report type is not supported."""
    lowered = " ".join(text.lower().split())
    return "not supported" in lowered or "unsupported" in lowered or "isn't supported" in lowered
