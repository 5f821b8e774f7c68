"""Stream a presigned report link, byte for byte, into a local spool file."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urljoin, urlsplit

import requests

CHUNK = 1024 * 1024
MAX_REDIRECTS = 3
TIMEOUT = (10.0, 60.0)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_DISPOSITION = re.compile(r"""filename\*?=(?:UTF-8'')?["']?([^"';]+)""", re.IGNORECASE)


class DownloadError(RuntimeError):
    """The download failed or was cut short; a fresh link may succeed."""


class LinkExpired(DownloadError):
    """The download host refused the link (403): it has expired; ask for a new one."""


class LinkRefused(RuntimeError):
    """The link points somewhere DOWNLOAD_ALLOWED_HOSTS does not allow; nothing was requested."""


@dataclass(frozen=True)
class Downloaded:
    """A report file spooled locally, with the facts needed to archive it."""

    path: Path
    name: str
    size: int
    sha256: str


def redact(url: str) -> str:
    """The URL without its query string (presigned signatures must never be logged)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_link(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Refuse a link whose host is not allowed, or that is not https (except on loopback)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise LinkRefused(f"download link is not an http(s) URL: {redact(url)}")
    if parts.scheme == "http" and not _is_loopback(host):
        raise LinkRefused(f"download link must use https: {redact(url)}")
    if not any(fnmatchcase(host, pattern) for pattern in allowed_hosts):
        raise LinkRefused(f"download host {host!r} is not in DOWNLOAD_ALLOWED_HOSTS")


def file_name(url: str, response: requests.Response) -> str:
    """The file name as served: Content-Disposition, else the URL's last path segment."""
    match = _DISPOSITION.search(response.headers.get("Content-Disposition", ""))
    raw = unquote(match.group(1)) if match else unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    name = _SAFE_NAME.sub("_", raw.rsplit("/", 1)[-1]).strip("._")
    return name or "report"


def download(session: requests.Session, url: str, allowed_hosts: tuple[str, ...], target: BinaryIO) -> Downloaded:
    """Stream the link's bytes as served (no decoding, no Authorization) into `target`."""
    for _ in range(MAX_REDIRECTS + 1):
        check_link(url, allowed_hosts)
        try:
            response = session.get(url, stream=True, timeout=TIMEOUT, allow_redirects=False, headers={"Accept-Encoding": "identity"})
        except requests.RequestException as exc:
            raise DownloadError(f"download from {redact(url)} failed: {type(exc).__name__}") from None
        with response:
            if response.is_redirect and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code == 403:
                raise LinkExpired(f"download host refused the link (HTTP 403, expired?): {redact(url)}")
            if response.status_code != 200:
                raise DownloadError(f"download from {redact(url)} failed with HTTP {response.status_code}")
            return _spool(response, url, target)
    raise LinkRefused(f"download link redirected more than {MAX_REDIRECTS} times")


def _spool(response: requests.Response, url: str, target: BinaryIO) -> Downloaded:
    """Copy the raw body to `target`, hashing it and checking its length."""
    digest, size = hashlib.sha256(), 0
    try:
        while chunk := response.raw.read(CHUNK, decode_content=False):
            digest.update(chunk)
            target.write(chunk)
            size += len(chunk)
    except Exception as exc:  # urllib3 and socket errors alike: the body was cut short
        raise DownloadError(f"download from {redact(url)} broke off after {size} bytes: {type(exc).__name__}") from None
    expected = response.headers.get("Content-Length")
    if expected is not None and expected.isdigit() and int(expected) != size:
        raise DownloadError(f"download from {redact(url)} was truncated: {size} of {expected} bytes")
    if size == 0:
        raise DownloadError(f"download from {redact(url)} was empty")
    target.flush()
    return Downloaded(Path(getattr(target, "name", "")), file_name(url, response), size, digest.hexdigest())
