"""`make demo DEMO_ARGS=--keep-running`: print how to explore the running stack, publish it in .demo/stack.json, wait."""

from __future__ import annotations

import shlex
import signal
import threading
from pathlib import Path

from infra.local.config import BUCKET, DATABASE, REGION, TABLE
from infra.local.stack import LocalStack
from infra.local.state import STATE_FILE, remove_state, write_state

EXAMPLE = "SELECT year, month, count(*) AS transactions FROM sales GROUP BY 1, 2 ORDER BY 1, 2"
UNITS = "Units by country per month"


def stack_state(stack: LocalStack) -> dict[str, object]:
    """What another tool needs to reach the running stack (the contract of .demo/stack.json, without version and pid)."""
    return {
        "endpoint_url": stack.endpoint,
        "region": REGION,
        "emulator_url": stack.emulator.base_url,
        "bucket": BUCKET,
        "prefix": stack.env["ARCHIVE_PREFIX"],
        "database": DATABASE,
        "table": TABLE,
        "workgroup": None,  # the template names it after the CloudFormation stack; the local stand-in has none
        "function_env": dict(stack.env),
    }


def explain(stack: LocalStack, state_file: Path) -> None:
    """How to explore the running stack."""
    endpoint = stack.endpoint
    print(f"  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION={REGION}")
    print(f"  query:        .venv/bin/python -m infra.local.athena {shlex.quote(EXAMPLE)}")
    print(f"  named query:  .venv/bin/python -m infra.local.athena --named '{UNITS}'   (--list names them)")
    print(f'  Athena\'s "appstore_archive"."sales_typed" is "{DATABASE}"."{TABLE}_typed" here (the local Glue database)')
    print(f"  objects:      aws s3 ls s3://{BUCKET}/{stack.env['ARCHIVE_PREFIX']} --recursive   (with the exports above)")
    print(f"  emulator:     {stack.emulator.base_url}/_emulator/stats   (admin endpoints: python -m infra.local.appstore_emulator --help)")
    print(f"  state file:   {state_file} (endpoints, names and the function's environment, for other tools)")
    print("  the function's environment (template values, Amazon endpoints pointed at the emulator):")
    for name, value in sorted(stack.env.items()):
        print(f"    {name}={value}")


def keep_running(stack: LocalStack, state_file: Path = STATE_FILE) -> None:
    """Publish the stack in the state file, block until Ctrl-C or SIGTERM, then remove the file."""
    stop = threading.Event()
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        write_state(stack_state(stack), state_file)
        explain(stack, state_file)
        print("  (the tools above find the stack through the state file; --endpoint URL overrides it)", flush=True)
        while not stop.wait(0.5):
            pass
        print("\nstopping")
    finally:
        remove_state(state_file)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
