"""Alert topic, alarms and dashboard: wiring, metric names and dimensions."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from archiver.run.metrics import METRIC_NAMES as FUNCTION_METRIC_NAMES
from infra.template.load import resource, resources_of_type
from tests.template.conftest import Resolver

#: Every metric the function emits (Powertools EMF).
METRIC_NAMES: list[str] = [
    "MonthsArchived",
    "MonthsUnchanged",
    "MonthsNotFound",
    "MonthsFailed",
    "MonthsDeferred",
    "BytesArchived",
    "RowsArchived",
    "SchemaDrift",
    "HeuristicGuesses",
    "MonthsIncomplete",
    "ReportsUnsupported",
    "RunSucceeded",
    "RunFailed",
    "RunBusy",
]
NAMESPACE = "AppstoreArchive"
DIMENSIONS = [{"Name": "service", "Value": "appstore-archiver"}]
TOPIC = {"Ref": "AlertsTopic"}

SEVEN_DAYS = 7 * 24 * 3600
ONE_DAY = 24 * 3600


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: a["Properties"] for name, a in resources_of_type(template, "AWS::CloudWatch::Alarm").items()}


def emitted_metric_names() -> set[str]:
    """The function's own list of the metrics it emits."""
    return set(FUNCTION_METRIC_NAMES)


def test_our_metric_list_matches_the_function() -> None:
    assert set(FUNCTION_METRIC_NAMES) == set(METRIC_NAMES)


def test_every_alarm_notifies_the_topic_on_alarm_and_ok(template: dict[str, Any]) -> None:
    found = alarms(template)
    assert len(found) >= 9
    for name, alarm in found.items():
        assert alarm["AlarmActions"] == [TOPIC], name
        assert alarm["OKActions"] == [TOPIC], name
        assert alarm.get("ActionsEnabled", True) is True, name
        assert alarm["AlarmDescription"], name


def test_every_alarm_window_is_within_cloudwatch_limits(template: dict[str, Any]) -> None:
    for name, alarm in alarms(template).items():
        window = alarm["Period"] * alarm["EvaluationPeriods"]
        assert window <= (SEVEN_DAYS if alarm["Period"] >= 3600 else ONE_DAY), name
        assert alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) <= alarm["EvaluationPeriods"]


def test_custom_metric_alarms_use_the_powertools_namespace_and_dimension(template: dict[str, Any]) -> None:
    emitted = emitted_metric_names()
    custom = {n: a for n, a in alarms(template).items() if a["Namespace"] == NAMESPACE}
    assert custom
    for name, alarm in custom.items():
        assert alarm["MetricName"] in METRIC_NAMES, name
        assert alarm["MetricName"] in emitted, name
        assert alarm["Dimensions"] == DIMENSIONS, name
    assert {a["MetricName"] for a in custom.values()} >= {"SchemaDrift", "RunSucceeded", "RunFailed", "MonthsFailed"}


def test_powertools_settings_match_the_alarm_dimension(template: dict[str, Any]) -> None:
    variables = resource(template, "ArchiverFunction")["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_SERVICE_NAME"] == DIMENSIONS[0]["Value"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == NAMESPACE


def test_staleness_alarm(template: dict[str, Any]) -> None:
    (alarm,) = [a for a in alarms(template).values() if a.get("MetricName") == "RunSucceeded"]
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "LessThanThreshold"
    assert alarm["Threshold"] == 1
    window = alarm["Period"] * alarm["EvaluationPeriods"]
    assert alarm["Period"] >= 3600
    assert ONE_DAY < window <= 2 * ONE_DAY, "a daily run plus slack"
    assert alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) == alarm["EvaluationPeriods"]


def test_only_a_successful_run_keeps_the_staleness_alarm_quiet(template: dict[str, Any]) -> None:
    """A busy run emits RunBusy alone (tests/unit/test_one_writer.py): runs that are only ever busy leave the alarm breaching."""
    (alarm,) = [a for a in alarms(template).values() if a.get("MetricName") == "RunSucceeded"]
    assert "Metrics" not in alarm and alarm["TreatMissingData"] == "breaching"  # no metric math that could count RunBusy
    busy = [a for a in alarms(template).values() if a.get("MetricName") == "RunBusy"]
    assert all(a["ComparisonOperator"] != "LessThanThreshold" for a in busy)  # a busy run is never a run that kept an alarm quiet


def lambda_alarm(template: dict[str, Any], metric: str) -> dict[str, Any]:
    (alarm,) = [a for a in alarms(template).values() if a["Namespace"] == "AWS/Lambda" and a["MetricName"] == metric]
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "ArchiverFunction"}}]
    return alarm


def test_function_alarms(template: dict[str, Any]) -> None:
    timeout_ms = resource(template, "ArchiverFunction")["Properties"]["Timeout"] * 1000
    errors = lambda_alarm(template, "Errors")
    throttles = lambda_alarm(template, "Throttles")
    for alarm in (errors, throttles):
        assert alarm["Threshold"] == 1
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    duration = lambda_alarm(template, "Duration")
    assert duration["Statistic"] == "Maximum"
    assert 0.5 * timeout_ms <= duration["Threshold"] < timeout_ms


@pytest.mark.parametrize("queue", ["ScheduleDeadLetterQueue", "InvokeFailureQueue"])
def test_queue_depth_alarms(template: dict[str, Any], queue: str) -> None:
    (alarm,) = [
        a
        for a in alarms(template).values()
        if a["Namespace"] == "AWS/SQS" and a["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Threshold"] == 1
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_topic_is_encrypted_with_a_key_cloudwatch_may_use(template: dict[str, Any]) -> None:
    topic = resource(template, "AlertsTopic")["Properties"]
    assert topic["KmsMasterKeyId"] == {"Ref": "OperationsKey"}
    key = resource(template, "OperationsKey")["Properties"]
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert len(cloudwatch) == 1
    assert set(cloudwatch[0]["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    subscription = resource(template, "AlertsEmailSubscription")
    assert subscription["Condition"] == "HasAlarmEmail"
    assert subscription["Properties"]["Protocol"] == "email"


def dashboard_metrics(resolver: Resolver) -> list[list[Any]]:
    context = resolver({})
    context.attributes.update(
        {f"{name}.Arn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}" for name in alarms(context.template)}
    )
    body = json.loads(context.resolve(resource(context.template, "Dashboard")["Properties"]["DashboardBody"]))
    return [metric for widget in body["widgets"] if widget["type"] == "metric" for metric in widget["properties"]["metrics"]]


def test_dashboard_shows_runs_months_bytes_drift_errors_and_duration(resolver: Resolver) -> None:
    metrics = dashboard_metrics(resolver)
    custom = [m for m in metrics if m[0] == NAMESPACE]
    emitted = emitted_metric_names()
    for metric in custom:
        assert metric[1] in METRIC_NAMES and metric[1] in emitted, metric
        assert metric[2:4] == ["service", "appstore-archiver"], metric
    shown = {m[1] for m in custom}
    assert shown >= {
        "RunSucceeded",
        "RunFailed",
        "RunBusy",
        "MonthsArchived",
        "MonthsUnchanged",
        "MonthsNotFound",
        "MonthsFailed",
        "MonthsDeferred",
        "BytesArchived",
        "SchemaDrift",
        "HeuristicGuesses",
        "ReportsUnsupported",  # visible, without an alarm: Amazon's FAQ says subscription may be unsupported
    }
    lambda_metrics = {m[1] for m in metrics if m[0] == "AWS/Lambda"}
    assert lambda_metrics >= {"Errors", "Duration"}


def test_dashboard_alarm_widget_lists_every_alarm(template: dict[str, Any]) -> None:
    body = resource(template, "Dashboard")["Properties"]["DashboardBody"]["Fn::Sub"]
    listed = set(re.findall(r"\$\{(\w+)\.Arn\}", body))
    assert listed == set(alarms(template))
