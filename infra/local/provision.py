"""Create the function's resources in a local AWS (moto) from template.yaml's own definitions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from infra.template.load import TEMPLATE_PATH, Context, function_environment, load_template, resource, resources_of_type

if TYPE_CHECKING:
    from archiver.run.startup import Clients


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Translate a CloudFormation lifecycle rule into the S3 API's shape."""
    api: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    if "NoncurrentVersionExpiration" in rule:
        api["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])}
    if "ExpirationInDays" in rule:
        api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    elif rule.get("ExpiredObjectDeleteMarker"):
        api["Expiration"] = {"ExpiredObjectDeleteMarker": True}
    return api


def provision(
    clients: Clients,
    *,
    bucket: str,
    database: str,
    table: str,
    secret_name: str,
    prefix: str = "appstore/",
    template: Path = TEMPLATE_PATH,
) -> dict[str, str]:
    """Create bucket, secret, Glue database and table as the template defines them; return the function's environment."""
    document = load_template(template)
    parameters = {"ArchivePrefix": prefix, "GlueDatabaseName": database, "GlueTableName": table}
    # Access logging is not emulated locally; its bucket only needs a name to resolve against.
    ids = {"ArchiveBucket": bucket, "AccessLogsBucket": f"{bucket}-access-logs", "ArchiverSecret": secret_name}
    context = Context.for_template(document, parameters, physical_ids=ids)

    def properties(logical_id: str) -> Any:
        return context.resolve(resource(document, logical_id)["Properties"])

    props = properties("ArchiveBucket")
    clients.s3.create_bucket(Bucket=bucket)
    clients.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]})
    encryption: Any = {
        "Rules": [
            {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
    }
    clients.s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption)
    clients.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
    clients.s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})  # type: ignore[typeddict-item]

    secret = properties("ArchiverSecret")
    clients.secrets.create_secret(Name=secret_name, Description=secret["Description"], SecretString=secret["SecretString"])
    clients.glue.create_database(DatabaseInput=properties("GlueDatabase")["DatabaseInput"])
    for logical_id in resources_of_type(document, "AWS::Glue::Table"):  # sales, then each schema-free report type
        table_props = properties(logical_id)
        clients.glue.create_table(DatabaseName=table_props["DatabaseName"], TableInput=table_props["TableInput"])
    return function_environment(context)
