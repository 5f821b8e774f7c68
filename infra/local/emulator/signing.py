"""S3-style query-string signing of the emulator's download links with a per-run HMAC key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import unquote, urlencode

ACCESS_KEY_ID = "AKIAEMULATOR00000000"


class UrlSigner:
    """Signs presigned download URLs and computes the signature a download must carry."""

    def __init__(self) -> None:
        """Draw a fresh signing key."""
        self._key = secrets.token_bytes(32)

    def signature(self, path: str, amz_date: str, expires: str, credential: str) -> str:
        """HMAC-SHA256 over the decoded path, date, expiry and credential with a per-run key."""
        message = "\n".join((unquote(path), amz_date, expires, credential)).encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def presign(self, base_url: str, path: str, issued: float, ttl: int) -> str:
        """The URL base_url + path with X-Amz-* query parameters, issued at `issued` and valid for `ttl` seconds."""
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(issued))
        credential = f"{ACCESS_KEY_ID}/{amz_date[:8]}/us-east-1/s3/aws4_request"
        query = [
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Expires", str(ttl)),
            ("X-Amz-Credential", credential),
            ("X-Amz-Signature", self.signature(path, amz_date, str(ttl), credential)),
        ]
        return f"{base_url}{path}?{urlencode(query)}"
