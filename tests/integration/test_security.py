"""Issue 5's security checks: nothing secret in any log line, TLS always verified, no Authorization
header to the download host, and the template's least-privilege and TLS-only rules."""

from __future__ import annotations

import datetime as dt
import io
import ipaddress
import json
import logging
import re
import ssl
import threading
import traceback
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import app
from archiver.amazon import appstore
from archiver.core.months import Month
from archiver.core.report_types import REPORT_TYPES
from archiver.run import service
from archiver.run.pipeline import Pipeline
from infra.local.appstore_emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from infra.local.stack import BUCKET, DATABASE, FUNCTION_DIR, SECRET, TABLE, LocalStack
from infra.template.load import Context, load_template, resource

pytestmark = pytest.mark.integration

THIS = Month.of(datetime.now(UTC))
LAST = THIS.shift(-1)
WRONG_SECRET = "wrong-client-secret-0123456789abcdef"
PRESIGNED = ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Algorithm")


@pytest.fixture(autouse=True)
def cold_start() -> None:
    """No cached Appstore token from an earlier test."""
    appstore._TOKEN_CACHE.clear()


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """A reader of what was written since its last call: the handler's JSON log lines (at DEBUG),
    every other logger at INFO, and stdout and stderr (EMF metrics, anything printed)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(app.logger.registered_formatter)
    level = app.logger.log_level
    app.logger.addHandler(handler)
    app.logger.setLevel("DEBUG")
    caplog.set_level(logging.INFO)

    def read() -> str:
        out, err = capfd.readouterr()
        text = "\n".join([buffer.getvalue(), caplog.text, out, err])
        buffer.seek(0)
        buffer.truncate()
        caplog.clear()
        return text

    yield read
    app.logger.removeHandler(handler)
    app.logger.setLevel(level)


def run(stack: LocalStack, run_event: Any = None) -> str:
    """Invoke; return the raised error with its traceback as Lambda would report it, or ''."""
    try:
        stack.invoke(run_event)
    except Exception as exc:
        return "".join(traceback.format_exception(exc))
    return ""


def wrong_secret(stack: LocalStack) -> str:
    appstore._TOKEN_CACHE.clear()  # a new execution environment: the run must log in
    stack.clients.secrets.put_secret_value(
        SecretId=SECRET, SecretString=json.dumps({"client_id": DEMO_CLIENT_ID, "client_secret": WRONG_SECRET})
    )
    return run(stack, {"months": [str(THIS)]})


def bad_secret(value: dict[str, str] | str) -> Callable[[LocalStack], str]:
    def scenario(stack: LocalStack) -> str:
        text = value if isinstance(value, str) else json.dumps(value)
        stack.clients.secrets.put_secret_value(SecretId=SECRET, SecretString=text)
        return run(stack, {"months": [str(THIS)]})

    return scenario


def faulted(*faults: tuple[str, str | int, int, dict[str, Any]], force: bool = True) -> Callable[[LocalStack], str]:
    """A forced run of this month with faults injected."""

    def scenario(stack: LocalStack) -> str:
        appstore._TOKEN_CACHE.clear()  # a new execution environment: the run must log in
        for endpoint, fault, times, options in faults:
            stack.emulator.inject(endpoint, fault, times, **options)
        return run(stack, {"months": [str(THIS)], "force": force})

    return scenario


def expired_tokens(stack: LocalStack) -> str:
    stack.emulator.expire_tokens()  # the token cached by the first run is refused mid-flight
    return run(stack, {"months": [str(LAST), str(THIS)], "force": True})


def glue_table_missing(stack: LocalStack) -> str:
    stack.clients.glue.delete_table(DatabaseName=DATABASE, Name=TABLE)
    return run(stack, {"months": [str(THIS)]})


SCENARIOS: dict[str, tuple[Callable[[LocalStack], str], str]] = {
    "success": (faulted(force=True), f"sales {THIS}: archived"),
    "token-500-twice": (faulted(("token", 500, 2, {})), f"sales {THIS}: archived"),
    "invalid-client": (wrong_secret, "invalid_client"),
    "invalid-scope": (faulted(("token", "invalid_scope", 5, {})), "invalid_scope"),
    "token-expired-mid-run": (expired_tokens, f"sales {LAST}: archived"),
    "link-expired": (faulted(("download", "expired_link", 1, {})), f"sales {THIS}: archived"),
    "link-expired-always": (faulted(("download", "expired_link", 5, {})), "LinkExpired"),
    "truncated-always": (faulted(("download", "truncate", 5, {})), "DownloadError"),
    "download-500": (faulted(("download", 500, 5, {})), "HTTP 500"),
    "corrupt-file": (faulted(("download", "corrupt", 5, {})), "ReportFormatError"),
    "report-redirect": (faulted(("report", "redirect", 1, {})), f"sales {THIS}: archived"),
    "link-outside-allowed-hosts": (
        faulted(("report", "bare_url", 1, {"url": "http://127.0.0.2:9/x.zip?X-Amz-Credential=c&X-Amz-Signature=s"})),
        "LinkRefused",
    ),
    "secret-not-json": (bad_secret(f"client_secret={WRONG_SECRET}"), "not a JSON object"),
    "secret-without-client-id": (bad_secret({"client_secret": WRONG_SECRET}), "'client_id'"),
    "invalid-event": (lambda stack: run(stack, {"months": ["2024-13"], "secret": WRONG_SECRET}), "unknown event key"),
    "glue-table-missing": (glue_table_missing, "does not exist"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_log_line_holds_a_secret_token_or_signature(stack: LocalStack, everything_logged: Callable[[], str], name: str) -> None:
    stack.invoke({"months": [str(LAST), str(THIS)]})  # a full successful run first; its lines are checked too
    first = everything_logged()
    assert f"sales {LAST}: archived" in first and "RunSucceeded" in first  # the capture holds the handler's lines and metrics
    scenario, expected = SCENARIOS[name]
    error = scenario(stack)
    text = everything_logged() + error
    assert expected in text  # the scenario's own lines
    seen = stack.emulator.stats()
    assert seen["token"][200] >= 1 and seen["download"][200] >= 2  # real secrets, tokens and signed links were in play
    for forbidden in (DEMO_CLIENT_SECRET, WRONG_SECRET, "Atc|", "Bearer", *PRESIGNED):
        assert forbidden not in first + text, f"{forbidden!r} leaked into the logs"
    assert not re.search(r"https?://\S+\?\S*", first + text), "a URL with a query string was logged"


# ----- TLS -----
def test_every_request_verifies_tls(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[Pipeline] = []
    verify: list[Any] = []
    real_send = requests.adapters.HTTPAdapter.send

    def record_pipeline(*args: Any, **kwargs: Any) -> Pipeline:
        built.append(Pipeline(*args, **kwargs))
        return built[-1]

    def record_send(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        verify.append(kwargs.get("verify"))
        return real_send(adapter, request, **kwargs)

    monkeypatch.setattr(service, "Pipeline", record_pipeline)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", record_send)
    stack.invoke({"months": [str(LAST), str(THIS)]})
    (pipeline,) = built
    for session in (pipeline.downloads, pipeline.appstore._session):
        assert session.verify is True
        assert session.trust_env is False  # no CA bundle or proxy swapped in from the environment
    assert len(verify) >= 5  # token, two links, two downloads
    assert set(verify) == {True}


def test_source_never_disables_tls_verification() -> None:
    patterns = re.compile(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context|disable_warnings")
    sources = sorted(FUNCTION_DIR.rglob("*.py"))
    assert len(sources) > 10
    offending = [f"{p.name}:{n}" for p in sources for n, line in enumerate(p.read_text().splitlines(), 1) if patterns.search(line)]
    assert offending == []


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that no CA signed, and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def test_untrusted_certificate_on_the_download_host_is_refused(stack: LocalStack, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"PK")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        link = f"https://127.0.0.1:{server.server_address[1]}/vendor/sales.zip"
        assert requests.get(link, verify=str(cert), timeout=5).status_code == 200  # the server works for a client that trusts it
        stack.emulator.inject("report", "bare_url", times=3, url=link)
        error = run(stack, {"months": [str(THIS)]})
    finally:
        server.shutdown()
        server.server_close()
    assert "RunFailedError" in error
    assert "SSLError" in error
    assert paths == ["/vendor/sales.zip"]  # only the trusting client's request got through the handshake


# ----- the download host never sees the Authorization header -----
@pytest.mark.parametrize("shape", ["bare_url", "json_url", "redirect", "expired-then-fresh"])
def test_download_requests_carry_no_authorization(stack: LocalStack, shape: str) -> None:
    if shape == "expired-then-fresh":
        stack.emulator.inject("download", "expired_link")
    elif shape != "bare_url":
        stack.emulator.inject("report", shape, times=2)
    result = stack.invoke({"months": [str(LAST), str(THIS)]})
    assert {r["status"] for r in result["results"]} == {"archived"}
    headers = stack.emulator.download_headers
    assert len(headers) == (3 if shape == "expired-then-fresh" else 2)
    for sent in headers:
        assert "authorization" not in {name.lower() for name in sent}
        assert not any("Atc|" in value for value in sent.values())


# ----- the template -----
def _context() -> Context:
    return Context.for_template(
        load_template(),
        physical_ids={"ArchiveBucket": BUCKET, "ArchiverSecret": f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{SECRET}"},
        attributes={"ArchiveBucket.Arn": f"arn:aws:s3:::{BUCKET}"},
    )


def test_function_policies_grant_no_data_action_on_everything() -> None:
    context = _context()
    policies = context.resolve(resource(context.template, "ArchiverFunction")["Properties"]["Policies"])
    statements = [s for policy in policies if isinstance(policy, dict) for s in policy["Statement"]]
    assert statements
    database = context.ref("GlueDatabase")
    names = ("SalesTable", "SalesHistoryTable", "EarningsTable", "EarningsYearlyTable", "SubscriptionTable")
    tables = [context.ref(name) for name in names]
    for statement in statements:
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        assert statement["Effect"] == "Allow"
        assert all("*" not in action.split(":", 1)[0] and action.split(":", 1)[1] != "*" for action in actions), statement
        for arn in resources:
            assert arn != "*" and not arn.endswith(":*"), statement
            views = (
                f":table/{database}/{context.ref(name)}_typed*" for name in names[2:]
            )  # the typed views (archiver/answers/typed_views.py)
            scoped = (
                f":::{BUCKET}",
                f"secret:{SECRET}",
                f":database/{database}",
                *(f":table/{database}/{t}" for t in tables),
                *views,
                ":catalog",
            )
            assert any(arn.endswith(end) or f"{end}/" in arn for end in scoped), arn
        if actions == ["s3:DeleteObjectVersion"]:  # a rollback: curated objects and pending markers only, never raw copies
            curated = [f"arn:aws:s3:::{BUCKET}/appstore/{report.name}/*" for report in REPORT_TYPES]
            assert resources == [*curated, *(f"arn:aws:s3:::{BUCKET}/appstore/state/{r.name}/pending/*" for r in REPORT_TYPES)]
        elif set(actions) <= {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:GetBucketVersioning"}:
            assert resources == [f"arn:aws:s3:::{BUCKET}"]
        elif any(a.startswith("s3:") for a in actions):
            assert resources == [f"arn:aws:s3:::{BUCKET}/appstore/*"]


def test_archive_bucket_denies_requests_without_tls() -> None:
    context = _context()
    policy = context.resolve(resource(context.template, "ArchiveBucketPolicy")["Properties"]["PolicyDocument"])
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert len(denies) == 1
    (deny,) = denies
    assert deny["Principal"] in ("*", {"AWS": "*"})
    assert deny["Action"] in ("s3:*", ["s3:*"])
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"}
