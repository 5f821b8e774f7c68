"""The demo's command line, progress lines and state file (.demo/stack.json) as other tools read it."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from infra.local.demo import start_month
from infra.local.progress import RunOutput, progress_line
from infra.local.state import read_state, remove_state, write_state

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CURRENT = datetime.now(UTC).strftime("%Y-%m")


@pytest.mark.parametrize("text", ["2017-05", "2017-12", "2018-00", "2018-13", "2018-1", "18-01", "soon", "9999-01"])
def test_start_month_rejects_months_without_reports_and_malformed_ones(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        start_month(text)


def test_start_month_accepts_2018_01_to_now() -> None:
    assert start_month("2018-01") == "2018-01" and start_month(CURRENT) == CURRENT


def test_demo_rejects_an_early_start_month_before_starting_anything() -> None:
    done = subprocess.run([sys.executable, "-m", "infra.local.demo", "--start-month", "2017-05"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2 and "before 2018-01" in done.stderr and done.stdout == ""


def test_month_log_lines_become_progress_lines_and_metrics_are_kept() -> None:
    shown = io.StringIO()
    out = RunOutput(shown)
    archived = {
        "level": "INFO",
        "message": "sales 2024-03: archived",
        "month": "2024-03",
        "status": "archived",
        "rows": 1234,
        "bytes": 56700,
    }
    emf = {"_aws": {"CloudWatchMetrics": []}, "MonthsArchived": [1]}
    out.write(json.dumps(archived) + "\n" + json.dumps(emf))
    out.write("\n" + json.dumps({"month": "2018-01", "status": "not_found"}) + "\n")
    assert shown.getvalue().splitlines() == [
        "  sales           2024-03  archived        1,234 rows    56.7 KB",
        "  sales           2018-01  not_found",
    ]
    assert json.loads(out.kept.getvalue()) == emf and out.months == 2
    failed = progress_line({"month": "2024-04", "status": "failed", "error": "DownloadError: broke off"})
    assert failed == "  sales           2024-04  failed        DownloadError: broke off"
    yearly = progress_line({"report": "earnings_yearly", "month": "2025", "status": "unchanged", "bytes": 2600})
    assert yearly == "  earnings_yearly 2025     unchanged        2.6 KB"
    guessed = progress_line({"report": "earnings", "month": "2025-01", "status": "archived", "rows": 3, "guesses": 2})
    assert guessed == "  earnings        2025-01  archived            3 rows  2 heuristic guess(es)"


def test_state_file_is_written_whole_read_while_its_process_lives_and_removed_by_its_writer(tmp_path: Path) -> None:
    path = tmp_path / ".demo" / "stack.json"
    write_state({"endpoint_url": "http://127.0.0.1:1"}, path)
    state = read_state(path)
    assert state == {"version": 1, "pid": os.getpid(), "endpoint_url": "http://127.0.0.1:1"}
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    path.write_text(json.dumps({**state, "pid": int(gone.stdout)}))
    assert read_state(path) is None  # stale: its process is gone
    remove_state(path)
    assert path.exists()  # not this process's file
    write_state({}, path)
    remove_state(path)
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_keep_running_publishes_the_stack_until_sigterm(tmp_path: Path) -> None:
    state_file = tmp_path / "stack.json"
    report, printed = tmp_path / "report.html", tmp_path / "stdout.txt"
    command = [sys.executable, "-m", "infra.local.demo", "--keep-running", "--start-month", CURRENT, "--state-file", str(state_file)]
    command += ["--report", str(report)]
    with printed.open("w") as stdout:
        process = subprocess.Popen(command, cwd=REPO, stdout=stdout, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not state_file.exists():
            assert process.poll() is None and time.monotonic() < deadline, "the demo ended or took too long"
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        assert state["version"] == 1 and state["pid"] == process.pid
        assert (state["database"], state["table"], state["bucket"], state["prefix"]) == (
            "appstore_local",
            "sales",
            "appstore-archive-local",
            "appstore/",
        )
        assert state["region"] == "us-east-1" and state["workgroup"] is None
        assert {"SECRET_ID", "ARCHIVE_BUCKET", "GLUE_DATABASE", "APPSTORE_TOKEN_URL"} <= state["function_env"].keys()
        assert requests.get(f"{state['emulator_url']}/_emulator/health", timeout=5).status_code == 200
        env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
        query = [sys.executable, "-m", "infra.local.athena", "SELECT count(*) FROM sales_typed"]
        # The query tool finds the stack through the state file when no endpoint is given.
        found = subprocess.run(
            [*query[:3], "--endpoint", state["endpoint_url"], *query[3:]], cwd=REPO, env=env, capture_output=True, text=True
        )
        assert found.returncode == 0, found.stderr
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert not state_file.exists()
    # The demo ends (before keeping the stack) by writing the report of its one-month archive and printing its path.
    lines = printed.read_text().splitlines()
    finished = next(i for i, line in enumerate(lines) if line.startswith("Demo finished"))
    assert lines[finished + 1] == f"Report of the demo archive (one HTML file, opens offline): {report.resolve()}"
    assert "Units per month, by app" in report.read_text()
