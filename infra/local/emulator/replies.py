"""HTTP replies of the emulator: the Reply value and text, JSON, OAuth and S3-style error constructors."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape


@dataclass
class Reply:
    """An HTTP response: status, headers, and a body given as bytes or as chunks with a length."""

    status: int
    body: bytes | Iterator[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    length: int = 0
    truncate: bool = False


def text_reply(status: int, text: str, **headers: str) -> Reply:
    """A text/plain reply."""
    return Reply(status, text.encode(), {"Content-Type": "text/plain;charset=UTF-8", **headers})


def json_reply(status: int, payload: Any, **headers: str) -> Reply:
    """A JSON reply."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Reply(status, body, {"Content-Type": "application/json;charset=UTF-8", **headers})


def oauth_error(status: int, error: str, description: str) -> Reply:
    """An RFC 6749 error reply."""
    return json_reply(status, {"error": error, "error_description": description}, **{"Cache-Control": "no-store"})


def s3_error(status: int, code: str, message: str, **extra: str) -> Reply:
    """An S3-style XML error reply."""
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in {"Code": code, "Message": message, **extra}.items())
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{fields}<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>'
    return Reply(status, xml.encode(), {"Content-Type": "application/xml"})
