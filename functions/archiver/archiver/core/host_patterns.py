"""DOWNLOAD_ALLOWED_HOSTS: host patterns parsed from the setting, and matched against a link's normalised host."""

from __future__ import annotations

import ipaddress
import re

_PATTERN_LABEL = re.compile(r"[a-z0-9_*-]+")


def parse_patterns(text: str) -> tuple[str, ...]:
    """Comma-separated host patterns, lower-cased without a trailing dot; ValueError names a bad one."""
    patterns = tuple(p.strip().lower().removesuffix(".") for p in text.split(",") if p.strip())
    for pattern in patterns:
        if not is_ip(pattern) and not all(_PATTERN_LABEL.fullmatch(label) for label in pattern.split(".")):
            raise ValueError(f"{pattern!r} is not a host pattern (DNS labels of a-z 0-9 _ - and *, or an IP address)")
    return patterns


def host_allowed(host: str, pattern: str) -> bool:
    """Whether a normalised host matches a pattern; `*` stands for part or all of one DNS label, never a dot."""
    if is_ip(pattern) or is_ip(host):
        return is_ip(pattern) and is_ip(host) and ipaddress.ip_address(pattern) == ipaddress.ip_address(host)
    labels, wanted = host.split("."), pattern.split(".")
    if len(labels) != len(wanted):
        return False
    return all(re.fullmatch("[a-z0-9_-]*".join(map(re.escape, w.split("*"))), label) for label, w in zip(labels, wanted, strict=True))


def is_ip(text: str) -> bool:
    """Whether the text is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
