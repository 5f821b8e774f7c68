"""samconfig.toml, outputs, checkov skip reasons, the README deploy section, and the parameter and alarm tables."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from infra.template.load import REPO_ROOT, resources_of_type

README = REPO_ROOT / "README.md"
REFERENCE = REPO_ROOT / "docs" / "reference.md"
OPERATIONS = REPO_ROOT / "docs" / "operations.md"
START, END = "<!-- deploy:start -->", "<!-- deploy:end -->"


def deploy_section() -> str:
    text = README.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1
    return text[text.index(START) + len(START) : text.index(END)]


def table_rows(section: str, header: str) -> list[list[str]]:
    """The body rows of the markdown table whose header row starts with `header`."""
    lines = section.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(f"| {header} |")]
    assert len(starts) == 1, f"one table whose header starts with {header!r}"
    start = starts[0]
    rows: list[list[str]] = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_samconfig_defaults_for_guided_deploy() -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    default = config["default"]
    assert default["global"]["parameters"]["stack_name"] == "appstore-sales-archive"
    deploy = default["deploy"]["parameters"]
    assert "CAPABILITY_IAM" in deploy["capabilities"].split()
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
    assert "parameter_overrides" not in deploy, "parameters are chosen with sam deploy --guided"


def test_outputs_name_every_piece_and_the_next_steps(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in (
        "ArchiveBucketName",
        "GlueDatabaseName",
        "GlueTableName",
        "AthenaWorkGroupName",
        "ArchiverFunctionName",
        "SecretArn",
        "AlertsTopicArn",
        "DashboardUrl",
        "PutSecretValueCommand",
        "BackfillCommand",
    ):
        assert name in outputs
    put = outputs["PutSecretValueCommand"]["Value"]["Fn::Sub"][0]
    assert put.startswith("aws secretsmanager put-secret-value ")
    assert "file://" in put, "credentials never go on a command line"
    backfill = outputs["BackfillCommand"]["Value"]["Fn::Sub"]
    assert backfill.startswith("sam remote invoke ArchiverFunction ")
    assert "InvocationType=Event" in backfill


def test_every_checkov_skip_has_a_reason(template: dict[str, Any]) -> None:
    skips = [
        (logical_id, skip)
        for logical_id, definition in template["Resources"].items()
        for skip in definition.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for logical_id, skip in skips:
        assert re.fullmatch(r"CKV2?_AWS_\d+", skip["id"]), (logical_id, skip)
        assert len(skip.get("comment", "").split()) >= 8, (logical_id, skip)


def test_reference_parameter_table_matches_the_template(template: dict[str, Any]) -> None:
    rows = table_rows(REFERENCE.read_text(encoding="utf-8"), "Parameter")
    documented = {row[0].strip("`"): row[1] for row in rows}
    assert list(documented) == list(template["Parameters"])
    for name, spec in template["Parameters"].items():
        default = str(spec.get("Default", ""))
        expected = "*(empty)*" if default == "" else f"`{default}`"
        assert documented[name] == expected, name


def test_operations_alarm_table_matches_the_template(template: dict[str, Any]) -> None:
    rows = table_rows(OPERATIONS.read_text(encoding="utf-8"), "Alarm")
    documented = {row[0].strip("`") for row in rows}
    names = {
        alarm["Properties"]["AlarmName"]["Fn::Sub"].removeprefix("${AWS::StackName}-")
        for alarm in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
    }
    assert documented == names


@pytest.mark.parametrize("marker", ["sam build", "sam deploy --guided", "put-secret-value", "sam remote invoke"])
def test_readme_walks_through_the_deploy(marker: str) -> None:
    assert marker in deploy_section()


def test_readme_links_are_relative_and_exist() -> None:
    section = deploy_section()
    links = re.findall(r"\]\(([^)]+)\)", section)
    assert links
    for link in links:
        assert not re.match(r"[a-z]+://", link), link
        assert (REPO_ROOT / link.split("#")[0]).exists(), link
    assert not re.search(r"(^|\s)/(work|tmp|home|root)/", section)
