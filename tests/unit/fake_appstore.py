"""A mocked Appstore Reporting API (token, report link, presigned download) on `responses`."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import requests
import responses

TOKEN_URL = "https://api.amazon.example/auth/o2/token"
REPORT_URL = "https://developer.amazon.example/api/appstore/download/report"
DOWNLOAD_HOST = "vendor-reports.s3.amazonaws.com"
CLIENT_ID = "amzn1.application-oa2-client.unit"
CLIENT_SECRET = "unit-secret-value-0123456789"
SIGNATURE = "deadbeefcafe0123456789signature"


@dataclass
class FakeAppstore:
    """Serves months from `files` (month 'YYYY-MM' → (file name, bytes)); others are not found."""

    mock: responses.RequestsMock
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    download_headers: list[dict[str, str]] = field(default_factory=list)
    tokens_issued: int = 0
    token_faults: list[int] = field(default_factory=list)
    report_faults: list[int] = field(default_factory=list)
    download_faults: list[int] = field(default_factory=list)

    def install(self) -> None:
        """Register the three endpoints."""
        self.mock.add_callback(responses.POST, TOKEN_URL, callback=self._token)
        self.mock.add_callback(responses.GET, re.compile(re.escape(REPORT_URL) + r"/.*"), callback=self._report)
        self.mock.add_callback(responses.GET, re.compile(rf"https://{re.escape(DOWNLOAD_HOST)}/.*"), callback=self._download)

    def _token(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls["token"] += 1
        if self.token_faults:
            return self.token_faults.pop(0), {}, "fault"
        form = parse_qs(str(request.body))
        if form.get("client_id") != [CLIENT_ID] or form.get("client_secret") != [CLIENT_SECRET]:
            return 401, {}, json.dumps({"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("scope") != ["adx_reporting::appstore:marketer"]:
            return 400, {}, json.dumps({"error": "invalid_scope", "error_description": "scope not allowed"})
        self.tokens_issued += 1
        body = {"access_token": f"Atc|token-{self.tokens_issued}", "token_type": "bearer", "expires_in": 3600, "scope": form["scope"][0]}
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _report(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        self.calls["report"] += 1
        if self.report_faults:
            return self.report_faults.pop(0), {}, "fault"
        if request.headers.get("Authorization") != f"Bearer Atc|token-{self.tokens_issued}":
            return 401, {}, "Unauthorized"
        match = re.search(r"/(\w+)/(\d{4})/(\d{1,2})$", str(request.url))
        if match is None or match[1] != "sales":
            return 400, {}, f"Unable to fetch the request scope for uri = {request.url}"
        month = f"{match[2]}-{int(match[3]):02d}"
        if month not in self.files:
            return 400, {}, "Report not found"
        name = self.files[month][0]
        return (
            200,
            {"Content-Type": "text/plain"},
            f"https://{DOWNLOAD_HOST}/85923/sales/{name}?X-Amz-Expires=299&X-Amz-Signature={SIGNATURE}\n",
        )

    def _download(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        self.calls["download"] += 1
        self.download_headers.append(dict(request.headers))
        if self.download_faults:
            return self.download_faults.pop(0), {}, b"<Error><Code>AccessDenied</Code></Error>"
        name = str(request.url).split("?")[0].rsplit("/", 1)[-1]
        body = next(data for file_name, data in self.files.values() if file_name == name)
        return 200, {"Content-Type": "binary/octet-stream", "Content-Length": str(len(body))}, body
