"""Fixtures for the template tests: the parsed template, its SAM translation, and resolvers."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from infra.template.load import REPO_ROOT, Context, load_template, resource, translate

FUNCTION_SOURCE = REPO_ROOT / "functions" / "archiver"
if str(FUNCTION_SOURCE) not in sys.path:
    sys.path.insert(0, str(FUNCTION_SOURCE))

#: Physical ids standing in for the resources a deployment would name.
PHYSICAL_IDS: dict[str, str] = {
    "ArchiveBucket": "stack-archivebucket-abc123",
    "AccessLogsBucket": "stack-accesslogsbucket-abc123",
    "AthenaResultsBucket": "stack-athenaresultsbucket-abc123",
    "ArchiverSecret": "arn:aws:secretsmanager:us-east-1:123456789012:secret:ArchiverSecret-AbCdEf",
    "ArchiverFunction": "appstore-sales-archive-ArchiverFunction-XYZ",
    "AlertsTopic": "arn:aws:sns:us-east-1:123456789012:appstore-sales-archive-AlertsTopic-XYZ",
    "AthenaWorkGroup": "appstore-sales-archive",
    "Dashboard": "appstore-sales-archive-appstore-archive",
    "OperationsKey": "1234abcd-12ab-34cd-56ef-1234567890ab",
    "ScheduleDeadLetterQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/schedule-dlq",
    "InvokeFailureQueue": "https://sqs.us-east-1.amazonaws.com/123456789012/invoke-failures",
}
ATTRIBUTES: dict[str, str] = {
    "ArchiverFunction.Arn": "arn:aws:lambda:us-east-1:123456789012:function:archiver",
    "ScheduleDeadLetterQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:schedule-dlq",
    "ScheduleDeadLetterQueue.QueueName": "schedule-dlq",
    "InvokeFailureQueue.Arn": "arn:aws:sqs:us-east-1:123456789012:invoke-failures",
    "InvokeFailureQueue.QueueName": "invoke-failures",
    "OperationsKey.Arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
}

#: Parameter sets a deployment may use: defaults, existing bucket and secret, empty prefix.
EXISTING_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team/appstore-AbCdEf"
PARAMETER_SETS: dict[str, dict[str, str]] = {
    "defaults": {},
    "existing-resources": {
        "ExistingBucketName": "team-data-lake",
        "ExistingSecretArn": EXISTING_SECRET,
        "ArchivePrefix": "vendors/amazon/",
    },
    "empty-prefix": {"ArchivePrefix": ""},
}

Resolver = Callable[[Mapping[str, Any]], Context]


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as written (SAM resources untranslated)."""
    return load_template()


@pytest.fixture(scope="session")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the SAM transform (what CloudFormation deploys)."""
    return translate(template)


@pytest.fixture(scope="session")
def resolver(template: dict[str, Any]) -> Resolver:
    """Builds a resolution context for the source template from parameter values."""

    def build(parameters: Mapping[str, Any]) -> Context:
        return Context.for_template(template, parameters, physical_ids=PHYSICAL_IDS, attributes=ATTRIBUTES)

    return build


@pytest.fixture(scope="session")
def translated_resolver(translated: dict[str, Any]) -> Resolver:
    """Builds a resolution context for the translated template from parameter values."""

    def build(parameters: Mapping[str, Any]) -> Context:
        return Context.for_template(translated, parameters, physical_ids=PHYSICAL_IDS, attributes=ATTRIBUTES)

    return build


def archive_bucket(parameters: Mapping[str, str]) -> str:
    """The bucket a parameter set archives into: the existing one it names, else the stack's own."""
    return parameters.get("ExistingBucketName") or PHYSICAL_IDS["ArchiveBucket"]


def resolved_table(resolver: Resolver, parameters: Mapping[str, str], name: str) -> tuple[Context, dict[str, Any]]:
    """The template resolved with a parameter set, and the TableInput of its Glue table `name`, resolved."""
    context = resolver(parameters)
    return context, context.resolve(resource(context.template, name)["Properties"]["TableInput"])


def serde_dialect(serde: Mapping[str, Any]) -> tuple[str, str, str]:
    """A CSV SerDe's separator, quote and escape characters, to compare with `curated_dialect()`."""
    return serde["separatorChar"], serde["quoteChar"], serde["escapeChar"]


def curated_dialect() -> tuple[str | None, str | None, str | None]:
    """The curated writer's separator, quote and escape characters (archiver/formats/sales_csv.py)."""
    from archiver.formats.sales_csv import CuratedDialect

    return CuratedDialect.delimiter, CuratedDialect.quotechar, CuratedDialect.escapechar
