"""`python -m infra.local.athena`: one query, or one of the template's named queries, against the local stack."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from infra.local.athena import AthenaError, LocalAthena, template_queries
from infra.local.config import DATABASE, TABLE, use_endpoint
from infra.local.state import read_state
from infra.local.tables import format_table
from infra.template.load import Context, load_template, resources_of_type

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

EPILOG = f"""\
The local stack's Glue database is {DATABASE!r} (a deployed stack's is 'appstore_archive' by
default): the README's Athena example reads FROM "{DATABASE}"."{TABLE}_typed" here. The
template's views (e.g. {TABLE}_typed) exist as soon as a query names them, and so do the typed
views a run keeps in Glue (e.g. {TABLE}_earnings_typed, docs/reference.md "Typed views"). The endpoint comes
from --endpoint, else AWS_ENDPOINT_URL, else the running `make demo DEMO_ARGS=--keep-running`
(.demo/stack.json)."""


def descriptions() -> dict[str, str]:
    """Each named query's one-line description, by its Name."""
    context = Context.for_template(load_template())
    found: dict[str, str] = {}
    for definition in resources_of_type(context.template, "AWS::Athena::NamedQuery").values():
        properties = definition["Properties"]
        found[str(context.resolve(properties["Name"]))] = " ".join(str(context.resolve(properties.get("Description", ""))).split())
    return found


class LazyClient:
    """A boto3 client created on first use, so a query that needs no AWS call does not pay for importing boto3."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self.client is None:
            import boto3

            self.client = boto3.client(self.service)  # type: ignore[call-overload]
        return getattr(self.client, name)


def parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="python -m infra.local.athena",
        description="Run Athena SQL, or a named query of template.yaml, against the local stack (DuckDB over the curated objects).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("sql", nargs="?", help="Athena SQL to run")
    p.add_argument("--endpoint", default=None, help="the local AWS (moto server) URL")
    p.add_argument("--database", default=DATABASE, help=f"Glue database (default: {DATABASE})")
    p.add_argument("--table", default=TABLE, help=f"Glue table (default: {TABLE})")
    p.add_argument("--named", metavar="NAME", help="run the template's named query NAME (see --list)")
    p.add_argument("--list", action="store_true", help="list the template's named queries: name and description")
    p.add_argument("--show", metavar="NAME", help="print the SQL of the named query NAME")
    p.add_argument("--max-rows", type=int, default=100, help="rows to print (default: 100)")
    return p


def endpoint_of(given: str | None) -> str | None:
    """--endpoint, else AWS_ENDPOINT_URL, else the running demo's endpoint."""
    if given or os.environ.get("AWS_ENDPOINT_URL"):
        return given or os.environ["AWS_ENDPOINT_URL"]
    state = read_state()
    return None if state is None else str(state["endpoint_url"])


def main(argv: list[str] | None = None) -> int:
    """Run one query, or a named query, against the local stack and print it as a table."""
    p = parser()
    args = p.parse_args(argv)
    if args.list:
        for name, text in descriptions().items():
            print(f"{name}\n    {text}")
        return 0
    if args.show:
        queries = template_queries(args.database, args.table)
        if args.show not in queries:
            p.error(f"no named query {args.show!r} (--list shows them)")
        print(queries[args.show].strip())
        return 0
    if bool(args.sql) == bool(args.named):
        p.error("give either SQL or --named NAME (or --list)")
    endpoint = endpoint_of(args.endpoint)
    if not endpoint:
        p.error("no local stack: give --endpoint URL, set AWS_ENDPOINT_URL, or start `make demo DEMO_ARGS=--keep-running`")
    use_endpoint(endpoint)
    glue, s3 = cast("GlueClient", LazyClient("glue")), cast("S3Client", LazyClient("s3"))
    try:
        with LocalAthena(glue, s3, args.database, args.table) as athena:
            athena.defer_views()  # as they would exist in Athena once created
            result = athena.run_named(args.named) if args.named else athena.query(args.sql)
    except AthenaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as exc:
        print(f"error: the local stack at {endpoint} did not answer: {exc}", file=sys.stderr)
        return 1
    print(format_table(result.columns, result.rows, max_rows=args.max_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
