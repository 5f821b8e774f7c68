"""Decide whether a download link may be fetched: the host the HTTP client will connect to must be allowed."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

import idna
import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from archiver.core.host_patterns import host_allowed, is_ip

DEFAULT_PORTS = {"https": 443, "http": 80}
_LABEL = re.compile(r"[a-z0-9_-]+")
_REFUSED_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")  # control, format and space characters


class LinkRefused(RuntimeError):
    """The link points somewhere DOWNLOAD_ALLOWED_HOSTS does not allow; nothing was requested."""


def redact(url: str) -> str:
    """The URL as scheme://host[:port]/path: no user information, parameters, query or fragment (secrets never logged)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable link>"
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path.partition(';')[0]}"


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses."""
    return host == "localhost" or (is_ip(host) and ipaddress.ip_address(host).is_loopback)


def check_link(url: str, allowed_hosts: tuple[str, ...]) -> None:
    """Refuse a link unless every parser agrees on its scheme, host and port, and that host is allowed."""
    if any(c == "\\" or unicodedata.category(c) in _REFUSED_CATEGORIES for c in url):
        raise LinkRefused("download link holds a backslash, whitespace or a control character")
    try:
        prepared = requests.Request("GET", url).prepare().url or ""
        views = [view(u) for u in (url, prepared) for view in (_view_stdlib, _view_urllib3)]
    except (ValueError, LocationParseError, requests.RequestException, idna.IDNAError, UnicodeError):
        raise LinkRefused(f"download link is not a well-formed URL: {redact(url)}") from None
    if any(auth for _, auth in views):
        raise LinkRefused(f"download link carries user information ('@' before the host): {redact(url)}")
    if len({target for target, _ in views}) != 1:
        raise LinkRefused(f"download link is ambiguous (URL parsers disagree on scheme, host or port): {redact(url)}")
    scheme, host, port = views[0][0]
    if scheme not in DEFAULT_PORTS or not host:
        raise LinkRefused(f"download link is not an http(s) URL: {redact(url)}")
    if not is_ip(host) and not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise LinkRefused(f"download link has a malformed host: {redact(url)}")
    if scheme == "http" and not is_loopback(host):
        raise LinkRefused(f"download link must use https: {redact(url)}")
    if port != DEFAULT_PORTS[scheme] and not is_loopback(host):
        raise LinkRefused(f"download link names port {port}, allowed on loopback hosts only: {redact(url)}")
    if not any(host_allowed(host, pattern) for pattern in allowed_hosts):
        raise LinkRefused(f"download host {host!r} is not in DOWNLOAD_ALLOWED_HOSTS")


def _view_stdlib(url: str) -> tuple[tuple[str, str, int | None], bool]:
    """(scheme, normalised host, port) as the standard library reads them, and whether userinfo is present."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (scheme, normalise_host(parts.hostname or ""), parts.port or DEFAULT_PORTS.get(scheme)), "@" in parts.netloc


def _view_urllib3(url: str) -> tuple[tuple[str, str, int | None], bool]:
    """(scheme, normalised host, port) as urllib3 (the connection pool) reads them, and whether userinfo is present."""
    parts = parse_url(url)
    scheme = (parts.scheme or "").lower()
    return (scheme, normalise_host(parts.host or ""), parts.port or DEFAULT_PORTS.get(scheme)), parts.auth is not None


def normalise_host(host: str) -> str:
    """Lower case, no brackets or trailing dot, an IDN as punycode (as requests encodes it)."""
    host = host.strip("[]").lower().removesuffix(".")
    if not host.isascii():
        host = idna.encode(host, uts46=True).decode("ascii")
    return host
