"""`status` against the local stack (state file) and a stack in moto server (outputs, metric, alarms)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archiver.core.months import Month
from archiver.core.periods import Year
from tests.cli.conftest import as_json, aws_clients, invoke
from tests.cli.healthy import Healthy
from tests.cli.remote import deploy


def _states(report: dict, name: str = "sales") -> dict[str, str]:  # type: ignore[type-arg]
    return {m["month"]: m["state"] for m in report["reports"][name]["months"]}


def test_local_status_shows_each_state_and_the_archived_months_figures(local, healthy: Healthy) -> None:
    stack, state = local
    healthy.marker("deferred", Month(2023, 11))
    quarantine = f"{healthy.prefix}quarantine/sales/year=2023/month=10/{'ab' * 32}-sales_2023_10.zip"
    healthy.s3.put_object(Bucket=healthy.bucket, Key=quarantine, Body=b"not a report")
    stack.env["START_MONTH"] = "2023-09"
    state.write_text(state.read_text().replace('"START_MONTH": "2018-01"', '"START_MONTH": "2023-09"'))
    report = as_json(invoke("status", "--state-file", str(state), "--json"))
    states = _states(report)
    assert states["2023-09"] == "missing"
    assert states["2023-10"] == "quarantined"
    assert states["2023-11"] == "deferred"
    assert states["2023-12"] == "not_found"
    assert [states[m] for m in ("2024-01", "2024-02", "2024-03")] == ["archived"] * 3
    january = next(m for m in report["reports"]["sales"]["months"] if m["month"] == "2024-01")
    assert january["rows"] == 3
    assert january["bytes"] > 0
    assert january["archived_at"].startswith(str(datetime.now(UTC).year))
    assert "alarms" not in report  # the local stack has none


def test_local_status_as_a_calendar(local, healthy: Healthy) -> None:
    _, state = local
    result = invoke("status", "--state-file", str(state))
    assert result.exit_code == 0
    for name in ("sales", "earnings", "subscription"):
        assert f"{name}: calendar" in result.stdout
    assert "earnings_yearly: calendar (yearly)" in result.stdout
    assert "2024" in result.stdout
    assert "Archived periods" in result.stdout


def test_no_local_stack_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = invoke("status", "--state-file", str(tmp_path / "stack.json"))
    assert result.exit_code == 2
    assert "no local stack is running" in result.stderr
    assert "make demo DEMO_ARGS=--keep-running" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_stale_state_file_is_reported(local, tmp_path: Path) -> None:
    _, state = local
    stale = tmp_path / "stale.json"
    stale.write_text(state.read_text().replace('"pid": ', '"pid": 99999999, "old_pid": '))
    result = invoke("status", "--state-file", str(stale))
    assert result.exit_code == 2
    assert "not running any more" in result.stderr


def test_stack_status_reads_outputs_metric_and_alarms(local, healthy: Healthy, moto_url: str, monkeypatch) -> None:
    stack, _ = local
    clients = aws_clients(moto_url)
    name = deploy(clients, healthy, stack.env)
    succeeded = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    clients["cloudwatch"].put_metric_data(
        Namespace="AppstoreArchive",
        MetricData=[
            {
                "MetricName": "RunSucceeded",
                "Dimensions": [{"Name": "service", "Value": "appstore-archiver"}],
                "Timestamp": succeeded,
                "Value": 1,
            }
        ],
    )
    for alarm in ("run-failed", "archive-stale"):
        clients["cloudwatch"].put_metric_alarm(
            AlarmName=f"{name}-{alarm}", MetricName="RunFailed", Namespace="AppstoreArchive", Statistic="Sum", Period=3600,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold",
        )  # fmt: skip
    clients["cloudwatch"].set_alarm_state(AlarmName=f"{name}-run-failed", StateValue="ALARM", StateReason="a run failed")
    clients["cloudwatch"].set_alarm_state(AlarmName=f"{name}-archive-stale", StateValue="OK", StateReason="fine")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    report = as_json(invoke("status", "--stack", name, "--region", "us-east-1", "--json"))
    assert report["target"] == f"stack {name} (us-east-1)"
    assert report["archive"] == f"s3://{healthy.bucket}/{healthy.prefix}"
    assert _states(report)["2024-02"] == "archived"
    assert report["last_successful_run"].startswith(succeeded.isoformat()[:13])
    assert [a["name"] for a in report["alarms"]] == [f"{name}-run-failed"]


def test_unknown_stack_is_one_line_and_exit_2(moto_url: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    result = invoke("status", "--stack", "no-such-stack", "--region", "us-east-1")
    assert result.exit_code == 2
    assert "no-such-stack" in result.stderr
    assert "Traceback" not in result.output


def test_local_status_has_one_calendar_per_report_type(local, healthy: Healthy) -> None:
    _, state = local
    healthy.marker("pending", Year(2022), "earnings_yearly")
    healthy.marker("not_found", Month(2024, 3), "earnings")
    healthy.s3.put_object(Bucket=healthy.bucket, Key=f"{healthy.prefix}state/subscription/unsupported.json", Body=b"{}")
    report = as_json(invoke("status", "--state-file", str(state), "--json"))
    assert list(report["reports"]) == ["sales", "earnings", "earnings_yearly", "subscription"]
    yearly = report["reports"]["earnings_yearly"]
    assert (yearly["period"], yearly["table"]) == ("year", "appstore_local.sales_earnings_yearly")
    years = _states(report, "earnings_yearly")
    assert next(iter(years)) == "2018"
    assert list(years)[-1] == str(datetime.now(UTC).year)
    assert (years["2022"], years["2023"], years["2021"]) == ("pending", "archived", "missing")
    assert next(y for y in yearly["months"] if y["month"] == "2023")["rows"] == 4  # the Notes row, one Summary, two Detail
    earnings = _states(report, "earnings")
    assert (earnings["2024-01"], earnings["2024-02"], earnings["2024-03"]) == ("archived", "missing", "not_found")
    assert report["reports"]["earnings"]["counts"]["archived"] == 1
    assert _states(report, "subscription")["2024-02"] == "archived"
    assert report["reports"]["subscription"]["unsupported"]["since"].startswith(str(datetime.now(UTC).year))
    assert report["reports"]["sales"]["unsupported"] is None
    text = invoke("status", "--state-file", str(state)).stdout
    assert "unsupported: the API refused subscription as unknown" in text


def test_status_report_filter_and_the_functions_reports(local, healthy: Healthy) -> None:
    _, state = local
    report = as_json(invoke("status", "--state-file", str(state), "--json", "--report", "earnings_yearly", "--report", "sales"))
    assert list(report["reports"]) == ["sales", "earnings_yearly"]
    document = json.loads(state.read_text())
    document["function_env"]["REPORTS"] = "subscription,earnings"
    state.write_text(json.dumps(document))
    report = as_json(invoke("status", "--state-file", str(state), "--json"))
    assert list(report["reports"]) == ["earnings", "subscription"]
    refused = invoke("status", "--state-file", str(state), "--report", "royalties")
    assert refused.exit_code == 2


def test_months_before_start_month_are_not_planned_not_missing(local, healthy: Healthy) -> None:
    _, state = local
    document = json.loads(state.read_text())
    document["function_env"]["START_MONTH"] = "2024-06"
    state.write_text(json.dumps(document))
    report = as_json(invoke("status", "--state-file", str(state), "--json", "--report", "sales"))
    states = _states(report)
    assert next(iter(states)) == "2023-12"  # the calendar starts at the earliest period the archive holds
    assert (states["2023-12"], states["2024-01"], states["2024-03"]) == ("not_found", "archived", "archived")
    assert (states["2024-04"], states["2024-05"]) == ("not_planned", "not_planned")  # the default plan starts at 2024-06
    assert states["2024-06"] == "missing"
    assert report["reports"]["sales"]["counts"]["not_planned"] == 2
    text = invoke("status", "--state-file", str(state), "--report", "sales").stdout
    assert "2 not planned" in text
    assert ". not planned" in text


def test_a_narrow_output_gets_whole_calendars_and_figures(local, healthy: Healthy, monkeypatch) -> None:
    _, state = local
    monkeypatch.setenv("COLUMNS", "60")
    text = invoke("status", "--state-file", str(state)).stdout
    assert "year Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec" in text  # without the box, the calendar fits
    assert "2018 2019 2020" in text
    assert "…" not in text
