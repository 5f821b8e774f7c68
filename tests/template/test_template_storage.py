"""Buckets, the secret, the Glue table and the Athena workgroup and named queries."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from archiver.answers.completeness import COLUMNS as PERIOD_COLUMNS
from archiver.answers.periods_table import periods_folder
from archiver.answers.typed_views import views
from archiver.core.report_types import BY_NAME, JSON_COLUMNS, JSON_SERDE, REPORT_TYPES
from archiver.formats import schema
from infra.template.load import named_queries, resource, resources_of_type
from tests.template.conftest import PARAMETER_SETS, PHYSICAL_IDS, Resolver, archive_bucket, curated_dialect, resolved_table, serde_dialect

#: The schema-free report types' Glue tables by report type.
JSON_TABLES = {"earnings": "EarningsTable", "earnings_yearly": "EarningsYearlyTable", "subscription": "SubscriptionTable"}
BUCKETS = ("ArchiveBucket", "AccessLogsBucket", "AthenaResultsBucket")
BUCKET_POLICIES = {
    "ArchiveBucket": "ArchiveBucketPolicy",
    "AccessLogsBucket": "AccessLogsBucketPolicy",
    "AthenaResultsBucket": "AthenaResultsBucketPolicy",
}

#: What a publisher needs to be able to ask, by words that must appear in a query's Name.
REQUIRED_QUERIES = (
    ("revenue", "earnings"),
    ("units", "country"),
    ("refund",),
    ("subscription", "term"),
    ("latest", "transactions"),
    ("typed", "view"),
    ("completeness", "period"),
    ("sales", "month", "status"),
)


def lifecycle_rules(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    return [rule for rule in rules if rule["Status"] == "Enabled"]


# --- buckets -------------------------------------------------------------------------------


@pytest.mark.parametrize("logical_id", BUCKETS)
def test_bucket_is_hardened(template: dict[str, Any], logical_id: str) -> None:
    bucket = resource(template, logical_id)
    properties = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert bucket["UpdateReplacePolicy"] == "Retain"
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert "AccessControl" not in properties
    assert any(rule.get("AbortIncompleteMultipartUpload") == {"DaysAfterInitiation": 1} for rule in lifecycle_rules(bucket))
    assert any("NoncurrentVersionExpiration" in rule for rule in lifecycle_rules(bucket))


@pytest.mark.parametrize("logical_id", BUCKETS)
def test_bucket_policy_denies_insecure_transport(template: dict[str, Any], logical_id: str) -> None:
    policy = resource(template, BUCKET_POLICIES[logical_id])
    assert policy["Properties"]["Bucket"] == {"Ref": logical_id}
    assert policy.get("Condition") == resource(template, logical_id).get("Condition")
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert len(deny) == 1
    assert deny[0]["Principal"] == "*"
    assert deny[0]["Action"] == "s3:*"
    assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny[0]["Resource"] == [
        {"Fn::GetAtt": [logical_id, "Arn"]},
        {"Fn::Sub": f"${{{logical_id}.Arn}}/*"},
    ]
    for statement in statements:
        if statement["Effect"] == "Allow":
            assert statement["Principal"] != "*"


def test_archive_bucket_lifecycle_and_logging(template: dict[str, Any]) -> None:
    bucket = resource(template, "ArchiveBucket")
    assert bucket["Condition"] == "CreateBucket"
    rules = lifecycle_rules(bucket)
    noncurrent = {rule["Prefix"]["Fn::Sub"]: rule["NoncurrentVersionExpiration"] for rule in rules if "NoncurrentVersionExpiration" in rule}
    derived = [f"${{ArchivePrefix}}{report.name}/" for report in REPORT_TYPES] + ["${ArchivePrefix}state/", "${ArchivePrefix}periods/"]
    # Only derived objects' old versions expire: what Amazon served (raw/, quarantine/) is kept for good.
    assert noncurrent == {key: {"NoncurrentDays": {"Ref": "NoncurrentVersionRetentionDays"}} for key in derived}
    assert not any("ExpirationInDays" in rule for rule in rules), "the archive itself never expires"
    # A rollback makes the previous curated version current again: a week of failing runs must not outlive it.
    assert template["Parameters"]["NoncurrentVersionRetentionDays"]["MinValue"] >= 7
    logging = bucket["Properties"]["LoggingConfiguration"]
    assert logging["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}


def test_athena_results_expire(template: dict[str, Any]) -> None:
    rules = lifecycle_rules(resource(template, "AthenaResultsBucket"))
    assert [rule["ExpirationInDays"] for rule in rules if "ExpirationInDays" in rule] == [{"Ref": "AthenaResultsRetentionDays"}]


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_access_log_delivery_is_limited_to_this_stacks_buckets(resolver: Resolver, parameter_set: str) -> None:
    context = resolver(PARAMETER_SETS[parameter_set])
    policy = context.resolve(resource(context.template, "AccessLogsBucketPolicy")["Properties"]["PolicyDocument"])
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    sources = allow["Condition"]["ArnLike"]["aws:SourceArn"]
    expected = [f"arn:aws:s3:::{PHYSICAL_IDS['AthenaResultsBucket']}"]
    if context.condition("CreateBucket"):
        expected.append(f"arn:aws:s3:::{PHYSICAL_IDS['ArchiveBucket']}")
    assert sources == expected
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


# --- secret --------------------------------------------------------------------------------


def test_secret_is_a_placeholder_and_no_parameter_carries_credentials(template: dict[str, Any]) -> None:
    secret = resource(template, "ArchiverSecret")
    assert secret["Condition"] == "CreateSecret"
    value = json.loads(secret["Properties"]["SecretString"])
    assert sorted(value) == ["client_id", "client_secret"]
    assert all(v.startswith("REPLACE_WITH_") for v in value.values())
    for name, spec in template["Parameters"].items():
        assert not re.search(r"client|password|token|credential", name, re.IGNORECASE), name
        assert "NoEcho" not in spec
    assert template["Conditions"]["CreateSecret"] == {"Fn::Equals": [{"Ref": "ExistingSecretArn"}, ""]}


# --- Glue ----------------------------------------------------------------------------------


def test_glue_columns_equal_the_canonical_columns(template: dict[str, Any]) -> None:
    table = resource(template, "SalesTable")["Properties"]["TableInput"]
    columns = table["StorageDescriptor"]["Columns"]
    assert tuple(column["Name"] for column in columns) == tuple(schema.CANONICAL_COLUMNS)
    assert len(columns) == 22
    assert {column["Type"] for column in columns} == {"string"}
    keys = table["PartitionKeys"]
    assert tuple(key["Name"] for key in keys) == tuple(schema.PARTITION_KEYS)
    assert {key["Type"] for key in keys} == {"string"}


def test_glue_table_reads_gzip_csv_with_a_header(template: dict[str, Any]) -> None:
    table = resource(template, "SalesTable")["Properties"]
    assert table["DatabaseName"] == {"Ref": "GlueDatabase"}
    table_input = table["TableInput"]
    assert table_input["TableType"] == "EXTERNAL_TABLE"
    assert table_input["Parameters"]["skip.header.line.count"] == "1"
    assert not any(key.startswith("projection") for key in table_input["Parameters"]), "no partition projection"
    storage = table_input["StorageDescriptor"]
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert storage["OutputFormat"] == "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    serde = storage["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert serde["Parameters"]["separatorChar"] == ","
    assert serde["Parameters"]["quoteChar"] == '"'
    assert serde["Parameters"]["escapeChar"] == "\\"


def test_glue_serde_matches_the_curated_writer(template: dict[str, Any]) -> None:
    serde = resource(template, "SalesTable")["Properties"]["TableInput"]["StorageDescriptor"]["SerdeInfo"]["Parameters"]
    assert serde_dialect(serde) == curated_dialect()


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_glue_table_location_is_the_curated_prefix(resolver: Resolver, parameter_set: str) -> None:
    parameters = PARAMETER_SETS[parameter_set]
    context, table_input = resolved_table(resolver, parameters, "SalesTable")
    bucket = archive_bucket(parameters)
    prefix = context.parameters["ArchivePrefix"]
    assert table_input["StorageDescriptor"]["Location"] == f"s3://{bucket}/{prefix}sales/"
    assert table_input["Name"] == "sales"
    assert context.ref("GlueDatabase") == "appstore_archive"


# --- Athena --------------------------------------------------------------------------------


def test_workgroup_enforces_its_configuration(template: dict[str, Any]) -> None:
    properties = resource(template, "AthenaWorkGroup")["Properties"]
    configuration = properties["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert configuration["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"
    result = configuration["ResultConfiguration"]
    assert result["OutputLocation"] == {"Fn::Sub": "s3://${AthenaResultsBucket}/results/"}
    assert result["EncryptionConfiguration"]["EncryptionOption"] in ("SSE_S3", "SSE_KMS")
    assert template["Parameters"]["AthenaBytesScannedCutoff"]["MinValue"] >= 10485760


def test_named_queries_cover_what_a_publisher_asks(template: dict[str, Any], resolver: Resolver) -> None:
    queries = named_queries(resolver({}))
    names = [name.lower() for name in queries]
    for words in REQUIRED_QUERIES:
        assert any(all(word in name for word in words) for name in names), words
    for definition in resources_of_type(template, "AWS::Athena::NamedQuery").values():
        properties = definition["Properties"]
        assert properties["WorkGroup"] == {"Ref": "AthenaWorkGroup"}
        assert properties["Database"] == {"Ref": "GlueDatabase"}
        tables = [f'"${{GlueDatabase}}"."${{{t}}}"' for t in ("SalesTable", "SalesHistoryTable", *JSON_TABLES.values(), "PeriodsTable")]
        tables += [
            f'"${{GlueDatabase}}"."${{{table}}}_typed"' for table in JSON_TABLES.values()
        ]  # a typed view (archiver/answers/typed_views.py)
        assert any(table in properties["QueryString"]["Fn::Sub"] for table in tables)


def test_typed_view_query(resolver: Resolver) -> None:
    queries = named_queries(resolver({}))
    (sql,) = [sql for name, sql in queries.items() if "typed" in name.lower() and "view" in name.lower()]
    assert sql.startswith('CREATE OR REPLACE VIEW "appstore_archive"."sales_typed" AS')
    assert 'FROM "appstore_archive"."sales"' in sql
    assert "try_cast(units AS integer) AS units" in sql
    assert "try_cast(sales_price AS decimal(18, 6)) AS sales_price" in sql
    assert "try(date_parse(substr(transaction_time, 1, 19), '%Y-%m-%d %H:%i:%s')) AS transaction_ts" in sql


def test_named_queries_run_on_duckdb_through_sqlglot(resolver: Resolver) -> None:
    """The local stand-in transpiles the queries (athena -> duckdb); they must also run."""
    sqlglot = pytest.importorskip("sqlglot")
    duckdb = pytest.importorskip("duckdb")
    queries = named_queries(resolver({}))
    connection = duckdb.connect()
    connection.execute("CREATE SCHEMA appstore_archive")
    columns = [*schema.CANONICAL_COLUMNS, *schema.PARTITION_KEYS]
    connection.execute(f"CREATE TABLE appstore_archive.sales ({', '.join(f'{c} VARCHAR' for c in columns)})")
    history = [*schema.CANONICAL_COLUMNS, "fetched_at", "source_sha256", *schema.PARTITION_KEYS]
    connection.execute(f"CREATE TABLE appstore_archive.sales_history ({', '.join(f'{c} VARCHAR' for c in history)})")
    for report in JSON_TABLES:
        keys = ", ".join(f"{k} VARCHAR" for k in BY_NAME[report].partition_keys)
        connection.execute(
            f"CREATE TABLE appstore_archive.sales_{report} (section VARCHAR, line BIGINT, fields MAP(VARCHAR, VARCHAR), {keys})"
        )
    kinds = {"string": "VARCHAR", "bigint": "BIGINT"}
    connection.execute(f"CREATE TABLE appstore_archive.sales_periods ({', '.join(f'{n} {kinds[t]}' for n, t in PERIOD_COLUMNS)})")
    connection.execute(
        "INSERT INTO appstore_archive.sales_periods (report, period, year, month, status) "
        "VALUES ('sales', '2024-03', '2024', '03', 'archived'), ('sales', '2024-04', '2024', '04', 'not_found')"
    )
    rows = [
        {"transaction_time": "2024-03-05 10:11:12 UTC", "transaction_type": "Charge", "units": "1"},
        {"transaction_time": "bogus", "transaction_type": "Refund", "units": "", "sales_price": "n/a"},
        {"in_app_subscription_term": "1 Month", "in_app_subscription_status": "Paid"},
        {"transaction_type": "Sale", "units": "2", "month": "02"},  # a month the periods object does not list (yet)
    ]
    for row in rows:
        values = {"title": "App", "marketplace_currency": "USD", "sales_price": "0.99", "year": "2024", "month": "03"}
        values.update(row)
        connection.execute(
            f"INSERT INTO appstore_archive.sales VALUES ({', '.join('?' for _ in columns)})",
            [values.get(column, "") for column in columns],
        )
    # The typed earnings view the archive keeps (archiver/answers/typed_views.py), as it is for the illustrative earnings files.
    earnings = {"Marketplace": "varchar", "Payment Amount": "decimal:2", "Payment Currency": "varchar", "Payment Status": "varchar"}
    earnings |= {"Earnings Before Tax": "decimal:2", "Currency": "varchar"}
    (typed,) = views(BY_NAME["earnings"], "appstore_archive", "sales_earnings", {None: {**earnings, "Payment Date": "date:mdy"}})
    connection.execute(sqlglot.transpile(f'CREATE VIEW "appstore_archive"."{typed.name}" AS {typed.sql}', read="athena", write="duckdb")[0])
    connection.execute(
        "INSERT INTO appstore_archive.sales_earnings VALUES (NULL, 2, MAP {'Payment Amount': '(1,004.18)', 'Payment Currency': 'USD',"
        " 'Payment Status': 'Issued', 'Payment Date': '4/28/2024',"
        " 'Earnings Before Tax': '1,234.50', 'Currency': 'EUR'}, '2024', '03')"
    )
    results = {}
    for name in sorted(queries, key=lambda n: "view" not in n.lower()):
        (statement,) = sqlglot.transpile(queries[name], read="athena", write="duckdb")
        results[name] = connection.execute(statement).fetchall()
    (monthly,) = [rows for name, rows in results.items() if "status" in name.lower() and "sales" in name.lower()]
    assert [(row[0], row[1], row[4]) for row in monthly] == [("2024-04", "not_found", 0), ("2024-03", "archived", 3)]
    # The monthly sales queries keep a row per month of the periods table: 2024-04 (not_found, no sales rows) appears
    # once with its status, 0 transactions and NULL figures; 2024-03 keeps its exact figures; 2024-02, archived but not
    # in the periods table yet, keeps its figures with a NULL status.
    empty = ("2024", "04", "not_found", None)
    march, february = ("2024", "03", "archived"), ("2024", "02", None)
    cents = Decimal("1.980000")
    assert results["Revenue and earnings by app and currency per month"] == [
        (*empty, None, 0, None, None, None),
        (*march, "App", "USD", 3, 1, cents, None),
        (*february, "App", "USD", 1, 2, Decimal("0.99"), None),
    ]
    assert results["Units by country per month"] == [(*empty, 0, None), (*march, "", 3, 1), (*february, "", 1, 2)]
    assert results["Refunds by app per month"] == [(*empty, None, 0, None, None, None), (*march, "App", "USD", 1, None, None, None)]
    assert results["Subscriptions by term per month"] == [
        (*empty, None, None, None, None, 0, None, None, None),
        (*march, "App", "", "1 Month", "Paid", "USD", 1, None, Decimal("0.99"), None),
    ]
    assert results["Units and sales by app, SKU and marketplace per month"] == [
        (*empty, None, None, None, 0, None, None, None),
        (*march, "App", "", "", "USD", 3, 1, cents, None),
        (*february, "App", "", "", "USD", 1, 2, Decimal("0.99"), None),
    ]
    typed = {
        row[0]: row[1:]
        for row in connection.execute(
            "SELECT transaction_type, units, sales_price, transaction_ts FROM appstore_archive.sales_typed"
        ).fetchall()
    }
    assert typed["Charge"][0] == 1
    assert str(typed["Charge"][1]) == "0.990000"
    assert str(typed["Charge"][2]) == "2024-03-05 10:11:12"
    assert typed["Refund"] == (None, None, None), "malformed values become NULL, not errors"
    (paid,) = connection.execute(
        sqlglot.transpile(queries["What Amazon paid per month (typed earnings)"], read="athena", write="duckdb")[0]
    ).fetchall()
    assert paid == ("2024", "03", "USD", "Issued", 1, Decimal("-1004.18"), date(2024, 4, 28))
    (approved,) = connection.execute(
        sqlglot.transpile(queries["Earnings before tax per month and currency (typed earnings)"], read="athena", write="duckdb")[0]
    ).fetchall()
    assert approved == ("2024", "03", "EUR", 1, Decimal("1234.50"))


# --- the schema-free report tables -----------------------------------------------------------


@pytest.mark.parametrize("report", sorted(JSON_TABLES))
def test_json_table_columns_serde_and_partitions_match_the_code(template: dict[str, Any], report: str) -> None:
    table_input = resource(template, JSON_TABLES[report])["Properties"]["TableInput"]
    storage = table_input["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(JSON_COLUMNS)
    assert tuple(k["Name"] for k in table_input["PartitionKeys"]) == BY_NAME[report].partition_keys
    assert all(k["Type"] == "string" for k in table_input["PartitionKeys"])
    assert storage["SerdeInfo"]["SerializationLibrary"] == JSON_SERDE == "org.apache.hive.hcatalog.data.JsonSerDe"
    assert storage["SerdeInfo"]["Parameters"] == {"serialization.format": "1"}
    assert storage["InputFormat"] == "org.apache.hadoop.mapred.TextInputFormat"
    assert storage["Compressed"] is True
    assert table_input["Parameters"]["classification"] == "json"
    assert "PartitionProjection" not in str(table_input)


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
@pytest.mark.parametrize("report", sorted(JSON_TABLES))
def test_json_table_name_and_location_follow_the_layout(resolver: Resolver, parameter_set: str, report: str) -> None:
    parameters = PARAMETER_SETS[parameter_set]
    context, table_input = resolved_table(resolver, parameters, JSON_TABLES[report])
    bucket = archive_bucket(parameters)
    prefix = context.parameters["ArchivePrefix"]
    assert table_input["StorageDescriptor"]["Location"] == f"s3://{bucket}/{BY_NAME[report].table_prefix(prefix)}"
    assert table_input["Name"] == BY_NAME[report].table_name("sales")
    assert context.ref(JSON_TABLES[report]) == BY_NAME[report].table_name("sales")


def test_every_json_table_has_a_named_query_reading_fields_by_name(template: dict[str, Any]) -> None:
    queries = [d["Properties"]["QueryString"]["Fn::Sub"] for d in resources_of_type(template, "AWS::Athena::NamedQuery").values()]
    for logical_id in JSON_TABLES.values():
        assert any(f'."${{{logical_id}}}"' in sql and "element_at(fields, '" in sql for sql in queries), logical_id


def test_reports_parameter_accepts_exactly_the_code_table(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["Reports"]
    assert parameter["Default"] == ",".join(BY_NAME)
    pattern = re.compile(parameter["AllowedPattern"])
    for good in ("sales", "earnings_yearly,sales", ",".join(BY_NAME)):
        assert pattern.fullmatch(good)
    for bad in ("", "sales,", "Sales", "sales, earnings", "payments"):
        assert not pattern.fullmatch(bad)


# --- the periods table ---------------------------------------------------------------------


def test_periods_table_columns_and_serde_match_the_code(template: dict[str, Any]) -> None:
    table_input = resource(template, "PeriodsTable")["Properties"]["TableInput"]
    storage = table_input["StorageDescriptor"]
    assert [(c["Name"], c["Type"]) for c in storage["Columns"]] == list(PERIOD_COLUMNS)
    assert "PartitionKeys" not in table_input, "unpartitioned: a later account column needs no new layout"
    assert storage["SerdeInfo"]["SerializationLibrary"] == "org.apache.hive.hcatalog.data.JsonSerDe"
    assert (storage["InputFormat"], storage["Compressed"]) == ("org.apache.hadoop.mapred.TextInputFormat", True)
    assert table_input["Parameters"]["classification"] == "json"


@pytest.mark.parametrize("parameter_set", sorted(PARAMETER_SETS))
def test_periods_table_name_and_location_follow_the_layout(resolver: Resolver, parameter_set: str) -> None:
    parameters = PARAMETER_SETS[parameter_set]
    context, table_input = resolved_table(resolver, parameters, "PeriodsTable")
    bucket = archive_bucket(parameters)
    assert table_input["StorageDescriptor"]["Location"] == f"s3://{bucket}/{periods_folder(context.parameters['ArchivePrefix'])}"
    assert table_input["Name"] == "sales_periods"


def test_the_monthly_sales_query_keeps_every_month_of_the_periods_table(resolver: Resolver) -> None:
    queries = named_queries(resolver({}))
    (sql,) = [sql for name, sql in queries.items() if "status" in name.lower() and "sales" in name.lower()]
    assert 'FROM "appstore_archive"."sales_periods" AS p' in sql and "LEFT JOIN" in sql and "WHERE p.report = 'sales'" in sql
