"""A stand-in for the deployed stack in moto server: a stack whose outputs name the archive, a function, a workgroup."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from tests.cli.healthy import Healthy

STACK = "appstore-sales-archive"
FUNCTION = "appstore-sales-archive-ArchiverFunction"
WORKGROUP = "appstore-sales-archive"


def _zip() -> bytes:
    """A function package (moto's Lambda without Docker never runs it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def lambda_handler(event, context):\n    return {}\n")
    return buffer.getvalue()


def deploy(clients: dict[str, Any], archive: Healthy, env: dict[str, str]) -> str:
    """Create the function, workgroup and a CloudFormation stack with the template's output names; the stack name."""
    role = clients["iam"].create_role(RoleName="archiver", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))
    clients["lambda"].create_function(
        FunctionName=FUNCTION,
        Runtime="python3.13",
        Role=role["Role"]["Arn"],
        Handler="app.lambda_handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": env},
    )
    clients["athena"].create_work_group(Name=WORKGROUP, Configuration={"ResultConfiguration": {"OutputLocation": "s3://results/"}})
    outputs = {
        "ArchiveBucketName": archive.bucket,
        "ArchiveLocation": f"s3://{archive.bucket}/{archive.prefix}sales/",
        "GlueDatabaseName": archive.database,
        "GlueTableName": archive.table,
        "AthenaWorkGroupName": WORKGROUP,
        "ArchiverFunctionName": FUNCTION,
    }
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    clients["cloudformation"].create_stack(StackName=STACK, TemplateBody=json.dumps(template))
    return STACK
