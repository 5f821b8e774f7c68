"""Local emulator of the Amazon Appstore Reporting API: token, report link and S3-style download."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import sys
import textwrap
import threading
from urllib.parse import urlparse

from infra.local.emulator.app import AppstoreEmulator
from infra.local.emulator.faults import FAULTS
from infra.local.emulator.oauth import REPORTING_SCOPE
from infra.local.emulator.replies import Reply
from infra.local.emulator.report import REPORT_TYPES
from infra.local.emulator.signing import ACCESS_KEY_ID
from infra.local.emulator.state import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

__all__ = [
    "ACCESS_KEY_ID",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "FAULTS",
    "REPORTING_SCOPE",
    "REPORT_TYPES",
    "AppstoreEmulator",
    "Reply",
    "main",
]


ADMIN_HELP = """\
admin endpoints (JSON; POST bodies are JSON objects; base: the printed admin_url):
  GET  /_emulator/health                  token_url, report_url, bucket
  GET  /_emulator/stats                   request counts per endpoint and status
  GET  /_emulator/served                  every report version a download served: month, served
                                          name, SHA-256 (before any corruption fault) and time
  GET  /_emulator/download-headers        headers of the last download requests
  GET  /_emulator/expected-totals?year=Y&month=M
                                          rows and totals the month's report holds
  POST /_emulator/faults {"endpoint": E, "fault": F, "times": N, ...options}
                                          the next N requests to E fail with F:
{faults}
                                          options: "seconds" (delay), "retry_after" (429/503)
  POST /_emulator/months {"year": Y, "month": M, "variant": V, "compression": "zip"|"gzip",
                          "bom": bool, "rows": N, "empty": bool, "header_only": bool,
                          "multi_member": bool}
                                          one month's file (empty: "Report not found")
  POST /_emulator/report-answers {"report": R, "answer": "file"|"not_found"|"unsupported"}
                                          how link requests for report type R are answered
                                          (unsupported: 400 "Unable to fetch the request scope")
  POST /_emulator/restate {"year": Y, "month": M}
                                          Amazon restates the month (an amount cut by 10%,
                                          a refund added); answers the new revision
  POST /_emulator/expire-tokens           every issued token expires
  POST /_emulator/clock {"advance": SECONDS}
                                          move the emulator's clock (expires tokens, links)
  POST /_emulator/reset                   forget tokens, faults, months, restatements, stats

The report files live in --bucket of the S3 that AWS_ENDPOINT_URL (or --s3-endpoint-url) names,
which must be a loopback address (moto server, e.g. `make demo DEMO_ARGS=--keep-running`):
the emulator creates that bucket and writes to it, so it refuses to run against real AWS.
The client secret is $APPSTORE_EMULATOR_CLIENT_SECRET (default: the demo's).
"""


def _admin_help() -> str:
    """ADMIN_HELP with the faults each endpoint accepts."""
    faults = "\n".join(
        textwrap.fill(f"{endpoint}: {', '.join(sorted(names))}", width=100, initial_indent=" " * 42, subsequent_indent=" " * 44)
        for endpoint, names in FAULTS.items()
    )
    return ADMIN_HELP.replace("{faults}", faults)


def loopback(url: str | None) -> bool:
    """Whether a URL names a loopback host (127.0.0.0/8, ::1 or localhost)."""
    host = (urlparse(url).hostname or "") if url else ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="python -m infra.local.appstore_emulator",
        description="Run the Appstore Reporting API emulator (token, report links, presigned downloads) on 127.0.0.1 "
        "until SIGTERM or Ctrl-C; prints its URLs as one JSON line.",
        epilog=_admin_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--bucket", default="appstore-vendor-reports", help="bucket for the report files (created)")
    p.add_argument("--seed", type=int, default=85923, help="seed of the generated sales data")
    p.add_argument("--rows", type=int, default=None, help="rows per month (default: seeded 20-80)")
    p.add_argument("--compression", choices=("zip", "gzip"), default="zip", help="file format served (default: zip)")
    p.add_argument("--variant", default="seed16", help="column layout of the reports (default: seed16)")
    p.add_argument("--bom", action="store_true", help="start each CSV with a UTF-8 byte order mark")
    p.add_argument("--rate-limit", type=int, default=3, help="report-link requests per second; 0 disables (default: 3)")
    p.add_argument("--token-ttl", type=int, default=3600, help="access token lifetime in seconds (default: 3600)")
    p.add_argument("--client-id", default=DEMO_CLIENT_ID, help="the accepted client id (default: the demo's)")
    p.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"), help="loopback S3 (default: $AWS_ENDPOINT_URL)")
    p.add_argument("--verbose", action="store_true", help="log each request (method, path without query, status) to stderr")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT, printing its URLs as one JSON line."""
    args = parser().parse_args(argv)
    if not loopback(args.s3_endpoint_url):
        print(
            "appstore_emulator: refusing to start: the report files go to the S3 at AWS_ENDPOINT_URL (or --s3-endpoint-url), "
            f"which must be a loopback address such as http://127.0.0.1:PORT (moto server); got {args.s3_endpoint_url or 'none'}.\n"
            "Start a local stack with `make demo DEMO_ARGS=--keep-running` and export the AWS_ENDPOINT_URL it prints.",
            file=sys.stderr,
        )
        return 2
    import boto3

    secret = os.environ.get("APPSTORE_EMULATOR_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    region = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    s3 = boto3.client("s3", endpoint_url=args.s3_endpoint_url, region_name=region)
    emulator = AppstoreEmulator(
        s3, bucket=args.bucket, client_id=args.client_id, client_secret=secret, seed=args.seed,
        compression=args.compression, variant=args.variant, bom=args.bom, rows_per_month=args.rows,
        rate_limit=args.rate_limit or None, token_ttl=args.token_ttl, port=args.port, verbose=args.verbose,
    )  # fmt: skip
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with emulator:
        urls = {
            "base_url": emulator.base_url, "token_url": emulator.token_url, "report_url": emulator.report_url,
            "admin_url": emulator.base_url + emulator.admin_path, "bucket": emulator.bucket,
            "client_id": args.client_id, "scope": REPORTING_SCOPE,
        }  # fmt: skip
        print(json.dumps(urls), flush=True)
        while not stop.wait(0.5):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
