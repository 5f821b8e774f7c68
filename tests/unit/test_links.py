"""Download links: the host checked is the host the HTTP client connects to; hostile links never reach the network."""

from __future__ import annotations

import io
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from archiver.amazon.download import DownloadError, LinkRefused, download
from archiver.amazon.links import check_link, redact
from archiver.core.host_patterns import host_allowed, parse_patterns
from archiver.core.settings import DEFAULTS

S3 = parse_patterns(DEFAULTS["DOWNLOAD_ALLOWED_HOSTS"])
ALLOWED = (*S3, "127.0.0.1", "localhost")
GOOD = "https://vendor.s3.amazonaws.com/85923/sales_2024_03.zip?X-Amz-Signature=s"

HOSTILE = [
    "https://attacker.example\\@bucket.s3.amazonaws.com/x.zip?sig",  # requests connects to attacker.example
    "https://attacker.example\\.s3.amazonaws.com/x.zip",
    "https://bucket.s3.amazonaws.com\\@attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com@attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com:443@attacker.example/x.zip",
    "https://user:password@bucket.s3.amazonaws.com/x.zip",  # userinfo, even towards an allowed host
    "https://@bucket.s3.amazonaws.com/x.zip",
    "https://[::1]@attacker.example/x.zip",
    "https://s3.amazonaws.com.attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com.attacker.example/x.zip",
    "https://evil.s3.attacker.com.amazonaws.com/x.zip",  # `*` never spans a dot
    "https://ec2-203-0-113-7.compute-1.amazonaws.com/x.zip",  # anyone's EC2 host: allowed by the old *.amazonaws.com
    "https://abc123.execute-api.us-east-1.amazonaws.com/x.zip",
    "https://bucket.s3.amazonaws.com:8443/x.zip",  # a non-default port off loopback
    "https://bucket.s3.amazonaws.com:99999/x.zip",
    "https://bucket.s3.amazonaws.com:+443/x.zip",
    "https://bucket.s3.amazonaws.com:443:443/x.zip",
    "http://bucket.s3.amazonaws.com/x.zip",
    "https://bucket.s3.amazonaws.com /x.zip",
    "https://bucket.s3.amazonaws.com\t.attacker.example/x.zip",  # the standard library silently drops tabs
    "https://bucket.s3.amazonaws.com\n.attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com\x00.attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com\u00a0/x.zip",
    "https://bucket.s3.amazonaws.com\u200b.attacker.example/x.zip",
    "https://bucket%2es3.amazonaws.com/x.zip",  # urllib3 decodes %2e, the standard library does not
    "https://bucket.s3.amazonaws.com%2f@attacker.example/x.zip",
    "https://bucket.s3.amazonaws.com\u3002attacker.example/x.zip",  # ideographic full stop
    "https://bucket.s3.\u0430mazonaws.com/x.zip",  # Cyrillic a: punycode, not amazonaws
    "https://bucket.s3.amazonaws.com../x.zip",
    "https://attacker.example#@bucket.s3.amazonaws.com/x.zip",
    "https://attacker.example?.s3.amazonaws.com/x.zip",
    "https://attacker.example/.s3.amazonaws.com",
    "https://[bucket.s3.amazonaws.com]/x.zip",
    "//bucket.s3.amazonaws.com/x.zip",
    "https:///bucket.s3.amazonaws.com/x.zip",
    "https:bucket.s3.amazonaws.com/x.zip",
    "ftp://bucket.s3.amazonaws.com/x.zip",
    "file:///etc/passwd",
    "http://127.0.0.2/x.zip",  # loopback, but not listed
    "http://2130706433/x.zip",  # 127.0.0.1 as a number: not the listed address
    "http://127.0.0.1.attacker.example/x.zip",
    "https://bucket.s3-website-us-east-1.amazonaws.com:80/x.zip",
]


class Recorder(HTTPAdapter):
    """Records every request the session sends, answering with `replies` by URL (a redirect) or 599."""

    def __init__(self, replies: dict[str, str] | None = None) -> None:
        super().__init__()
        self.sent: list[str] = []
        self.replies = replies or {}

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.sent.append(str(request.url))
        response = requests.Response()
        response.status_code, response.raw, response.url, response.request = 599, io.BytesIO(b""), str(request.url), request
        if str(request.url) in self.replies:
            # As on the wire: http.client decodes header bytes as Latin-1.
            response.status_code, response.headers["Location"] = 302, self.replies[str(request.url)].encode().decode("latin-1")
        return response


def recording_session(replies: dict[str, str] | None = None) -> tuple[requests.Session, Recorder]:
    session, adapter = requests.Session(), Recorder(replies)
    session.trust_env = False
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session, adapter


def test_the_table_has_enough_hostile_links() -> None:
    assert len(HOSTILE) >= 25 and len(set(HOSTILE)) == len(HOSTILE)


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_link_is_refused_without_any_connection(url: str) -> None:
    session, adapter = recording_session()
    with pytest.raises(LinkRefused):
        download(session, url, ALLOWED, io.BytesIO())
    assert adapter.sent == []


# As a Location these resolve against the allowed first hop (e.g. `//host/x` keeps its https): not hostile there.
RELATIVE = {"//bucket.s3.amazonaws.com/x.zip", "https:///bucket.s3.amazonaws.com/x.zip", "https:bucket.s3.amazonaws.com/x.zip"}


@pytest.mark.parametrize("location", [url for url in HOSTILE if url not in RELATIVE])
def test_a_hostile_redirect_location_is_refused_without_following_it(location: str) -> None:
    session, adapter = recording_session({GOOD: location})
    with pytest.raises((LinkRefused, DownloadError)):  # DownloadError: a Location requests itself cannot parse
        download(session, GOOD, ALLOWED, io.BytesIO())
    assert adapter.sent == [GOOD]  # only the allowed first hop was requested


@pytest.mark.parametrize(
    "url",
    [
        GOOD,
        "https://s3.amazonaws.com/vendor/sales_2024_03.zip?X-Amz-Signature=s",
        "https://vendor.s3.us-west-2.amazonaws.com/sales.zip",
        "https://s3.eu-central-1.amazonaws.com/vendor/sales.zip",
        "https://vendor.s3.dualstack.us-east-1.amazonaws.com/sales.zip",
        "https://s3.dualstack.ap-south-1.amazonaws.com/vendor/sales.zip",
        "https://vendor.s3-us-west-2.amazonaws.com/sales.zip",
        "https://s3-external-1.amazonaws.com/vendor/sales.zip",
        "https://VENDOR.S3.AMAZONAWS.COM./sales.zip",  # case and a trailing dot do not matter
        "https://vendor.s3.amazonaws.com:443/sales.zip",
        "http://127.0.0.1:8080/bucket/key?sig=1",
        "http://localhost:5000/bucket/key",
    ],
)
def test_s3_and_loopback_links_are_allowed(url: str) -> None:
    check_link(url, ALLOWED)


@pytest.mark.parametrize(
    ("host", "pattern", "allowed"),
    [
        ("bucket.s3.us-east-1.amazonaws.com", "*.s3.*.amazonaws.com", True),
        ("evil.s3.attacker.com.amazonaws.com", "*.s3.*.amazonaws.com", False),
        ("a.b.s3.amazonaws.com", "*.s3.amazonaws.com", False),
        ("s3-us-west-2.amazonaws.com", "s3-*.amazonaws.com", True),
        ("s3-x.evil.amazonaws.com", "s3-*.amazonaws.com", False),
        ("s3.amazonaws.com.attacker.example", "s3.amazonaws.com", False),
        ("xs3.amazonaws.com", "s3.amazonaws.com", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("::1", "127.0.0.1", False),
        ("b1.s3.amazonaws.com", "b[1].s3.amazonaws.com", False),  # no fnmatch classes: brackets are literal
        ("b1.s3.amazonaws.com", "b?.s3.amazonaws.com", False),
    ],
)
def test_star_matches_within_one_label_only(host: str, pattern: str, allowed: bool) -> None:
    assert host_allowed(host, pattern) is allowed


@pytest.mark.parametrize("patterns", ["*.amazonaws.com/x", "bucket.s3..amazonaws.com", "[a-z].s3.amazonaws.com", "s3.amazonaws.com:443"])
def test_malformed_patterns_are_refused(patterns: str) -> None:
    with pytest.raises(ValueError, match="is not a host pattern"):
        parse_patterns(patterns)


def test_patterns_are_lower_cased_without_a_trailing_dot() -> None:
    assert parse_patterns(" S3.AmazonAWS.com. , 127.0.0.1 ,") == ("s3.amazonaws.com", "127.0.0.1")


@pytest.mark.parametrize(
    "url",
    [
        "https://user:hunter2@bucket.s3.amazonaws.com/x.zip?X-Amz-Signature=hunter2#hunter2",
        "https://hunter2@bucket.s3.amazonaws.com/x.zip",
        "https://bucket.s3.amazonaws.com:443@attacker.example/x.zip;X-Amz-Signature=hunter2",
    ],
)
def test_a_refused_link_is_named_without_user_information_query_or_parameters(url: str) -> None:
    with pytest.raises(LinkRefused) as caught:
        check_link(url, ALLOWED)
    assert "hunter2" not in str(caught.value) and "user:" not in str(caught.value)
    assert "hunter2" not in redact(url) and "@" not in redact(url)
    assert redact("https://user:pw@Bucket.s3.amazonaws.com:8443/a/b.zip;p=1?q=1#f") == "https://Bucket.s3.amazonaws.com:8443/a/b.zip"
