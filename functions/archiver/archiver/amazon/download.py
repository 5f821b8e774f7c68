"""Stream a presigned report link, byte for byte, into a local spool file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

import requests

from archiver.amazon.links import LinkRefused, check_link, redact
from archiver.core.deadline import NO_DEADLINE, Deadline, OutOfTime

__all__ = ["DownloadError", "Downloaded", "LinkExpired", "LinkRefused", "check_link", "download", "redact"]
CHUNK = 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (10.0, 60.0)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DISPOSITION = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


class DownloadError(RuntimeError):
    """The download failed or was cut short; a fresh link may succeed."""


class LinkExpired(DownloadError):
    """The download host refused the link (403): it has expired; ask for a new one."""


@dataclass(frozen=True)
class Downloaded:
    """A report file spooled locally, with the facts needed to archive it."""

    path: Path
    name: str
    size: int
    sha256: str


def file_name(url: str, response: requests.Response) -> str:
    """The file name as served: Content-Disposition, else the URL's last path segment."""
    match = _DISPOSITION.search(response.headers.get("Content-Disposition", ""))
    raw = unquote(match.group(1)) if match else unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = _SAFE_NAME.sub("_", raw.rsplit("/", 1)[-1]).strip("._")
    return name or "report"


def download(
    session: requests.Session, url: str, allowed_hosts: tuple[str, ...], target: BinaryIO, deadline: Deadline = NO_DEADLINE
) -> Downloaded:
    """Stream the link's bytes as served (no decoding, no Authorization) into `target`, within the deadline."""
    for _ in range(MAX_REDIRECTS + 1):
        check_link(url, allowed_hosts)
        timeout = deadline.timeout(*TIMEOUT, what=f"the download from {redact(url)}")
        try:
            response = session.get(url, stream=True, timeout=timeout, allow_redirects=False, headers={"Accept-Encoding": "identity"})
        except (requests.RequestException, ValueError) as exc:  # ValueError: requests could not parse a Location
            raise DownloadError(f"download from {redact(url)} failed: {type(exc).__name__}") from None
        with response:
            if response.is_redirect and response.headers.get("Location"):
                url = _follow(url, response.headers["Location"])
                continue
            if response.status_code == 403:
                raise LinkExpired(f"download host refused the link (HTTP 403, expired?): {redact(url)}")
            if response.status_code != 200:
                raise DownloadError(f"download from {redact(url)} failed with HTTP {response.status_code}")
            return _spool(response, url, target, deadline)
    raise LinkRefused(f"download link redirected more than {MAX_REDIRECTS} times")


def _follow(url: str, location: str) -> str:
    """The redirect target, resolved against the current link; check_link judges it before any request."""
    try:
        return urljoin(url, location)
    except ValueError:
        raise LinkRefused(f"download link redirected to a malformed Location from {redact(url)}") from None


def _spool(response: requests.Response, url: str, target: BinaryIO, deadline: Deadline) -> Downloaded:
    """Copy the raw body to `target`, hashing it and checking its length and the deadline between chunks."""
    digest, size = hashlib.sha256(), 0
    try:
        # read1 returns what one socket read gives, so no chunk waits on the socket longer than the read timeout.
        while chunk := response.raw.read1(CHUNK, decode_content=False):
            deadline.check(0.0, f"the download from {redact(url)} ({size + len(chunk)} bytes so far)")
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    except OutOfTime:
        raise
    except Exception as exc:  # urllib3 and socket errors alike: the body was cut short
        raise DownloadError(f"download from {redact(url)} broke off after {size} bytes: {type(exc).__name__}") from None
    expected = response.headers.get("Content-Length")
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise DownloadError(f"download from {redact(url)} was truncated: {size} of {expected} bytes")
    if size == 0:
        raise DownloadError(f"download from {redact(url)} was empty")
    target.flush()
    return Downloaded(Path(getattr(target, "name", "")), file_name(url, response), size, digest.hexdigest())
