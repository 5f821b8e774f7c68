"""`run`: the real handler in-process against the local stack; against a stack, an async invoke followed in its logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archiver.core.months import Month
from cli.follow import RunLog
from tests.cli.conftest import aws_clients, invoke
from tests.cli.healthy import Healthy
from tests.cli.remote import FUNCTION, deploy


@pytest.fixture
def reports() -> str | None:
    """Sales only, unless a test asks for every type (`reports` parametrized to None)."""
    return "sales"


def test_local_run_archives_the_months_with_progress(local) -> None:
    stack, state = local
    result = invoke("run", "--state-file", str(state), "--months", "2024-01,2024-02")
    assert result.exit_code == 0, result.output
    assert 'event {"months": ["2024-01","2024-02"]}, 2 period(s) planned' in result.stdout
    assert "2024-01  archived" in result.stdout
    assert "2024-02  archived" in result.stdout
    assert "run succeeded: 2 archived" in result.stdout
    listing = stack.clients.s3.list_objects_v2(Bucket=stack.env["ARCHIVE_BUCKET"], Prefix="appstore/raw/sales/year=2024/")
    assert len(listing["Contents"]) == 2


def test_local_run_that_fails_a_month_exits_1(local) -> None:
    stack, state = local
    stack.emulator.inject("download", "corrupt", times=10)
    result = invoke("run", "--state-file", str(state), "--months", "2024-03")
    assert result.exit_code == 1
    assert "2024-03  failed" in result.stdout
    assert "run failed: 1 failed" in result.stdout
    assert "RunFailedError" in result.stdout


def test_local_verify_repair_reruns_the_broken_month(local, healthy: Healthy) -> None:
    _, state = local
    healthy.replace(healthy.store.curated_key(Month(2024, 2)), rows="99")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 0, result.output
    assert 'event {"repair": [{"report": "sales","period": "2024-02"}]}' in result.stdout  # exactly the broken pair, never forced
    assert "2024-02  archived" in result.stdout
    assert "after the repair:" in result.stdout


@pytest.mark.parametrize(
    "flags", [["--months", "2017-12"], ["--from", "2024-05", "--to", "2024-01"], ["--months", "2024-01", "--from", "2024-01"]]
)
def test_an_invalid_event_is_refused_before_anything_runs(local, flags: list[str]) -> None:
    _, state = local
    result = invoke("run", "--state-file", str(state), *flags)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1


def _put_logs(clients, request_id: str, lines: list[str]) -> None:
    group = f"/aws/lambda/{FUNCTION}"
    logs = clients["logs"]
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="2024/01/01/[$LATEST]abc")
    now = int(time.time() * 1000)
    events = [{"timestamp": now + i, "message": line} for i, line in enumerate(lines)]
    logs.put_log_events(logGroupName=group, logStreamName="2024/01/01/[$LATEST]abc", logEvents=events)


def _month_line(request_id: str, month: str, status: str, error: str | None = None) -> str:
    line = {
        "level": "ERROR" if error else "INFO",
        "message": f"sales {month}: {status}",
        "report": "sales",
        "month": month,
        "status": status,
    }
    return json.dumps({**line, **({"error": error} if error else {}), "function_request_id": request_id})


@pytest.mark.parametrize("fail", [False, True], ids=["succeeds", "fails"])
def test_stack_run_invokes_asynchronously_and_follows_the_logs(local, healthy: Healthy, moto_url: str, fail: bool) -> None:
    stack, _ = local
    clients = aws_clients(moto_url)
    name = deploy(clients, healthy, stack.env)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "cli", "run", "--stack", name, "--region", "us-east-1", "--months", "2024-01,2024-02"]
    process = subprocess.Popen(
        [*command, "--poll-seconds", "0.2", "--timeout", "30"], env=env, stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    assert process.stdout is not None
    lines = [process.stdout.readline(), process.stdout.readline()]
    assert 'event {"months": ["2024-01","2024-02"]}, 2 period(s) planned' in lines[0]
    assert lines[1].startswith("started run ")
    request_id = lines[1].split()[2]
    second = (
        _month_line(request_id, "2024-02", "failed", "ReportFormatError: corrupt")
        if fail
        else _month_line(request_id, "2024-02", "unchanged")
    )
    other_run = _month_line("another-request", "2024-03", "failed", "not ours")
    _put_logs(
        clients,
        request_id,
        [
            f"START RequestId: {request_id} Version: $LATEST",
            _month_line(request_id, "2024-01", "archived"),
            other_run,
            second,
            f"END RequestId: {request_id}",
            f"REPORT RequestId: {request_id}\tDuration: 10 ms",
        ],
    )
    out, _ = process.communicate(timeout=60)
    assert process.returncode == (1 if fail else 0), out
    assert "2024-01  archived" in out
    assert "2024-03" not in out
    assert ("run failed: 1 archived, 1 failed" if fail else "run succeeded: 1 archived, 1 unchanged") in out


def test_run_log_reads_only_its_own_request() -> None:
    seen: list[tuple[str, str, str | None]] = []
    run = RunLog("r-1")
    run.read("START RequestId: r-1 Version: $LATEST", lambda *a: seen.append(a))
    run.read(_month_line("r-2", "2024-01", "failed", "x"), lambda *a: seen.append(a))
    run.read(_month_line("r-1", "2024-02", "deferred"), lambda *a: seen.append(a))
    run.read("2024-01-01T00:00:00Z r-1 Task timed out after 900.00 seconds", lambda *a: seen.append(a))
    run.read("REPORT RequestId: r-1 Duration: 1 ms", lambda *a: seen.append(a))
    assert seen == [("sales", "2024-02", "deferred", None)]
    assert run.started and run.ended and run.failed
    assert run.errors == ["Task timed out after 900.00 seconds"]


def _stray_partition(a: Healthy, values: list[str]) -> None:
    """Register a partition of the sales table for a month the archive does not hold."""
    descriptor = a.glue.get_table(DatabaseName=a.database, Name=a.table)["Table"]["StorageDescriptor"]
    location = a.store.location(Month(int(values[0]), int(values[1])))
    partition = {"Values": values, "StorageDescriptor": {**descriptor, "Location": location}}
    a.glue.create_partition(DatabaseName=a.database, TableName=a.table, PartitionInput=partition)


def test_verify_repair_leaves_a_partition_without_a_month_to_a_person(local, healthy: Healthy) -> None:
    _, state = local
    _stray_partition(healthy, ["2018", "01"])
    healthy.replace(healthy.store.curated_key(Month(2024, 2)), rows="99")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 1, result.output
    # not 2018-01: a run cannot remove its partition
    assert 'event {"repair": [{"report": "sales","period": "2024-02"}]}' in result.stdout
    assert "1 problem(s) need a person" in result.stdout
    command = f"glue delete-partition --database-name {healthy.database} --table-name {healthy.table} --partition-values 2018 01"
    assert command in result.stdout
    after = invoke("verify", "--state-file", str(state), "--json")
    assert [(p["check"], p["month"], p["repairable"]) for p in json.loads(after.stdout)["problems"]] == [("partition", "2018-01", False)]


def test_verify_repair_does_not_run_for_problems_a_run_cannot_fix(local, healthy: Healthy) -> None:
    _, state = local
    _stray_partition(healthy, ["2018", "01"])
    stray = f"{healthy.prefix}sales/year=2024/month=02/notes.txt"
    healthy.s3.put_object(Bucket=healthy.bucket, Key=stray, Body=b"x")
    result = invoke("verify", "--state-file", str(state), "--repair")
    assert result.exit_code == 1, result.output
    assert "event" not in result.stdout
    assert "2 problem(s) need a person" in result.stdout
    assert f"s3 cp s3://{healthy.bucket}/{stray} ./{urllib.parse.quote(stray, safe='')}" in result.stdout


def test_local_run_while_another_run_holds_the_lease_is_busy_and_writes_nothing(local) -> None:
    stack, state = local
    doc = json.loads(state.read_text())
    doc["function_env"]["LEASE_WAIT_SECONDS"] = "0"  # no waiting for the lease in a test
    state.write_text(json.dumps(doc))
    expires = (datetime.now(UTC) + timedelta(minutes=20)).isoformat()
    lease = {"holder": "appstore-archiver request r-9", "expires": expires}
    stack.clients.s3.put_object(Bucket=stack.env["ARCHIVE_BUCKET"], Key="appstore/state/lease.json", Body=json.dumps(lease).encode())
    result = invoke("run", "--state-file", str(state), "--months", "2024-01")
    assert result.exit_code == 1, result.output
    assert "run busy" in result.stdout and "r-9" in result.stdout and "nothing was written" in result.stdout
    assert "run succeeded" not in result.stdout and "run failed" not in result.stdout
    assert "Contents" not in stack.clients.s3.list_objects_v2(Bucket=stack.env["ARCHIVE_BUCKET"], Prefix="appstore/raw/")


def test_run_log_reads_a_busy_run() -> None:
    run = RunLog("r-1")
    line = {"level": "WARNING", "message": "run busy: the archive's lease is held by x until y; nothing was written"}
    run.read(json.dumps({**line, "function_request_id": "r-1"}), lambda *a: None)
    assert run.busy == "the archive's lease is held by x until y; nothing was written" and not run.failed
