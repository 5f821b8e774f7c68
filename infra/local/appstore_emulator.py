"""Local emulator of the Amazon Appstore Reporting API: token, report link and S3-style download."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from infra.local.emulator.core import AppstoreEmulator
from infra.local.emulator.faults import FAULTS
from infra.local.emulator.oauth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, REPORTING_SCOPE
from infra.local.emulator.replies import Reply
from infra.local.emulator.report import REPORT_TYPES
from infra.local.emulator.signing import ACCESS_KEY_ID

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


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT, printing its URLs as one JSON line."""
    import boto3

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--bucket", default="appstore-vendor-reports")
    parser.add_argument("--seed", type=int, default=85923)
    parser.add_argument("--rows", type=int, default=None, help="rows per month (default: seeded 20-80)")
    parser.add_argument("--compression", choices=("zip", "gzip"), default="zip")
    parser.add_argument("--variant", default="seed16")
    parser.add_argument("--bom", action="store_true")
    parser.add_argument("--rate-limit", type=int, default=3, help="report requests per second; 0 disables")
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--client-id", default=DEMO_CLIENT_ID)
    parser.add_argument("--s3-endpoint-url", default=os.environ.get("AWS_ENDPOINT_URL"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
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
