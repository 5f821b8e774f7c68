"""Link checks and the byte-exact streaming download."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
import requests
import responses
from requests.adapters import HTTPAdapter

from archiver.amazon.download import DownloadError, LinkExpired, LinkRefused, check_link, download, redact
from archiver.core.deadline import Deadline, OutOfTime

ALLOWED = ("*.s3.amazonaws.com", "127.0.0.1")  # `*` stands for one DNS label at most


@pytest.mark.parametrize(
    "url",
    [
        "https://appstore.s3.amazonaws.com/1/sales_2024_03.gz?X-Amz-Signature=abc",
        "http://127.0.0.1:8080/bucket/key?sig=1",
    ],
)
def test_allowed_links(url: str) -> None:
    check_link(url, ALLOWED)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://appstore.s3.amazonaws.com/a.gz", "must use https"),
        ("https://evil.example.com/a.gz", "not in DOWNLOAD_ALLOWED_HOSTS"),
        ("https://amazonaws.com.evil.example/a.gz", "not in DOWNLOAD_ALLOWED_HOSTS"),
        ("http://127.0.0.2/a.gz", "not in DOWNLOAD_ALLOWED_HOSTS"),
        ("ftp://x.s3.amazonaws.com/a.gz", "not an http"),
        ("file:///etc/passwd", "not an http"),
    ],
)
def test_refused_links(url: str, message: str) -> None:
    with pytest.raises(LinkRefused, match=message):
        check_link(url, ALLOWED)


def test_redact_drops_the_query() -> None:
    assert redact("https://h.s3.amazonaws.com/a/b.zip?X-Amz-Signature=secret") == "https://h.s3.amazonaws.com/a/b.zip"


URL = "https://vendor.s3.amazonaws.com/85923/sales/sales_2024_03.gz?X-Amz-Signature=s"


def test_download_keeps_bytes_as_served_even_with_content_encoding() -> None:
    body = b"\x1f\x8b" + bytes(range(256)) * 10
    with responses.RequestsMock() as mock:
        mock.get(URL, body=body, headers={"Content-Encoding": "gzip", "Content-Length": str(len(body))})
        target = io.BytesIO()
        result = download(requests.Session(), URL, ALLOWED, target)
        sent = mock.calls[0].request.headers
    assert target.getvalue() == body
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    assert result.size == len(body)
    assert result.name == "sales_2024_03.gz"
    assert "Authorization" not in sent


def test_content_disposition_names_the_file() -> None:
    with responses.RequestsMock() as mock:
        mock.get(URL, body=b"PK\x03\x04data", headers={"Content-Disposition": 'attachment; filename="sales_2024_03.zip"'})
        assert download(requests.Session(), URL, ALLOWED, io.BytesIO()).name == "sales_2024_03.zip"


def test_truncated_body_fails() -> None:
    with responses.RequestsMock() as mock:
        mock.get(URL, body=b"short", headers={"Content-Length": "100"}, auto_calculate_content_length=False)
        with pytest.raises(DownloadError):
            download(requests.Session(), URL, ALLOWED, io.BytesIO())


def test_expired_link_is_link_expired() -> None:
    with responses.RequestsMock() as mock:
        mock.get(URL, status=403, body=b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")
        with pytest.raises(LinkExpired):
            download(requests.Session(), URL, ALLOWED, io.BytesIO())


def test_redirect_to_a_disallowed_host_is_refused_without_a_request() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(URL, status=302, headers={"Location": "https://evil.example.com/steal"})
        evil = mock.get("https://evil.example.com/steal", body=b"x")
        with pytest.raises(LinkRefused):
            download(requests.Session(), URL, ALLOWED, io.BytesIO())
        assert evil.call_count == 0


def test_redirect_within_allowed_hosts_is_followed() -> None:
    with responses.RequestsMock() as mock:
        mock.get(URL, status=307, headers={"Location": "https://other.s3.amazonaws.com/sales_2024_03.zip"})
        mock.get("https://other.s3.amazonaws.com/sales_2024_03.zip", body=b"PK\x03\x04")
        assert download(requests.Session(), URL, ALLOWED, io.BytesIO()).name == "sales_2024_03.zip"


class Trickle:
    """A raw body that gives one chunk per read, each read taking `seconds` on a fake clock."""

    def __init__(self, clock: list[float], seconds: float, chunks: int) -> None:
        self.clock, self.seconds, self.left = clock, seconds, chunks

    def read1(self, amount: int, decode_content: bool | None = None) -> bytes:
        if self.left == 0:
            return b""
        self.clock[0] += self.seconds
        self.left -= 1
        return b"\x1f\x8b" + b"x" * 98

    def close(self) -> None:
        pass


class Serving(HTTPAdapter):
    """Answers every request with a 200 whose body trickles in; records the timeout of each send."""

    def __init__(self, body: Trickle) -> None:
        super().__init__()
        self.body, self.timeouts = body, []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.timeouts.append(kwargs.get("timeout"))
        response = requests.Response()
        response.status_code, response.raw, response.url, response.request = 200, self.body, str(request.url), request
        return response


def served(body: Trickle) -> tuple[requests.Session, Serving]:
    session, adapter = requests.Session(), Serving(body)
    session.mount("https://", adapter)
    return session, adapter


def test_the_download_stops_between_chunks_once_the_deadline_has_passed() -> None:
    clock = [0.0]
    budget = Deadline(lambda: 150.0, 120.0, clock=lambda: clock[0])  # 30 s for the month
    budget.time_left()
    session, adapter = served(Trickle(clock, seconds=4.0, chunks=100))  # 400 s if let run
    with pytest.raises(OutOfTime, match=r"the download from https://vendor\.s3\.amazonaws\.com/\S+ \(800 bytes so far\) ran out of time"):
        download(session, URL, ALLOWED, io.BytesIO(), budget)
    assert clock[0] == 32.0  # stopped at the first chunk past the deadline
    assert adapter.timeouts == [(10.0, 30.0)]  # read timeout no longer than the time left


def test_no_request_is_sent_when_no_time_is_left() -> None:
    clock = [0.0]
    budget = Deadline(lambda: 119.0, 120.0, clock=lambda: clock[0])
    budget.time_left()
    session, adapter = served(Trickle(clock, seconds=0.0, chunks=1))
    with pytest.raises(OutOfTime, match="no time left for the download"):
        download(session, URL, ALLOWED, io.BytesIO(), budget)
    assert adapter.timeouts == []


def test_a_download_within_the_deadline_is_whole() -> None:
    clock = [0.0]
    budget = Deadline(lambda: 900.0, 120.0, clock=lambda: clock[0])
    budget.time_left()
    session, _ = served(Trickle(clock, seconds=1.0, chunks=5))
    assert download(session, URL, ALLOWED, io.BytesIO(), budget).size == 500
