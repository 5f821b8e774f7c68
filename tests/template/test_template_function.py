"""The archiver function: code location, settings, environment, schedule, retries and IAM."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from archiver.core.report_types import REPORT_TYPES
from infra.template.load import REPO_ROOT, function_environment, resource, resources_of_type
from tests.template.conftest import EXISTING_SECRET, PARAMETER_SETS, PHYSICAL_IDS, Resolver, archive_bucket

FUNCTION = "ArchiverFunction"

#: The function's environment contract: these names, no more, no fewer.
ENVIRONMENT_CONTRACT: tuple[str, ...] = (
    "SECRET_ID",
    "ARCHIVE_BUCKET",
    "ARCHIVE_PREFIX",
    "GLUE_DATABASE",
    "GLUE_TABLE",
    "START_MONTH",
    "LOOKBACK_MONTHS",
    "APPSTORE_TOKEN_URL",
    "APPSTORE_REPORT_URL",
    "APPSTORE_SCOPE",
    "DOWNLOAD_ALLOWED_HOSTS",
    "REPORTS",
    "ARCHIVE_BUCKET_OWNER",
    "MAX_DECOMPRESSED_BYTES",
    "LEASE_WAIT_SECONDS",
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
)

#: The default download host patterns: S3 endpoints only, `*` never spanning a dot.
S3_HOSTS = (
    "s3.amazonaws.com,*.s3.amazonaws.com,s3.*.amazonaws.com,*.s3.*.amazonaws.com,"
    "s3.dualstack.*.amazonaws.com,*.s3.dualstack.*.amazonaws.com,s3-*.amazonaws.com,*.s3-*.amazonaws.com"
)

#: IAM actions that read or change data; none of them may be granted on "*".
DATA_ACTION_PREFIXES = ("s3:", "glue:", "secretsmanager:", "kms:", "sqs:", "sns:", "lambda:", "athena:", "logs:")

S3_OBJECT_ACTIONS = {
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
}
GLUE_ACTIONS = {"glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:CreatePartition", "glue:UpdatePartition"}
VIEW_ACTIONS = {"glue:GetTable", "glue:CreateTable", "glue:UpdateTable"}  # exactly what archiver/answers/typed_views.py calls
JSON_TYPES = tuple(r.name for r in REPORT_TYPES if r.curated == "jsonl")


def function_properties(template: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = resource(template, FUNCTION)["Properties"]
    return properties


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def function_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline policy statements written in the template (SAM `Policies`)."""
    statements: list[dict[str, Any]] = []
    for policy in function_properties(template)["Policies"]:
        assert isinstance(policy, dict) and "Statement" in policy, (
            f"only inline policy documents are allowed, not SAM policy templates or managed policies: {policy!r}"
        )
        statements.extend(policy["Statement"])
    return statements


# --- code and runtime ----------------------------------------------------------------------


def test_handler_points_at_an_existing_lambda_handler(template: dict[str, Any]) -> None:
    properties = function_properties(template)
    code_dir = REPO_ROOT / properties["CodeUri"]
    module, _, handler = properties["Handler"].rpartition(".")
    assert properties["CodeUri"] == "functions/archiver/"
    assert properties["Handler"] == "app.lambda_handler"
    source = code_dir / (module.replace(".", "/") + ".py")
    assert source.is_file(), f"{source.relative_to(REPO_ROOT)} does not exist"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    names |= {target.id for node in tree.body if isinstance(node, ast.Assign) for target in node.targets if isinstance(target, ast.Name)}
    assert handler in names
    assert (code_dir / "archiver" / "__init__.py").is_file()
    assert (code_dir / "requirements.txt").is_file()


def test_runtime_and_sizing(template: dict[str, Any]) -> None:
    properties = function_properties(template)
    assert properties["Runtime"] in ("python3.13", "python3.12")
    assert properties["Architectures"] == ["arm64"]
    assert 600 <= properties["Timeout"] <= 900
    assert properties["MemorySize"] >= 512
    assert properties["EphemeralStorage"]["Size"] >= 1024
    assert properties["ReservedConcurrentExecutions"] == 1
    assert properties["Tracing"] == "Active"
    assert "Layers" not in properties, "dependencies are bundled by sam build, not taken from a layer"


def test_own_log_group_with_retention_parameter(template: dict[str, Any]) -> None:
    log_group = resource(template, "ArchiverLogGroup")
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    properties = log_group["Properties"]
    assert properties["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${ArchiverFunction}"}
    assert properties["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert "KmsKeyId" in properties


# --- environment ---------------------------------------------------------------------------


def test_environment_names_match_the_contract(template: dict[str, Any]) -> None:
    variables = function_properties(template)["Environment"]["Variables"]
    assert sorted(variables) == sorted(ENVIRONMENT_CONTRACT)
    assert len(variables) == len(ENVIRONMENT_CONTRACT)


def test_environment_contract_matches_the_function_settings() -> None:
    settings = pytest.importorskip("archiver.core.settings")
    contract = getattr(settings, "CONTRACT", None)
    if contract is None:
        pytest.skip("archiver.core.settings has no CONTRACT")
    powertools = {name for name in ENVIRONMENT_CONTRACT if name.startswith("POWERTOOLS_")}
    assert set(contract) == set(ENVIRONMENT_CONTRACT) - powertools


def test_environment_defaults(resolver: Resolver) -> None:
    environment = function_environment(resolver({}))
    assert environment == {
        "SECRET_ID": PHYSICAL_IDS["ArchiverSecret"],
        "ARCHIVE_BUCKET": PHYSICAL_IDS["ArchiveBucket"],
        "ARCHIVE_PREFIX": "appstore/",
        "GLUE_DATABASE": "appstore_archive",
        "GLUE_TABLE": "sales",
        "START_MONTH": "2018-01",
        "LOOKBACK_MONTHS": "2",
        "APPSTORE_TOKEN_URL": "https://api.amazon.com/auth/o2/token",
        "APPSTORE_REPORT_URL": "https://developer.amazon.com/api/appstore/download/report",
        "APPSTORE_SCOPE": "adx_reporting::appstore:marketer",
        "DOWNLOAD_ALLOWED_HOSTS": S3_HOSTS,
        "REPORTS": "sales,earnings,earnings_yearly,subscription",
        "ARCHIVE_BUCKET_OWNER": "123456789012",
        "MAX_DECOMPRESSED_BYTES": "2147483648",
        "LEASE_WAIT_SECONDS": "60",
        "POWERTOOLS_SERVICE_NAME": "appstore-archiver",
        "POWERTOOLS_METRICS_NAMESPACE": "AppstoreArchive",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_decompression_cap_is_the_ephemeral_storage(template: dict[str, Any]) -> None:
    properties = function_properties(template)
    cap = int(properties["Environment"]["Variables"]["MAX_DECOMPRESSED_BYTES"])
    assert cap == properties["EphemeralStorage"]["Size"] * 1024 * 1024


def test_download_hosts_default_is_the_function_default() -> None:
    settings = pytest.importorskip("archiver.core.settings")
    assert settings.DEFAULTS["DOWNLOAD_ALLOWED_HOSTS"] == S3_HOSTS


def test_lookback_months_is_at_least_one(template: dict[str, Any]) -> None:
    lookback = template["Parameters"]["LookbackMonths"]
    assert (lookback["Type"], lookback["MinValue"], lookback["Default"]) == ("Number", 1, 2)


def test_environment_uses_existing_bucket_and_secret(resolver: Resolver) -> None:
    environment = function_environment(resolver(PARAMETER_SETS["existing-resources"]))
    assert environment["ARCHIVE_BUCKET"] == "team-data-lake"
    assert environment["SECRET_ID"] == EXISTING_SECRET
    assert environment["ARCHIVE_PREFIX"] == "vendors/amazon/"


def test_existing_resources_are_not_created(resolver: Resolver) -> None:
    context = resolver(PARAMETER_SETS["existing-resources"])
    for logical_id in ("ArchiveBucket", "ArchiveBucketPolicy", "ArchiverSecret"):
        assert not context.is_created(logical_id)
    defaults = resolver({})
    for logical_id in ("ArchiveBucket", "ArchiveBucketPolicy", "ArchiverSecret"):
        assert defaults.is_created(logical_id)


# --- schedule and asynchronous retries -----------------------------------------------------


def test_daily_schedule_is_schedule_v2_with_retries_and_dead_letter_queue(template: dict[str, Any]) -> None:
    events = function_properties(template)["Events"]
    assert len(events) == 1
    (event,) = events.values()
    assert event["Type"] == "ScheduleV2"
    properties = event["Properties"]
    assert properties["ScheduleExpression"] == {"Ref": "ScheduleExpression"}
    assert template["Parameters"]["ScheduleExpression"]["Default"] == "cron(0 2 * * ? *)"
    assert properties["ScheduleExpressionTimezone"] == "UTC"
    assert properties["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert properties["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 60
    assert properties["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}}
    assert properties.get("OmitName") is True, "a fixed schedule name would clash between stacks"


def test_translated_schedule(translated: dict[str, Any]) -> None:
    (schedule,) = resources_of_type(translated, "AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["ArchiverFunction", "Arn"]}
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert "Name" not in schedule["Properties"]


def test_event_invoke_config_has_limited_retries_and_on_failure_queue(template: dict[str, Any], translated: dict[str, Any]) -> None:
    config = function_properties(template)["EventInvokeConfig"]
    assert 0 <= config["MaximumRetryAttempts"] <= 2
    assert config["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["InvokeFailureQueue", "Arn"]},
    }
    (generated,) = resources_of_type(translated, "AWS::Lambda::EventInvokeConfig").values()
    destination = generated["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["InvokeFailureQueue", "Arn"]}


@pytest.mark.parametrize("queue", ["ScheduleDeadLetterQueue", "InvokeFailureQueue"])
def test_failure_queues_are_encrypted(template: dict[str, Any], queue: str) -> None:
    properties = resource(template, queue)["Properties"]
    assert properties.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in properties


# --- IAM -----------------------------------------------------------------------------------


def test_no_managed_policies_or_policy_templates_declared(template: dict[str, Any]) -> None:
    properties = function_properties(template)
    assert "Role" not in properties
    for policy in properties["Policies"]:
        assert isinstance(policy, dict) and set(policy) <= {"Version", "Statement"}


def test_no_wildcard_resource_on_data_actions(template: dict[str, Any], translated: dict[str, Any]) -> None:
    statements = function_statements(template)
    for role in resources_of_type(translated, "AWS::IAM::Role").values():
        for policy in role["Properties"].get("Policies", []):
            statements.extend(policy["PolicyDocument"]["Statement"])
    assert statements
    for statement in statements:
        actions = as_list(statement["Action"])
        assert all(action != "*" and not action.endswith(":*") for action in actions), statement
        if any(action.startswith(DATA_ACTION_PREFIXES) for action in actions):
            for target in as_list(statement["Resource"]):
                assert target != "*", statement
                if isinstance(target, str):
                    assert "*" not in target.split(":::")[-1].split("/")[0], statement


def test_translated_role_attaches_only_the_explained_managed_policies(translated: dict[str, Any]) -> None:
    role = resource(translated, "ArchiverFunctionRole")["Properties"]
    assert sorted(role["ManagedPolicyArns"]) == [
        "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    ]


def statements_by_sid(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement["Sid"]: statement for statement in function_statements(template)}


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_iam_is_scoped_to_secret_prefix_and_table(template: dict[str, Any], resolver: Resolver, parameter_set: str) -> None:
    parameters = PARAMETER_SETS[parameter_set]
    context = resolver(parameters)
    prefix = context.parameters["ArchivePrefix"]
    bucket = archive_bucket(parameters)
    secret = parameters.get("ExistingSecretArn") or PHYSICAL_IDS["ArchiverSecret"]
    statements = {sid: context.resolve(statement) for sid, statement in statements_by_sid(template).items()}
    granted = {action for statement in statements.values() for action in as_list(statement["Action"])}

    secret_statements = [s for s in statements.values() if "secretsmanager:GetSecretValue" in as_list(s["Action"])]
    assert len(secret_statements) == 1
    assert as_list(secret_statements[0]["Action"]) == ["secretsmanager:GetSecretValue"]
    assert secret_statements[0]["Resource"] == secret

    list_statements = [s for s in statements.values() if "s3:ListBucket" in as_list(s["Action"])]
    assert len(list_statements) == 1
    assert as_list(list_statements[0]["Action"]) == ["s3:ListBucket"]
    assert list_statements[0]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert list_statements[0]["Condition"] == {"StringLike": {"s3:prefix": f"{prefix}*"}}

    object_statements = [s for s in statements.values() if S3_OBJECT_ACTIONS & set(as_list(s["Action"]))]
    assert len(object_statements) == 1
    assert set(as_list(object_statements[0]["Action"])) == S3_OBJECT_ACTIONS
    assert as_list(object_statements[0]["Resource"]) == [f"arn:aws:s3:::{bucket}/{prefix}*"]

    glue_statements = [
        s for sid, s in statements.items() if sid != "KeepTypedViews" and any(a.startswith("glue:") for a in as_list(s["Action"]))
    ]
    assert len(glue_statements) == 1
    assert set(as_list(glue_statements[0]["Action"])) == GLUE_ACTIONS  # exactly what archiver/storage/catalog.py calls
    assert sorted(as_list(glue_statements[0]["Resource"])) == [
        "arn:aws:glue:us-east-1:123456789012:catalog",
        "arn:aws:glue:us-east-1:123456789012:database/appstore_archive",
        "arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales",
        "arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales_earnings",
        "arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales_earnings_yearly",
        "arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales_history",
        "arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales_subscription",
    ]

    # Versions are deleted only of curated objects and of the transaction's own pending marker, never of raw copies.
    rollback = [s for s in statements.values() if "s3:DeleteObjectVersion" in as_list(s["Action"])]
    assert len(rollback) == 1
    assert as_list(rollback[0]["Action"]) == ["s3:DeleteObjectVersion"]
    assert as_list(rollback[0]["Resource"]) == [
        *(f"arn:aws:s3:::{bucket}/{prefix}{r.name}/*" for r in REPORT_TYPES),
        *(f"arn:aws:s3:::{bucket}/{prefix}state/{r.name}/pending/*" for r in REPORT_TYPES),
    ]

    (versions,) = [s for s in statements.values() if "s3:ListBucketVersions" in as_list(s["Action"])]
    assert as_list(versions["Action"]) == ["s3:ListBucketVersions"]
    assert versions["Resource"] == f"arn:aws:s3:::{bucket}"
    assert versions["Condition"] == {"StringLike": {"s3:prefix": f"{prefix}*"}}
    (read_versions,) = [s for s in statements.values() if "s3:GetObjectVersion" in as_list(s["Action"])]
    assert as_list(read_versions["Resource"]) == [f"arn:aws:s3:::{bucket}/{prefix}*"]
    (uploads,) = [s for s in statements.values() if "s3:ListBucketMultipartUploads" in as_list(s["Action"])]
    assert as_list(uploads["Action"]) == ["s3:ListBucketMultipartUploads"]
    assert uploads["Resource"] == f"arn:aws:s3:::{bucket}"

    # The typed views: table actions only, on the views' names (archiver/answers/typed_views.py), never on the tables' own names.
    views = statements["KeepTypedViews"]
    assert set(as_list(views["Action"])) == VIEW_ACTIONS
    assert sorted(as_list(views["Resource"])) == [
        "arn:aws:glue:us-east-1:123456789012:catalog",
        "arn:aws:glue:us-east-1:123456789012:database/appstore_archive",
        *(f"arn:aws:glue:us-east-1:123456789012:table/appstore_archive/sales_{name}_typed*" for name in sorted(JSON_TYPES)),
    ]

    allowed = S3_OBJECT_ACTIONS | GLUE_ACTIONS | VIEW_ACTIONS | {"s3:ListBucket", "s3:DeleteObjectVersion"}
    (versioning,) = [s for s in statements.values() if "s3:GetBucketVersioning" in as_list(s["Action"])]
    assert as_list(versioning["Action"]) == ["s3:GetBucketVersioning"]
    assert versioning["Resource"] == f"arn:aws:s3:::{bucket}"

    allowed |= {"s3:ListBucketVersions", "s3:GetObjectVersion", "s3:ListBucketMultipartUploads", "s3:GetBucketVersioning"}
    assert granted <= allowed | {"secretsmanager:GetSecretValue"}
    assert all(statement["Effect"] == "Allow" for statement in statements.values())


def test_translated_role_carries_the_same_scoped_statements(
    template: dict[str, Any], translated: dict[str, Any], translated_resolver: Resolver
) -> None:
    context = translated_resolver({})
    role = resource(translated, "ArchiverFunctionRole")["Properties"]
    statements = [statement for policy in role["Policies"] for statement in context.resolve(policy["PolicyDocument"])["Statement"]]
    s3_resources = {
        target
        for statement in statements
        if any(a.startswith("s3:") for a in as_list(statement["Action"]))
        for target in as_list(statement["Resource"])
    }
    bucket = PHYSICAL_IDS["ArchiveBucket"]
    curated = {f"arn:aws:s3:::{bucket}/appstore/{r.name}/*" for r in REPORT_TYPES}
    pending = {f"arn:aws:s3:::{bucket}/appstore/state/{r.name}/pending/*" for r in REPORT_TYPES}
    assert s3_resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/appstore/*", *curated, *pending}
    send = [s for s in statements if as_list(s["Action"]) == ["sqs:SendMessage"]]
    assert [s["Resource"] for s in send] == ["arn:aws:sqs:us-east-1:123456789012:invoke-failures"]
